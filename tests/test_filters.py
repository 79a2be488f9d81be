"""Temporal filters: exact parity with casiez/OneEuroFilter and filterpy vectors, plus API."""

import numpy as np
import pytest

from wflwv.filters import apply_segments, create, parse_filter_specs
from wflwv.filters.kalman import KalmanCV, kalman_cv
from wflwv.registry import UnknownNameError

SIGNALS = {  # name: (freq, mincutoff, beta, dcutoff) from parity params.json
    "regular_30hz_t0_zero": (25.0, 1.0, 0.05, 1.0),
    "irregular_timestamps": (25.0, 0.7, 0.3, 1.5),
    "repeated_and_backwards_timestamp": (60.0, 2.0, 0.01, 1.0),
    "no_timestamps": (50.0, 1.2, 0.5, 1.0),
}
KALMAN = {  # file: (q, r, v0, atol)
    "kalman_px_30fps": (20000.0, 4.0, 1e4, 1e-9),
    "kalman_normalised_25fps": (0.5, 1e-4, 0.25, 1e-12),
    "kalman_px_30fps_missing": (20000.0, 4.0, 1e4, 1e-9),
}


def _scalar(f, x, t):
    """Run a [T, N, 2] filter on one scalar signal."""
    return f(np.repeat(np.asarray(x, float)[:, None, None], 2, axis=2), t)[:, 0, 0]


def _euro(freq, mc, beta, dc, **kw):
    return create("one-euro", freq=freq, min_cutoff=mc, beta=beta, d_cutoff=dc,
                  normalize=False, **kw)


# ---- One-Euro parity -----------------------------------------------------------------------
def test_one_euro_casiez_ground_truth_csv(shared):
    csv = np.loadtxt(shared("parity", "filters", "oneeuro_groundTruth.csv"), delimiter=",",
                     skiprows=1)
    assert csv.shape == (1200, 4)
    f = _euro(120.0, 1.0, 0.1, 1.0, casiez_timestamp_quirks=True)
    y = _scalar(f, csv[:, 2], csv[:, 0])
    assert np.abs(y - csv[:, 3]).max() <= 1e-4
    sig = np.load(shared("parity", "filters", "oneeuro_signals.npz"))
    y = _scalar(f, sig["groundtruth_x"], sig["groundtruth_t"])
    np.testing.assert_allclose(y, sig["groundtruth_y_python"], rtol=0, atol=1e-12)
    # Without the Python quirks (t = 0.0 is a valid time) we are the C++ class.
    y = _scalar(_euro(120.0, 1.0, 0.1, 1.0), sig["groundtruth_x"], sig["groundtruth_t"])
    np.testing.assert_allclose(y, sig["groundtruth_y_cpp"], rtol=0, atol=1e-12)
    # The wrong variant (raw derivative) is off by ~0.076 (parity README section 1).
    raw = _euro(120.0, 1.0, 0.1, 1.0, derivative="raw", casiez_timestamp_quirks=True)
    assert raw.variant == "oneeuro.raw_derivative"
    assert 0.07 < np.abs(_scalar(raw, csv[:, 2], csv[:, 0]) - csv[:, 3]).max() < 0.085


@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_one_euro_signals_python_class(shared, name):
    d = np.load(shared("parity", "filters", "oneeuro_signals.npz"))
    t = d[f"{name}__t"]
    t = None if t.size == 0 else t
    y = _scalar(_euro(*SIGNALS[name], casiez_timestamp_quirks=True), d[f"{name}__x"], t)
    np.testing.assert_allclose(y, d[f"{name}__y"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["regular_30hz_t0_zero", "irregular_timestamps",
                                  "no_timestamps"])
def test_one_euro_default_timestamp_rules_match_cpp_class(shared, name):
    d = np.load(shared("parity", "filters", "oneeuro_signals.npz"))
    t = d[f"{name}__t"]
    t = None if t.size == 0 else t
    y = _scalar(_euro(*SIGNALS[name]), d[f"{name}__x"], t)
    np.testing.assert_allclose(y, d[f"{name}__y_cpp"], rtol=0, atol=1e-12)
    if name == "regular_30hz_t0_zero":   # and not the Python class (t=0 falsy quirk)
        assert np.abs(y - d[f"{name}__y"]).max() > 0.09


def test_one_euro_rejects_non_increasing_timestamps_by_default(shared):
    d = np.load(shared("parity", "filters", "oneeuro_signals.npz"))
    name = "repeated_and_backwards_timestamp"
    with pytest.raises(ValueError, match="frame 40"):
        _scalar(_euro(*SIGNALS[name]), d[f"{name}__x"], d[f"{name}__t"])


def test_one_euro_landmarks_vectorised(shared):
    d = np.load(shared("parity", "filters", "oneeuro_landmarks.npz"))
    f = _euro(30.0, 1.0, 0.007, 1.0, casiez_timestamp_quirks=True)
    np.testing.assert_allclose(f(d["z"], d["t"]), d["y"], rtol=0, atol=1e-12)
    g = _euro(30.0, 1.0, 0.007, 1.0)     # t0 = 0 valid; true rate equals freq here
    np.testing.assert_allclose(g(d["z"], d["t"]), d["y"], rtol=0, atol=1e-9)


# ---- Kalman parity -------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(KALMAN))
def test_kalman_forward_and_rts_match_filterpy_vectors(shared, name):
    d = np.load(shared("parity", "filters", f"{name}.npz"))
    q, r, v0, atol = KALMAN[name]
    dts = np.full(len(d["t"]), d["F"][0, 1])
    res = kalman_cv(d["z"], dts, q, r, v0, d["observed"], smooth=True)
    for key in ("prior_pos", "prior_vel", "filtered_pos", "filtered_vel", "smoothed_pos",
                "smoothed_vel", "P_prior", "P_filtered", "P_smoothed", "gain", "smoother_gain"):
        np.testing.assert_allclose(getattr(res, key), d[key], rtol=0, atol=atol, err_msg=key)
    # Through the registry classes, with timestamps (dt from t) and NaN as "missing".
    kw = dict(q=q, r=r, v0=v0, normalize=False)
    y = create("kalman", predict_through_gaps=True, **kw)(d["z"], d["t"])
    np.testing.assert_allclose(y, d["filtered_pos"], rtol=0, atol=atol)
    y = create("kalman-rts", predict_through_gaps=True, **kw)(d["z"], d["t"])
    np.testing.assert_allclose(y, d["smoothed_pos"], rtol=0, atol=atol)
    y = create("kalman", **kw)(d["z"], d["t"])        # default: NaN on missing frames only
    miss = ~d["observed"]
    assert np.isnan(y[miss]).all() and np.isfinite(y[~miss]).all()
    np.testing.assert_allclose(y[~miss], d["filtered_pos"][~miss], rtol=0, atol=atol)


def test_kalman_steady_state_gain_matches_params():
    ss = KalmanCV(q=20000.0, r=4.0, v0=1e4, normalize=False).steady_state(30.0)
    np.testing.assert_allclose([ss["k_p"], ss["k_v"]], [0.32682932800444436, 1.933865834705701],
                               rtol=1e-7)
    assert ss["beta"] == pytest.approx(ss["k_v"] / 30.0)


def test_kalman_agrees_with_filterpy_on_irregular_timestamps():
    filterpy = pytest.importorskip("filterpy.kalman")
    from filterpy.common import Q_discrete_white_noise

    rng = np.random.default_rng(3)
    n, q, r, v0 = 60, 3.0, 0.5, 40.0
    dts = rng.uniform(0.02, 0.06, n)
    z = np.cumsum(rng.normal(0, 1, (n, 3)), axis=0)
    obs = np.ones(n, bool)
    obs[[7, 30, 31]] = False
    res = kalman_cv(z, dts, q, r, v0, obs, smooth=True)
    for c in range(3):
        kf = filterpy.KalmanFilter(dim_x=2, dim_z=1)
        kf.x = np.array([[z[0, c]], [0.0]])
        kf.P = np.diag([r, v0])
        kf.H = np.array([[1.0, 0.0]])
        kf.R = np.array([[r]])
        Fs = [np.array([[1.0, dt], [0.0, 1.0]]) for dt in dts]
        Qs = [Q_discrete_white_noise(dim=2, dt=dt, var=q) for dt in dts]
        zs = [z[i, c] if obs[i] else None for i in range(n)]
        mu, cov, _, _ = kf.batch_filter(zs, Fs=Fs, Qs=Qs)
        np.testing.assert_allclose(res.filtered_pos[:, c], mu[:, 0, 0], atol=1e-9)
        np.testing.assert_allclose(res.filtered_vel[:, c], mu[:, 1, 0], atol=1e-8)
        np.testing.assert_allclose(res.P_filtered, cov, rtol=1e-10, atol=1e-12)
        xs, ps, _, _ = kf.rts_smoother(mu, cov, Fs=Fs, Qs=Qs)
        np.testing.assert_allclose(res.smoothed_pos[:, c], xs[:, 0, 0], atol=1e-9)
        np.testing.assert_allclose(res.P_smoothed, ps, rtol=1e-10, atol=1e-12)


# ---- EMA / Savitzky-Golay --------------------------------------------------------------------
def test_one_euro_with_beta_zero_is_an_ema():
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(0, 1, (50, 5, 2)), axis=0)
    t = np.arange(50) / 25.0
    euro = create("one-euro", min_cutoff=1.3, beta=0.0, normalize=False)
    alpha = euro.equivalent_ema_alpha(25.0)
    assert alpha == pytest.approx(1 / (1 + 25.0 / (2 * np.pi * 1.3)), rel=1e-12)
    np.testing.assert_allclose(euro(x, t), create("ema", alpha=alpha)(x, t), rtol=1e-12,
                               atol=1e-12)


def test_ema_step_response_and_half_life():
    x = np.zeros((8, 1, 2))
    x[1:] = 1.0
    y = create("ema", alpha=0.25)(x, None)
    np.testing.assert_allclose(y[:, 0, 0], [0] + [1 - 0.75 ** k for k in range(1, 8)],
                               atol=1e-15)
    np.testing.assert_array_equal(create("ema", half_life_frames=1)(x, None),
                                  create("ema", alpha=0.5)(x, None))
    assert create("ema").id == "ema:alpha=0.5"


def test_savgol_centred_matches_scipy_and_endpoint_matches_polyfit():
    from scipy.signal import savgol_filter

    rng = np.random.default_rng(1)
    x = np.cumsum(rng.normal(0, 1, (40, 3, 2)), axis=0)
    f = create("savgol")
    np.testing.assert_allclose(f(x, None), savgol_filter(x, 11, 2, axis=0, mode="interp"),
                               atol=1e-12)
    assert f.latency_frames == 5 and f.windows_used_ == [11]
    y = create("savgol:window=7,polyorder=2,causal=true")(x, None)
    for i in (2, 6, 20, 39):
        lo = max(0, i - 6)
        k = np.arange(lo, i + 1)
        fit = np.polyfit(k, x[lo:i + 1, 1, 0], min(2, i - lo))
        assert y[i, 1, 0] == pytest.approx(np.polyval(fit, i), abs=1e-9)
    short = create("savgol")
    short(x[:7], None)
    assert short.windows_used_ == [7]


# ---- normalisation, segments, timestamps -------------------------------------------------
def test_face_normalisation_makes_one_euro_scale_free():
    rng = np.random.default_rng(2)
    x = 100 + rng.uniform(-50, 50, (1, 6, 2)) + np.cumsum(rng.normal(0, 2, (30, 6, 2)), axis=0)
    t = np.arange(30) / 30.0
    f = create("one-euro", beta=0.3)
    np.testing.assert_allclose(f(4.0 * x, t), 4.0 * f(x, t), rtol=1e-12)
    lo, hi = x[0].min(axis=0), x[0].max(axis=0)
    s = np.sqrt(np.prod(hi - lo))
    raw = create("one-euro", beta=0.3, normalize=False)
    np.testing.assert_allclose(f(x, t), raw(x / s, t) * s, rtol=1e-12)
    assert not np.allclose(raw(4.0 * x, t), 4.0 * raw(x, t), rtol=1e-6)
    assert f.units == "face_norm" and raw.units == "px"


def test_apply_segments_resets_at_cuts():
    rng = np.random.default_rng(4)
    x = np.cumsum(rng.normal(0, 1, (30, 4, 2)), axis=0) + 50
    x[12:] += 40.0                                     # a scene cut at frame 12
    t = np.arange(30) / 30.0
    f = create("one-euro", beta=0.1)
    breaks = np.zeros(30, bool)
    breaks[12] = True
    y = apply_segments(f, x, t, breaks)
    np.testing.assert_array_equal(y[:12], f(x[:12], t[:12]))
    np.testing.assert_array_equal(y[12:], f(x[12:], t[12:]))
    np.testing.assert_array_equal(y[12], x[12])        # fresh filter: first sample passes
    assert not np.allclose(f(x, t)[12], x[12])
    with pytest.raises(ValueError, match="breaks"):
        apply_segments(f, x, t, breaks[:-1])


def test_timestamps_must_increase_and_be_finite():
    x = np.zeros((5, 2, 2))
    with pytest.raises(ValueError, match="frame 3"):
        create("kalman")(x + np.arange(2)[None, :, None], [0, 1, 2, 2, 3])
    with pytest.raises(ValueError, match="frame 1"):
        create("ema")(x, [0, np.nan, 2, 3, 4])
    with pytest.raises(ValueError, match="freq"):
        create("one-euro")(x + np.arange(2)[None, :, None], None)
    with pytest.raises(ValueError, match="zero area.*normalize=false"):
        create("one-euro")(x, [0, 1, 2, 3, 4])


# ---- create / params / validation ----------------------------------------------------------
def test_create_from_cli_spec_and_id_round_trip():
    f = create("one-euro:min_cutoff=1.0,beta=0.05")
    assert (f.min_cutoff, f.beta, f.d_cutoff, f.normalize) == (1.0, 0.05, 1.0, True)
    assert f.id == ("one-euro:beta=0.05,casiez_timestamp_quirks=false,d_cutoff=1.0,"
                    "derivative=filtered,min_cutoff=1.0,normalize=true")
    assert create("one-euro:min_cutoff=1,beta=0.05").id == f.id      # int vs float: same id
    assert create(f.id).get_params() == f.get_params()
    assert create("kalman", q=2.0).get_params()["q"] == 2.0
    names = [g.id for g in parse_filter_specs(["none", "ema:alpha=0.4", "savgol:causal=true"])]
    assert names == ["none", "ema:alpha=0.4", "savgol:causal=true,polyorder=2,window=11"]
    with pytest.raises(ValueError, match="same filter"):
        parse_filter_specs(["ema", "ema:alpha=0.5"])


def test_unknown_names_and_params():
    with pytest.raises(UnknownNameError, match="Did you mean"):
        create("one-eur")
    with pytest.raises(ValueError, match="unknown parameter.*mincutoff"):
        create("one-euro:mincutoff=1.0")


@pytest.mark.parametrize("spec,key", [
    ("one-euro:min_cutoff=-1", "min_cutoff"), ("one-euro:beta=-0.1", "beta"),
    ("one-euro:d_cutoff=0", "d_cutoff"), ("one-euro:beta=fast", "beta"),
    ("one-euro:normalize=1", "normalize"), ("one-euro:derivative=prev", "derivative"),
    ("savgol:window=4", "window"), ("savgol:window=11.0", "window"),
    ("savgol:window=5,polyorder=4", "polyorder"), ("ema:alpha=0", "alpha"),
    ("ema:alpha=1.5", "alpha"), ("ema:half_life_frames=-2", "half_life_frames"),
    ("kalman:q=0", "q"), ("kalman:r=-1", "r"), ("kalman:partial_missing=skip", "partial_missing"),
])
def test_invalid_params_raise_value_error_naming_the_param(spec, key):
    with pytest.raises(ValueError, match=key):
        create(spec)


def test_init_only_stores_params():
    from wflwv.filters.one_euro import OneEuro

    f = OneEuro(min_cutoff=-1)                 # no validation in __init__ (scikit-learn rule)
    assert f.get_params()["min_cutoff"] == -1
    with pytest.raises(ValueError, match="min_cutoff"):
        f(np.zeros((3, 2, 2)), [0.0, 0.1, 0.2])
    with pytest.raises(ValueError, match="unknown parameter"):
        f.set_params(mincutoff=1)
    assert f.set_params(min_cutoff=2.0).min_cutoff == 2.0


def test_import_filters_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, wflwv.filters, wflwv.testing; from wflwv.filters import create\n"
            "[create(n) for n in ('none','one-euro','kalman','kalman-rts','ema','savgol')]\n"
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
