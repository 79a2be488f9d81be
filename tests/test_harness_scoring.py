"""Scoring plumbing against the reference vectors (../shared/parity/metrics) and the lag measure."""

from __future__ import annotations

import numpy as np
import pytest

from harness_factory import make_index
from wflwv.datasets.index import load_index
from wflwv.harness.scoring import aggregate, build_ragged, lag_frames, resolve_schemes, score


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


def test_lag_of_a_delayed_track():
    t = np.arange(120)
    gt = np.stack([np.sin(2 * np.pi * t / 40), np.cos(2 * np.pi * t / 40)], -1)[:, None, :] * 10
    late = np.concatenate([gt[:3], gt[:-3]])
    x = np.concatenate([late, gt])
    g = np.concatenate([gt, gt])
    assert lag_frames(x, g, np.array([0, 120, 240])).tolist() == [3.0, 0.0]


def test_scheme_resolution():
    assert resolve_schemes("gt", "wflw98") == ("wflw98", None, None)
    assert resolve_schemes("wflw98", "ibug68") == ("ibug68", "wflw98", None)
    assert resolve_schemes("ibug68", "wflw98") == ("ibug68", None, "wflw98")
    with pytest.raises(ValueError, match="unlabelled"):
        resolve_schemes("wflw98", None)
