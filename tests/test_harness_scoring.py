"""Scoring plumbing against the reference vectors (../shared/parity/metrics) and the lag measure."""

from __future__ import annotations

import numpy as np
import pytest

from harness_factory import make_index
from wflwv.datasets.index import load_index
from harness_factory import track
from wflwv.harness.scoring import aggregate, apply_filter, build_ragged, resolve_schemes, score


def test_ragged_scoring_matches_the_official_parity_vectors(shared, tmp_path):
    d = np.load(shared("parity", "metrics", "video_metrics.npz"))
    a, b = set(d["split_a_videos"].tolist()), set(d["split_b_videos"].tolist())
    tracks = {"a": [d[f"gt_v{i}"] for i in sorted(a)], "b": [d[f"gt_v{i}"] for i in sorted(b)]}
    idx = load_index(make_index(tmp_path, tracks=tracks, write_videos=False))
    order = idx.video_ids()
    src = sorted(a) + sorted(b)
    preds = {v: d[f"pred_v{i}"] for v, i in zip(order, src)}
    rg = build_ragged(idx, order, preds, "gt", exclude_unreliable=False)
    # the index stores GT as float32: compare at that precision
    gt32 = {i: d[f"gt_v{i}"].astype(np.float32).astype(np.float64) for i in src}
    assert np.array_equal(rg.gt[rg.video(0)], gt32[src[0]])
    pv, pf = score(rg, rg.pred)
    np.testing.assert_allclose(pv["nme_io"], d["nme"][src], rtol=2e-5)
    # video 4 (constant offset) is ~1e-12 in float64; float32 GT storage leaves ~2e-3 NMF units
    np.testing.assert_allclose(pv["nmf"], d["nmf"][src], rtol=2e-5, atol=5e-3)
    for i, v in enumerate(src):
        np.testing.assert_allclose(pf["nme_io"][rg.video(i)], d[f"nme_per_frame_v{v}"], rtol=2e-5)
    subs = np.asarray(rg.subsets)
    for name, split in (("a", "split_a"), ("b", "split_b")):
        agg = aggregate(pv, pf, rg, np.flatnonzero(subs == name))
        assert agg["video_nme.io"] == pytest.approx(float(d[f"{split}_nme"]), rel=2e-5)
        assert agg["nmf"] == pytest.approx(float(d[f"{split}_nmf"]), rel=2e-5, abs=2e-3)
        assert agg["n_videos"] == 3
    agg = aggregate(pv, pf, rg, np.arange(6))
    assert agg["video_nme.io"] == pytest.approx(float(d["all_nme"]), rel=2e-5)
    lo, hi = agg["video_nme.io_ci"]
    assert lo < agg["video_nme.io"] < hi


def test_unreliable_frames_are_excluded_when_asked(tmp_path):
    idx = load_index(make_index(tmp_path, {"easy": [10]}, write_videos=False, unreliable={"easy_00": [4]}))
    gt = idx.landmarks("easy_00")
    pred = gt.copy()
    pred[4] += 5.0  # a bad frame that the dataset flags unreliable
    for exclude, expect_zero in ((True, True), (False, False)):
        rg = build_ragged(idx, ["easy_00"], {"easy_00": pred}, "gt", exclude_unreliable=exclude)
        pv, _ = score(rg, rg.pred)
        assert bool(pv["nme_io"][0] == 0.0) is expect_zero and bool(pv["nmf"][0] == 0.0) is expect_zero
    assert pv["n_valid"][0] == 10


def _lag_rows(tmp_path, detector):
    from wflwv.detectors import create as make_detector
    from wflwv.filters import create

    idx = load_index(make_index(tmp_path, tracks={"easy": [track(120, seed=s, speed=0.5) for s in range(3)]},
                                write_videos=False))
    ids = idx.video_ids()
    det = make_detector(detector)
    from wflwv.harness.batching import run_video_parallel
    from wflwv.harness.shard import build_jobs

    preds = run_video_parallel(det, build_jobs(idx, ids, det, "dataset", False), 8)
    rg = build_ragged(idx, ids, preds, "gt", exclude_unreliable=False)
    rows = {}
    for spec in ("none", "ema:alpha=0.5", "kalman", "kalman-rts", "savgol"):
        pv, pf = score(rg, apply_filter(create(spec), rg))
        rows[spec] = (pv, aggregate(pv, pf, rg, np.arange(len(ids))))
    return rows


@pytest.mark.parametrize("detector", ["oracle", "noisy:sigma=0.01,seed=1"])
def test_lag_is_positive_for_ema_and_kalman_and_zero_for_none(tmp_path, detector):
    rows = _lag_rows(tmp_path, detector)
    for spec, (pv, agg) in rows.items():
        assert {"lag_frames", "lag_ms", "jitter_d1", "jitter_d2", "ref_dist", "lag_ref_frames"} <= set(agg)
    none = rows["none"][1]
    assert none["lag_frames"] == 0.0 and none["lag_ms"] == 0.0 and none["lag_ref_frames"] == 0.0
    assert np.all(rows["none"][0]["lag_frames"] == 0.0)
    if detector == "oracle":
        assert none["video_nme.io"] == 0.0                    # the oracle is the GT: no lag, no error
    ema, kal = rows["ema:alpha=0.5"][1], rows["kalman"][1]
    assert ema["lag_frames"] == pytest.approx(1.0, abs=0.2)  # EMA: (1 - alpha) / alpha frames
    assert ema["lag_ms"] == pytest.approx(40.0 * ema["lag_frames"])   # 25 fps index
    assert kal["lag_frames"] > 0.05 and kal["lag_ms"] > 2.0
    assert ema["lag_ref_frames"] == pytest.approx(ema["lag_frames"], abs=0.15)   # GT-free estimate agrees
    for offline in ("kalman-rts", "savgol"):                   # centred smoothers do not lag
        assert abs(rows[offline][1]["lag_frames"]) < 0.1


def test_scheme_resolution():
    assert resolve_schemes("gt", "wflw98") == ("wflw98", None, None)
    assert resolve_schemes("wflw98", "ibug68") == ("ibug68", "wflw98", None)
    assert resolve_schemes("ibug68", "wflw98") == ("ibug68", None, "wflw98")
    with pytest.raises(ValueError, match="unlabelled"):
        resolve_schemes("wflw98", None)
