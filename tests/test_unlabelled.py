"""Unlabelled clips through the one pipeline: build clips → evaluate (default boxes) → leaderboard.

Covers the defaults (face detector + tracker when the index has no boxes), the precheck before any
detection, the timestamp fallback (a warning for that clip, never an abort), and failed rows (one
undecodable clip never loses the others).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from wflwv.boxes import FACE_DETECTORS, register_face_detector


def _write_clip(path, T=24, w=128, h=96, fps=25.0, dx=1.0):
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for i in range(T):
        img = np.full((h, w, 3), 90, np.uint8)
        cx = int(w / 2 + dx * np.sin(i / 3.0) * 8)
        cv2.circle(img, (cx, h // 2), 22, (210, 170, 140), -1)
        cv2.circle(img, (cx - 8, h // 2 - 6), 3, (30, 30, 30), -1)
        cv2.circle(img, (cx + 8, h // 2 - 6), 3, (30, 30, 30), -1)
        vw.write(img)
    vw.release()


def _centre_face(image):
    h, w = image.shape[:2]
    return np.array([w / 2 - 30.0, h / 2 - 30.0, w / 2 + 30.0, h / 2 + 30.0])


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """A nested folder of clips; ``b/zero.avi`` reports its last timestamp as 0.0 (like some .avi)."""
    import wflwv.io.video as video
    from wflwv.datasets.clips import ClipsBuilder

    root = tmp_path_factory.mktemp("clips")
    _write_clip(root / "a" / "one.avi")
    _write_clip(root / "a" / "two.avi", T=18, dx=2.0)
    _write_clip(root / "b" / "zero.avi", T=20)
    (root / "notes.txt").write_text("not a video")
    real = video.scan_video

    def scan(path, *a, **k):
        out = real(path, *a, **k)
        if str(path).endswith("zero.avi"):
            out["times"] = out["times"].copy()
            out["times"][-1] = 0.0
        return out

    mp = pytest.MonkeyPatch()
    mp.setattr(video, "scan_video", scan)
    try:
        ClipsBuilder(root, progress=False, timeout_s=None).build(root.parent / (root.name + "-idx"))
    finally:
        mp.undo()
    return root, root.parent / (root.name + "-idx")


def test_build_clips_indexes_every_video_recursively(clips):
    import pandas as pd

    from wflwv.datasets.index import load_index

    root, idx = clips
    index = load_index(idx)
    assert index.landmark_scheme is None and index.dataset == "clips"
    assert index.video_ids() == ["a__one", "a__two", "b__zero"]
    v = index.videos.set_index("video_id")
    assert v.loc["a__one", "subset"] == "a" and v.loc["b__zero", "subset"] == "b"
    assert v.loc["a__two", "n_frames"] == 18
    # the broken timestamps became i / fps, with the reason recorded for that clip only
    assert "not strictly increasing at frame 19" in v.loc["b__zero", "time_warning"]
    assert v.loc["a__one", "time_warning"] == ""
    np.testing.assert_allclose(index.times("b__zero"), np.arange(20) / 25.0)
    val = pd.read_csv(idx / "validation.csv")
    assert (val["check"] == "timestamps").sum() == 1


def test_checked_times_rules():
    from wflwv.datasets.timestamps import checked_times

    t, w = checked_times(np.array([0.0, 0.04, 0.08]), 3, 25.0)
    assert w is None and t.tolist() == [0.0, 0.04, 0.08]
    for bad, why in ((None, "no timestamps"), (np.array([0.0, 0.04, 0.0]), "not strictly increasing"),
                     (np.array([0.0, np.nan, 0.1]), "non-finite"), (np.zeros(2), "2 timestamps for 3")):
        t, w = checked_times(bad, 3, 10.0)
        assert why in w and t.tolist() == [0.0, 0.1, 0.2]
    t, w = checked_times(None, 2, float("nan"))                   # no fps either: 25 fps, said so
    assert t.tolist() == [0.0, 0.04] and "25 fps" in w


def _eval(idx, out, **kw):
    from wflwv.harness.evaluate import EvalConfig, evaluate

    base = dict(model="dlib68", dataset=str(idx), filters=("none", "one-euro", "kalman"), out=str(out),
                progress=False)
    base.update(kw)
    return evaluate(EvalConfig(**base))


def test_precheck_refuses_gt_metrics_before_any_detection(clips, tmp_path, monkeypatch):
    import wflwv.harness.evaluate as ev
    from wflwv.harness.precheck import PrecheckError

    pytest.importorskip("dlib", reason="dlib68 needs the [dlib] extra")
    monkeypatch.setattr(ev, "run_shard", lambda spec: pytest.fail("detection started"))
    with pytest.raises(PrecheckError, match=r"unlabelled .*nme cannot be computed; drop --metric nme"):
        _eval(clips[1], tmp_path, metrics=("nme", "jitter"))
    with pytest.raises(PrecheckError, match="simulated"):
        _eval(clips[1], tmp_path, model="oracle")
    with pytest.raises(PrecheckError, match="--boxes gt has no GT"):
        _eval(clips[1], tmp_path, boxes="gt")
    with pytest.raises(ValueError, match="needs pixels"):
        _eval(clips[1], tmp_path, decode="never")
    with pytest.raises(PrecheckError, match="unknown metric"):
        _eval(clips[1], tmp_path, metrics=("jiter",))


def test_default_box_source_is_the_face_detector_and_no_face_is_missed(clips, tmp_path):
    """No boxes in the index → detector:hog (in the key and every row); faceless clips count as missed."""
    pytest.importorskip("dlib", reason="dlib68 needs the [dlib] extra")
    s = _eval(clips[1], tmp_path, filters=("none",))
    assert s["run"]["key_fields"]["box_source"] == "detector:hog"
    assert s["protocol"]["box_source_cfg"]["options"]["every"] == 10
    assert all(r["box_source"] == "detector:hog" for r in s["results"])
    row = next(r for r in s["results"] if r["subset"] == "all")
    # HOG finds no face on drawn discs: every frame is a missed detection, every clip stays counted
    assert row["n_videos"] == 3 and row["coverage"] == 0.0 and row["n_missing_frames"] == 24 + 18 + 20
    assert row["n_tracks"] == 0 and np.isnan(row["jitter_d2"]) and row["gt_free"] is True


def test_unlabelled_run_scores_gt_free_metrics_and_survives_a_bad_clip(clips, tmp_path):
    import pyarrow.parquet as pq

    from wflwv.leaderboard import build, render_markdown

    pytest.importorskip("dlib", reason="dlib68 needs the [dlib] extra")
    root, idx = clips
    register_face_detector("centre", _centre_face)
    try:
        s = _eval(idx, tmp_path / "runs", boxes="detector:centre:every=1")
        by = {(r["subset"], r["filter"].partition(":")[0]): r for r in s["results"]}
        none, euro = by[("all", "none")], by[("all", "one-euro")]
        assert none["gt_free"] and np.isnan(none["video_nme.io"]) and np.isnan(none["nmf"])
        assert none["coverage"] == 1.0 and none["n_tracks"] == 3 and none["n_failed_videos"] == 0
        assert np.isfinite(none["jitter_d2"]) and none["jitter_d2"] > 0
        assert euro["jitter_d2"] < none["jitter_d2"]                   # smoothing lowers jitter
        assert [w["video_id"] for w in s["warnings"]] == ["b__zero"]   # warned, scored
        run = tmp_path / "runs" / s["run"]["dir"]
        t = pq.read_table(run / "predictions.parquet").to_pandas()
        assert set(t["track_id"]) == {0} and len(t) == 24 + 18 + 20
        # a clip whose decoder fails mid-way: a failed row with its reason, the others complete
        import shutil

        import wflwv.io.video as video

        real = video.iter_frames

        def flaky(path, *a, **k):
            for fr in real(path, *a, **k):
                if str(path).endswith("two.avi") and fr.index == 5:
                    raise video.VideoError(f"{path}: corrupt packet at frame 5")
                yield fr

        shutil.rmtree(tmp_path / "runs")
        mp = pytest.MonkeyPatch()
        mp.setattr(video, "iter_frames", flaky)
        try:
            s2 = _eval(idx, tmp_path / "runs", boxes="detector:centre:every=1")
        finally:
            mp.undo()
    finally:
        FACE_DETECTORS.pop("centre", None)
    (fail,) = s2["failures"]
    assert fail["video_id"] == "a__two" and "corrupt packet at frame 5" in fail["reason"]
    row = next(r for r in s2["results"] if r["subset"] == "all" and r["filter"] == "none")
    assert row["n_videos"] == 2 and row["n_failed_videos"] == 1 and not row["complete"]
    a = next(r for r in s2["results"] if r["subset"] == "a" and r["filter"] == "none")
    assert a["n_failed_videos"] == 1 and a["n_videos"] == 1
    summary = json.loads((tmp_path / "runs" / s2["run"]["dir"] / "summary.json").read_text())
    assert summary["counts"]["n_videos_failed"] == 1
    df = build([str(tmp_path / "runs")], reference=False)
    md = render_markdown(df)
    assert "## clips · all" in md and "GT-free" in md and "| coverage | tracks |" in md
    assert df["gt_free"].all() and (df["n_failed_videos"] >= 0).all()
