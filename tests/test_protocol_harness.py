"""``evaluate --protocol``: clip window, box source, protocol column, NAD columns, refusals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from harness_factory import make_index
from wflwv.datasets.index import load_index
from wflwv.harness.evaluate import EvalConfig, evaluate
from wflwv.metrics.nad import clip_nad


@pytest.fixture(scope="module")
def long_index(tmp_path_factory):
    return make_index(tmp_path_factory.mktemp("proto"), {"easy": [130, 20], "hard": [125]}, write_videos=False)


def _cfg(index, out, **kw):
    base = dict(model="noisy", dataset=str(index), filters=("none",), out=str(out), progress=False,
                decode="never")
    base.update(kw)
    return EvalConfig(**base)


def test_qlot_protocol_scores_first_120_frames_with_gt_boxes_and_nad(long_index, tmp_path):
    s = evaluate(_cfg(long_index, tmp_path, protocol="qlot"))
    assert s["protocol_name"] == "qlot" and s["protocol"]["box_source"] == "gt"
    clip = s["protocol_definition"]["clip_set"]
    assert clip["frames"] == 120 and not clip["official"] and "not the official WFLW-V" in clip["note"]
    rows = {r["subset"]: r for r in s["results"]}
    assert all(r["protocol"] == "qlot" for r in s["results"])
    assert rows["all"]["n_frames"] == 120 + 20 + 120 and rows["easy"]["n_videos_subset"] == 2
    # NAD columns equal the metric applied to the cached predictions' first 120 frames
    idx = load_index(long_index)
    pred = pd.read_parquet(next(tmp_path.glob("*/predictions.parquet")))
    per = {}
    for vid, g in pred.groupby("video_id"):
        p = np.stack([np.asarray(a, float).reshape(-1, 2) for a in g.sort_values("frame_index")["landmarks"]])
        n = min(len(p), 120)
        per[vid] = clip_nad(p[:n], idx.landmarks(vid)[:n], [1, 4])
    want1 = 1e3 * np.mean([v[0] for v in per.values()])
    assert rows["all"]["nad_1"] == pytest.approx(want1, rel=1e-12)
    assert rows["all"]["nad_4"] == pytest.approx(1e3 * np.mean([v[1] for v in per.values()]), rel=1e-12)
    assert rows["all"]["n_skipped_nad"] == 0 and len(rows["all"]["nad_curve"]) == 10   # shortest clip: 20
    assert np.isfinite(rows["hard"]["nad_16"]) and rows["all"]["nad_curve"][0] == pytest.approx(want1)
    md = (tmp_path / s["run"]["dir"] / "summary.md").read_text()
    assert "protocol `qlot`" in md and "NAD@1" in md
    vm = pd.read_parquet(tmp_path / s["run"]["dir"] / "video_metrics.parquet")
    assert {"nad_1", "nad_4", "nad_16"} <= set(vm.columns)


def test_rows_without_protocol_are_index_and_boards_keep_them_apart(long_index, tmp_path):
    from wflwv.leaderboard.rows import board_key, rows_from_summary

    a = evaluate(_cfg(long_index, tmp_path / "a", boxes="gt"))
    b = evaluate(_cfg(long_index, tmp_path / "b", protocol="qlot"))
    assert {r["protocol"] for r in a["results"]} == {"index"}
    assert a["results"][-1]["n_frames"] == 130 + 20 + 125
    ra, rb = rows_from_summary(a), rows_from_summary(b)
    assert {board_key(r) for r in ra}.isdisjoint({board_key(r) for r in rb})
    assert json.loads(json.dumps(b["results"]))[0]["protocol"] == "qlot"


def test_protocol_refusals(long_index, tmp_path):
    with pytest.raises(ValueError, match="contradicts --protocol qlot"):
        evaluate(_cfg(long_index, tmp_path, protocol="qlot", boxes="dataset"))
    with pytest.raises(KeyError, match="Did you mean"):
        evaluate(_cfg(long_index, tmp_path, protocol="qlt"))
    unl = make_index(tmp_path / "u", {"all": [10]}, write_videos=False, labelled=False)
    with pytest.raises(ValueError, match="unlabelled"):
        evaluate(_cfg(unl, tmp_path, protocol="qlot"))


def test_protocol_sets_qlot_crop_mode():
    from wflwv.protocols import ProtocolPlan, plan_protocol

    class FakeIndex:
        landmark_scheme = "wflw98"
        dataset = "tiny"
        path = "x"
        videos = pd.DataFrame({"video_id": ["a"], "subset": ["easy"]})

        def video_ids(self, subset=None):
            return ["a"]

    plan = plan_protocol("qlot", FakeIndex(), None, "qlot.wflw_v", {})
    assert plan.options == {"crop": "box"} and plan.boxes == "gt" and plan.frames == 120
    with pytest.raises(ValueError, match="crop='track' contradicts"):
        plan_protocol("qlot", FakeIndex(), None, "qlot", {"crop": "track"})
    assert plan_protocol(None, FakeIndex(), "dataset", "qlot", {}) == ProtocolPlan("index", "dataset", {})


def test_nad_plot_per_board(long_index, tmp_path):
    from wflwv.leaderboard.rows import build
    from wflwv.plots import board_plots

    evaluate(_cfg(long_index, tmp_path / "q", protocol="qlot"))
    df = build([str(tmp_path)], reference=False)
    g = df[(df["protocol"] == "qlot") & (df["subset"] == "all")]
    assert len(g) == 1 and np.isfinite(g["nad_1"].iloc[0])
    res = board_plots(g, "qlot board")
    assert res["nad"].startswith("<svg") and "NAD vs m" in res["nad"]
