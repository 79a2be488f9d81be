"""``python -m wflwv.real_clips``: committed boards record the make target, the commands and the fingerprints."""

from __future__ import annotations

import json

import pandas as pd

from harness_factory import make_index
from wflwv.harness.evaluate import EvalConfig, evaluate
from wflwv.real_clips import main


def test_publish_writes_board_files_with_provenance(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    idx = make_index(tmp_path / "data", {"easy": [30, 25]})
    s = evaluate(EvalConfig(model="noisy:sigma=0.01,seed=2", dataset=str(idx), filters=("none", "ema:alpha=0.5"),
                            out=str(tmp_path / "runs"), progress=False))
    assert main([str(tmp_path / "out" / "real_clips"), "Real clips", str(tmp_path / "runs")]) == 0
    md = (tmp_path / "out" / "real_clips.md").read_text()
    fp = json.loads((idx / "dataset_info.json").read_text())["fingerprint"]
    assert md.startswith("# Real clips\n") and "make real-clips" in md
    assert f"`{fp}`" in md and "`data/index`" in md            # fingerprint and a relative index path
    assert "wflwv evaluate --model noisy:sigma=0.01,seed=2 --dataset data/index" in md
    assert str(tmp_path) not in md                              # no local absolute paths
    rows = pd.read_csv(tmp_path / "out" / "real_clips.csv")
    assert set(rows["index_fingerprint"]) == {fp} and rows["command"].str.contains("--filter none").all()
    ema = rows[rows["filter_id"].str.startswith("ema")]
    assert (ema["lag_frames"] > 0).all() and (rows[rows["filter_id"] == "none"]["lag_frames"] == 0).all()
    vids = pd.read_csv(tmp_path / "out" / "real_clips.videos.csv")
    assert len(vids) == 4 and set(vids["video_id"]) == {"easy_00", "easy_01"} and "jitter_d2" in vids
    assert s["dataset"]["fingerprint"] == fp
