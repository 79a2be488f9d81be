"""Analytic and error-path tests for image/video/ragged metrics, aggregation, bootstrap, catalog."""

from __future__ import annotations

import numpy as np
import pytest

from wflwv.metrics import (auc_exact, bootstrap_ci, concat_videos, fr_auc, fr_auc_trapz, frame_nme, image_nme,
                           macro_mean, micro_mean, nmf_steps, ragged_video_metrics, video_nme, video_nmf)


def face(T=50, seed=0, size=200.0, moving=True):
    """A [T, 98, 2] GT face: random template scaled to ``size``, eye corners 60/72 set, translating."""
    rng = np.random.default_rng(seed)
    tpl = rng.uniform(-0.5, 0.5, size=(98, 2))
    tpl[[0, 1], 0], tpl[[2, 3], 1] = (-0.5, 0.5), (-0.5, 0.5)      # exact unit box
    tpl[60], tpl[72] = (-0.3, -0.1), (0.3, -0.1)
    t = np.arange(T)[:, None, None]
    shift = np.concatenate([3.0 * t, 1.5 * t], -1) if moving else 0.0
    return 320.0 + size * tpl[None] + shift + 0.0 * t


def test_constant_offset_gives_nme_100d_and_zero_nmf():
    g = face()
    iod = np.hypot(*(g[0, 60] - g[0, 72]))
    d = 0.037
    p = g + d * iod * np.array([0.6, 0.8])
    assert video_nme(p, g) == pytest.approx(100 * d, rel=1e-12)
    np.testing.assert_allclose(frame_nme(p, g), 100 * d, rtol=1e-12)
    assert video_nmf(p, g) == pytest.approx(0.0, abs=1e-9)
    q = g + d * 200.0 * np.array([1.0, 0.0])                       # face size sqrt(w*h) = 200
    assert video_nme(q, g, normalizer="face_size") == pytest.approx(100 * d, rel=1e-12)
    r = ragged_video_metrics(p, g, [0, len(g)])
    assert r["nme_io"][0] == pytest.approx(100 * d, rel=1e-12) and r["nmf"][0] == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize("size,delta", [(256.0, 1.0), (180.0, 0.7), (400.0, 2.5)])
def test_alternating_error_gives_exact_nmf(size, delta):
    g = face(T=31, size=size)
    sign = np.where(np.arange(31) % 2 == 0, 1.0, -1.0)[:, None]
    p = g.copy()
    p[..., 1] += delta * sign
    expected = 51200.0 * delta / size
    assert video_nmf(p, g) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(nmf_steps(p, g), expected, rtol=1e-12)
    assert ragged_video_metrics(p, g, [0, 31])["nmf"][0] == pytest.approx(expected, rel=1e-12)
    if size == 256.0 and delta == 1.0:
        assert video_nmf(p, g) == pytest.approx(200.0, rel=1e-12)


def test_iid_noise_nmf_matches_expectation():
    g = face(T=1500, size=220.0)
    sigma = 1.3
    p = g + np.random.default_rng(5).normal(0, sigma, size=g.shape)
    assert video_nmf(p, g) == pytest.approx(51200 * sigma / 220.0, rel=0.01)


def test_nmf_uses_later_frame_size_and_errors_not_predictions():
    g = face(T=2, moving=False)
    g[1] = 320 + (g[1] - 320) * 2.0                                 # face doubles in size
    p = g.copy()
    p[1, :, 0] += 1.0                                               # error changes by 1 px in x
    assert video_nmf(p, g) == pytest.approx(25600 / 400.0, rel=1e-12)   # S of frame 1 = 400


def test_image_nme_and_errors():
    g = face(T=4)
    iod = np.hypot(*(g[:, 60] - g[:, 72]).T)
    p = g + (0.05 * iod)[:, None, None] * np.array([1.0, 0.0])
    np.testing.assert_allclose(image_nme(p, g), 0.05, rtol=1e-12)
    assert image_nme(p[0], g[0]).shape == (1,)
    np.testing.assert_allclose(image_nme(p[..., :68, :], g[..., :68, :], pair=(36, 45)).shape, (4,))
    g2 = g.copy()
    g2[2, 72] = g2[2, 60]
    with pytest.raises(ValueError, match="image 2"):
        image_nme(p, g2)
    p2 = p.copy()
    p2[3, 5, 0] = np.nan
    with pytest.raises(ValueError, match="pred contains NaN/inf at image 3"):
        image_nme(p2, g)
    with pytest.raises(ValueError, match="does not match"):
        image_nme(p[:, :97], g)
    with pytest.raises(ValueError, match="normaliser pair"):
        image_nme(p, g, pair=(60, 98))


def test_fr_auc_rules():
    assert fr_auc([0.0, 0.05, 0.10, 0.2])[0] == pytest.approx(0.25)         # 0.10 itself passes
    fr, auc = fr_auc_trapz([0.0, 0.04, 0.08, 0.2], threshold=0.08)
    assert fr == pytest.approx(0.5)                                        # SBR: NME >= T fails
    assert auc_exact([0.0, 0.05, 0.2], 0.10) == pytest.approx(0.5, rel=1e-15)
    for v in (0.0, 0.0123, 0.05, 0.07777, 0.0999):
        exact = 1 - v / 0.10
        assert auc_exact([v], 0.10) == pytest.approx(exact)
        assert abs(fr_auc([v])[1] - exact) <= 6.7e-4
        assert abs(fr_auc_trapz([v], 0.08)[1] - max(0, 1 - v / 0.08)) <= 1 / 1999 + 1e-12
    with pytest.raises(ValueError, match="1 points|points ending"):
        fr_auc([0.01], threshold=0.07)
    with pytest.raises(ValueError, match="image 1"):
        fr_auc([0.01, np.nan])
    with pytest.raises(ValueError, match="empty"):
        auc_exact([], 0.1)


def test_single_video_errors():
    g = face(T=10)
    p = g + 1.0
    with pytest.raises(ValueError, match="at least 2 frames"):
        video_nmf(p[:1], g[:1], video=7)
    bad = p.copy()
    bad[4, 3, 1] = np.inf
    with pytest.raises(ValueError, match="video 7, frame 4"):
        video_nme(bad, g, video=7)
    gz = g.copy()
    gz[6, 72] = gz[6, 60]
    with pytest.raises(ValueError, match="inter-ocular.*frame 6"):
        video_nme(p, gz)
    gz = g.copy()
    gz[5, :, 1] = 100.0                                            # zero height
    with pytest.raises(ValueError, match="face-size.*frame 5"):
        video_nmf(p, gz)
    with pytest.raises(ValueError, match="does not match"):
        video_nme(p[:9], g)
    with pytest.raises(ValueError, match="unknown normalizer"):
        video_nme(p, g, normalizer="box")


def _split(seed=0):
    rng = np.random.default_rng(seed)
    gts = [face(T=T, seed=k, size=150 + 10 * k) for k, T in enumerate([12, 1, 9, 20])]
    preds = [g + rng.normal(0, 2, size=g.shape) for g in gts]
    return preds, gts


def test_ragged_errors_name_video_and_frame():
    preds, gts = _split()
    P, off = concat_videos(preds)
    G, _ = concat_videos(gts)
    bad = P.copy()
    bad[off[2] + 5, 10, 0] = np.nan
    with pytest.raises(ValueError, match=r"pred contains NaN/inf at video 2, frame 5"):
        ragged_video_metrics(bad, G, off)
    valid = np.ones(len(P), bool)
    valid[off[2] + 5] = False                                      # marked invalid: accepted
    r = ragged_video_metrics(bad, G, off, valid=valid)
    assert r["n_valid"][2] == 8 and np.isnan(r["frame_nme_io"][off[2] + 5])
    gbad = G.copy()
    gbad[off[3] + 2, 72] = gbad[off[3] + 2, 60]
    with pytest.raises(ValueError, match=r"inter-ocular.*video 3, frame 2"):
        ragged_video_metrics(P, gbad, off)
    with pytest.raises(ValueError, match="offsets"):
        ragged_video_metrics(P, G, off[:-1])
    with pytest.raises(ValueError, match="offsets decrease"):
        ragged_video_metrics(P, G, [0, 20, 10, len(P)])
    with pytest.raises(ValueError, match="valid must be a bool"):
        ragged_video_metrics(P, G, off, valid=np.ones(len(P)))
    with pytest.raises(ValueError, match="does not match"):
        ragged_video_metrics(P[:-1], G, off)


def test_ragged_segments_valid_and_skipped():
    preds, gts = _split()
    P, off = concat_videos(preds)
    G, _ = concat_videos(gts)
    r = ragged_video_metrics(P, G, off)
    for v, (p, g) in enumerate(zip(preds, gts)):
        assert r["nme_io"][v] == pytest.approx(video_nme(p, g), rel=1e-12)
        if len(g) >= 2:
            assert r["nmf"][v] == pytest.approx(video_nmf(p, g), rel=1e-12)
    assert r["skipped"].tolist() == [False, True, False, False] and np.isnan(r["nmf"][1])
    assert r["n_transitions"].tolist() == [11, 0, 8, 19]
    with pytest.raises(ValueError, match="video 1"):
        macro_mean(r["nmf"])                                        # a silent NaN is refused
    assert macro_mean(r["nmf"], r["skipped"]) == pytest.approx(np.mean(r["nmf"][[0, 2, 3]]))
    # a break at frame 6 of video 3 and an invalid frame 3 of video 0
    brk = np.zeros(len(P), bool)
    brk[off[3] + 6] = True
    valid = np.ones(len(P), bool)
    valid[3] = False
    r2 = ragged_video_metrics(P, G, off, valid=valid, breaks=brk)
    assert r2["n_transitions"].tolist() == [9, 0, 8, 18] and r2["n_valid"].tolist() == [11, 1, 9, 20]
    p3, g3 = preds[3], gts[3]
    steps = np.concatenate([nmf_steps(p3[:6], g3[:6]), nmf_steps(p3[6:], g3[6:])])
    assert r2["nmf"][3] == pytest.approx(np.sqrt(np.mean(steps ** 2)), rel=1e-12)
    steps0 = np.concatenate([nmf_steps(preds[0][:3], gts[0][:3]), nmf_steps(preds[0][4:], gts[0][4:])])
    assert r2["nmf"][0] == pytest.approx(np.sqrt(np.mean(steps0 ** 2)), rel=1e-12)
    keep = np.r_[0:3, 4:12]
    assert r2["nme_io"][0] == pytest.approx(video_nme(preds[0][keep], gts[0][keep]), rel=1e-12)
    assert micro_mean(r2["frame_nme_io"], valid) == pytest.approx(np.nanmean(r2["frame_nme_io"]), rel=1e-12)
    # float32 inputs are computed in float64 and agree
    r32 = ragged_video_metrics(P.astype(np.float32), G.astype(np.float32), off)
    np.testing.assert_allclose(r32["nme_io"], r["nme_io"], rtol=1e-5)


def test_empty_video_and_all_skipped():
    g = face(T=3)
    r = ragged_video_metrics(g + 1, g, [0, 0, 3])
    assert r["nme_skipped"].tolist() == [True, False] and np.isnan(r["nme_io"][0])
    with pytest.raises(ValueError, match="all 1 videos are skipped"):
        macro_mean(r["nme_io"][:1], r["nme_skipped"][:1])
    r0 = ragged_video_metrics(np.zeros((0, 98, 2)), np.zeros((0, 98, 2)), [0, 0])
    assert r0["skipped"].tolist() == [True] and r0["frame_flicker"].shape == (0,)


def test_bootstrap_ci():
    x = np.random.default_rng(3).normal(10.0, 2.0, size=400)
    lo, hi = bootstrap_ci(x, n_boot=2000, seed=0)
    assert (lo, hi) == bootstrap_ci(x, n_boot=2000, seed=0)        # seeded
    assert lo < x.mean() < hi
    half = 1.96 * x.std(ddof=1) / np.sqrt(x.size)
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.1)
    assert bootstrap_ci(np.full(5, 3.0)) == (3.0, 3.0)
    assert bootstrap_ci(x, seed=1) != bootstrap_ci(x, seed=0)
    with pytest.raises(ValueError, match="video 2"):
        bootstrap_ci([1.0, 2.0, np.nan])


def test_catalog_and_registry():
    from wflwv.metrics import catalog
    from wflwv.registry import METRICS

    specs = [METRICS.get(n) for n in METRICS]
    assert len(specs) == 14 and all(isinstance(s, catalog.MetricSpec) for s in specs)
    assert len({s.id for s in specs}) == 14
    assert catalog.NAD_4.units == "per_mille" and catalog.NAD_4.scale == 1e3
    assert {s.id for s in specs if s.higher_is_better} == {"auc@0.10[simpson1e-4]", "auc@0.08[trapz2000]",
                                                           "auc_exact@0.10"}
    assert catalog.FR_010.threshold == 0.10 and catalog.AUC_008.rule == "trapz2000"
    assert catalog.VIDEO_NME_IO.normaliser != catalog.VIDEO_NME_FS.normaliser
    assert catalog.NMF.aggregation == "macro_video" and catalog.D2.with_(normaliser="ioc").normaliser == "ioc"
    assert catalog.get_metric("nmf") is catalog.NMF
    with pytest.raises(KeyError, match="known"):
        catalog.get_metric("nmj")


def test_import_is_light():
    import subprocess
    import sys

    code = ("import sys, wflwv.metrics, wflwv.metrics.catalog, wflwv.schemes; "
            "assert 'torch' not in sys.modules and 'pandas' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
