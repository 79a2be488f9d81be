"""Lag, zero-lag reference and reference distance (wflwv.metrics.lag): analytic values."""

import numpy as np
import pytest

from wflwv.metrics.lag import (delay_terms, frame_interval_s, lag_frames, pareto_rank, ref_distance,
                               segment_bounds, solve_delay, zero_lag_reference)
from wflwv.metrics.lag_scores import aggregate_stability, make_reference, video_stability


def _track(T, seed=0, n=5):
    """A smooth moving face of ``n`` points: [T, n, 2] pixels."""
    rng = np.random.default_rng(seed)
    t = np.arange(T, dtype=np.float64)[:, None]
    ph = rng.uniform(0, 6, (1, n))
    x = 200 + 40 * np.sin(0.09 * t + ph) + 15 * np.arange(n)
    y = 150 + 25 * np.cos(0.06 * t + ph) + 10 * np.arange(n)
    return np.stack([x, y], -1)


def _ema(x, alpha):
    y = x.copy()
    for i in range(1, len(x)):
        y[i] = alpha * x[i] + (1 - alpha) * y[i - 1]
    return y


@pytest.mark.parametrize("k", [0, 1, 2, 5, 9])
def test_pure_delay_of_k_frames_gives_lag_k(k):
    base = _track(140)
    ref = base[20:120]
    x = base[20 - k:120 - k]            # x_t = ref_{t-k}: late by k frames
    assert lag_frames(x, ref)[0] == pytest.approx(k, abs=1e-9)
    if k:
        assert lag_frames(ref, x)[0] == pytest.approx(-k, abs=1e-9)   # leading is negative


def test_identical_tracks_give_exactly_zero_and_static_gives_nan():
    ref = _track(80)
    assert lag_frames(ref.copy(), ref)[0] == 0.0
    still = np.repeat(ref[:1], 80, axis=0)
    assert np.isnan(lag_frames(still, still)[0])


def test_fractional_delay_on_linear_motion_is_exact():
    t = np.arange(100.0)[:, None]
    ref = np.stack([2.0 * t + 50 * np.arange(4), 0.5 * t + 30 * np.arange(4) + 60], -1)
    x = ref - 0.4 * np.array([2.0, 0.5])              # ref(t - 0.4)
    assert lag_frames(x, ref)[0] == pytest.approx(0.4, abs=1e-9)


@pytest.mark.parametrize("alpha", [0.25, 0.5, 0.75])
def test_ema_on_a_ramp_lags_by_one_minus_alpha_over_alpha(alpha):
    t = np.arange(150.0)[:, None]
    ref = np.stack([3.0 * t + 40 * np.arange(3), -t + 20 * np.arange(3) + 400], -1)
    y = _ema(ref, alpha)
    got = lag_frames(y[40:], ref[40:])[0]              # skip the start-up transient
    assert got == pytest.approx((1 - alpha) / alpha, abs=1e-6)


def test_ragged_videos_each_get_their_own_delay_and_pooling_adds_terms():
    a, b = _track(90, 1), _track(120, 2)
    ref = np.concatenate([a[10:], b[10:]])
    x = np.concatenate([a[7:-3], b[8:-2]])            # delays 3 and 2
    off = np.array([0, 80, 190])
    lags = lag_frames(x, ref, off)
    np.testing.assert_allclose(lags, [3.0, 2.0], atol=1e-9)
    t = delay_terms(x, ref, off)
    assert t["P"].shape == (2, 21) and t["Q"].shape == (2, 20)
    np.testing.assert_array_equal(t["n_used"], [80 - 20, 110 - 20])
    x2 = np.concatenate([a[7:-3], b[7:-3]])
    t2 = delay_terms(x2, ref, off)
    assert solve_delay(t2["P"].sum(0), t2["Q"].sum(0))["lag"] == pytest.approx(3.0, abs=1e-9)


def test_delay_fit_never_crosses_a_break_or_missing_frame():
    base = _track(130)
    ref = base[10:110].copy()
    x = base[8:108].copy()                             # late by 2
    ref[50:] += 300.0                                  # a cut: the face jumps
    x[50:] += 300.0
    breaks = np.zeros(100, bool)
    breaks[50] = True
    valid = np.ones(100, bool)
    valid[80] = False
    x[80] = np.nan
    t = delay_terms(x, ref, None, valid, breaks, max_lag=5)
    # segments [0,50) [50,80) [81,100): usable frames are those 5 from both ends of a segment
    assert int(t["n_used"][0]) == (50 - 10) + (30 - 10) + (19 - 10)
    # frames 50..51 of x hold pre-cut positions (x_t = base_{t-2} + 300 from 52 on): exclude those too
    assert solve_delay(t["P"], t["Q"])["lag"][0] == pytest.approx(2.0, abs=0.05)


def test_censored_when_the_delay_exceeds_max_lag():
    base = _track(160)
    r = solve_delay(**{k: v for k, v in delay_terms(base[12:150], base[20:158], max_lag=4).items()
                       if k in ("P", "Q")})
    assert r["lag"][0] == 4.0 and bool(r["censored"][0])


def test_zero_lag_reference_is_exact_for_linear_motion_and_time_symmetric():
    t = np.arange(40.0)[:, None]
    lin = np.stack([1.5 * t + np.arange(3) * 9, -0.7 * t + 100 + np.arange(3)], -1)
    np.testing.assert_allclose(zero_lag_reference(lin), lin, atol=1e-9)      # edges included
    rng = np.random.default_rng(3)
    noisy = _track(60) + rng.normal(0, 2.0, (60, 5, 2))
    fwd = zero_lag_reference(noisy)
    back = zero_lag_reference(noisy[::-1])[::-1]
    np.testing.assert_allclose(fwd, back, atol=1e-9)                        # no direction: no delay
    # smoothing shrinks the curvature of a sinusoid a little; it does not shift it in time
    assert lag_frames(zero_lag_reference(_track(200)), _track(200))[0] == pytest.approx(0.0, abs=0.02)


def test_zero_lag_reference_stays_inside_segments():
    x = np.zeros((20, 1, 2))
    x[10:] = 100.0
    breaks = np.zeros(20, bool)
    breaks[10] = True
    ref = zero_lag_reference(x, None, None, breaks, sigma=3.0)
    np.testing.assert_allclose(ref[:10], 0.0, atol=1e-12)
    np.testing.assert_allclose(ref[10:], 100.0, atol=1e-12)
    valid = np.ones(20, bool)
    valid[4] = False
    x[4] = np.nan
    ref = zero_lag_reference(x, [0, 20], valid, breaks)
    assert np.isnan(ref[4]).all() and np.isfinite(ref[valid]).all()


def test_ref_distance_of_a_constant_offset():
    ref = _track(30)
    fs = np.sqrt(np.ptp(ref[..., 0], 1) * np.ptp(ref[..., 1], 1))
    got = ref_distance(ref + np.array([3.0, 4.0]), ref)                      # |offset| = 5 px
    assert got[0] == pytest.approx(100.0 * np.mean(5.0 / fs))


def test_segment_bounds_and_frame_interval():
    valid = np.array([1, 1, 1, 0, 1, 1, 1, 1], bool)
    breaks = np.zeros(8, bool)
    breaks[6] = True
    vid, lo, hi = segment_bounds([0, 5, 8], valid, breaks)
    np.testing.assert_array_equal(vid, [0, 0, 0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(lo[valid], [0, 0, 0, 4, 5, 6, 6])
    np.testing.assert_array_equal(hi[valid], [3, 3, 3, 5, 6, 8, 8])
    times = np.array([0, .04, .08, .12, .16, 0, 1 / 30, 2 / 30])
    np.testing.assert_allclose(frame_interval_s(times, [0, 5, 8], valid), [0.04, 1 / 30])


def test_pareto_rank():
    np.testing.assert_array_equal(pareto_rank([1, 2, 3, 0.5, np.nan], [0, 0, -1, 2, 1]), [0, 1, 2, 0, -1])


def test_bad_input_is_refused_with_the_row():
    x = _track(30)
    x[7, 2, 0] = np.nan
    with pytest.raises(ValueError, match="row 7"):
        lag_frames(x, _track(30))
    with pytest.raises(ValueError, match="max_lag"):
        lag_frames(_track(30), _track(30), max_lag=0)


def test_filter_lag_is_zero_for_raw_and_positive_for_ema_with_and_without_gt():
    rng = np.random.default_rng(5)
    gt = np.concatenate([_track(100, 7), _track(100, 8)])
    raw = gt + rng.normal(0, 1.5, gt.shape)
    off, valid = np.array([0, 100, 200]), np.ones(200, bool)
    times = np.concatenate([np.arange(100) / 25.0, np.arange(100) / 25.0])
    ema = np.concatenate([_ema(raw[:100], 0.5), _ema(raw[100:], 0.5)])
    for g in (gt, None):
        ref = make_reference(raw, off, valid, times, gt=g)
        none = aggregate_stability(video_stability(ref, raw), np.arange(2))
        late = aggregate_stability(video_stability(ref, ema), np.arange(2))
        assert none["lag_frames"] == 0.0 and none["lag_ms"] == 0.0
        assert late["lag_frames"] == pytest.approx(1.0, abs=0.15)             # (1 - alpha) / alpha
        assert late["lag_ms"] == pytest.approx(late["lag_frames"] * 40.0)
        assert late["jitter_d2"] < none["jitter_d2"]
