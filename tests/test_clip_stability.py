"""GT-free stability of clips through the one pipeline: segments, analytic jitter, filters, bad clips.

(Formerly the tests of the ``realvideo`` side path; the same checks now run on the harness: box
sources record tracks, segments break at gaps / cuts / new tracks, ``wflwv stability`` is a
shortcut for build clips + evaluate + leaderboard.)
"""

from __future__ import annotations

import numpy as np
import pytest

from wflwv.boxes.base import FrameBox, VideoBoxes
from wflwv.metrics.jitter import jitter


class Scripted(VideoBoxes):
    """A box session replaying ``found`` / ``cut`` / ``new_track`` flags."""

    def __init__(self, found, cut, new):
        super().__init__(len(found))
        self.flags = list(zip(found, cut, new))

    def _propose(self, t, image):
        f, c, n = self.flags[t]
        return FrameBox(t, np.array([0.0, 0, 9, 9]) if f else None, "detect", bool(n), bool(c))


def _segments(breaks, found):
    out, a = [], None
    for t in range(len(found)):
        if a is not None and (not found[t] or breaks[t]):
            out.append((a, t))
            a = None
        if found[t] and a is None:
            a = t
    return out + ([(a, len(found))] if a is not None else [])


def test_segments_break_at_gaps_cuts_and_new_tracks():
    found = np.array([1, 1, 1, 0, 1, 1, 1, 1, 1, 0], bool)
    cut = np.zeros(10, bool)
    cut[6] = True
    new = np.zeros(10, bool)
    new[8] = True
    s = Scripted(found, cut, new)
    for t in range(10):
        fb = s.propose(t, None)
        s.observe(np.zeros((68, 2)) if fb.found else None)
    rec = s.result()
    br = rec.breaks()
    assert np.flatnonzero(br).tolist() == [0, 4, 6, 8]
    assert _segments(br, found) == [(0, 3), (4, 6), (6, 8), (8, 9)]
    assert rec.n_tracks == 4                      # after a gap, at a cut, at a detector jump


def test_jitter_matches_analytic_noise_values():
    rng = np.random.default_rng(0)
    sigma = 1e-3
    x = np.zeros((40000, 68, 2))
    x[:, 45, 0] = 1.0                                    # ioc = 1 (up to the noise)
    x += rng.normal(0, sigma, x.shape)
    T = len(x)
    br = np.zeros(T, bool)
    br[T // 2] = True                                   # two segments: pooled like one clip
    j = jitter(x, normalizer="ioc", pair=(36, 45), breaks=br)
    assert j["n_d1"][0] == T - 2
    r = {k: j[k][0] / sigma for k in ("d1", "d2", "d1rms", "d2rms")}
    assert r["d1"] == pytest.approx(np.sqrt(np.pi), rel=0.01)
    assert r["d2"] == pytest.approx(np.sqrt(3 * np.pi), rel=0.01)
    assert r["d1rms"] == pytest.approx(2.0, rel=0.01)
    assert r["d2rms"] == pytest.approx(np.sqrt(12), rel=0.01)


def test_constant_velocity_has_zero_d2_and_gaps_are_excluded():
    T = 30
    x = np.zeros((T, 68, 2))
    x[:, 45, 0] = 10.0
    x += np.arange(T)[:, None, None] * 0.5            # smooth motion: D1 > 0, D2 = 0
    found = np.ones(T, bool)
    found[10] = False
    x[10] = 1e6                                         # garbage on a no-face frame must not count
    br = np.zeros(T, bool)
    br[[0, 11]] = True
    j = jitter(np.where(found[:, None, None], x, 0.0), normalizer="ioc", pair=(36, 45), valid=found, breaks=br)
    assert _segments(br, found) == [(0, 10), (11, 30)]
    assert j["d2"][0] == pytest.approx(0.0, abs=1e-12)
    assert j["d1"][0] == pytest.approx(np.sqrt(0.5) / 10, rel=1e-9)   # (0.5, 0.5) px / 10 px
    assert j["n_d1"][0] == 9 + 18


def test_filters_reduce_jitter_per_segment():
    """The harness's filter stage restarts per segment and lowers the jitter of a static noisy face."""
    from wflwv.filters import parse_filter_specs
    from wflwv.harness.scoring import Ragged, apply_filter

    rng = np.random.default_rng(3)
    T = 200
    base = rng.normal(0, 20, (68, 2))
    base[36], base[45] = (0, 0), (40, 0)
    x = base + rng.normal(0, 0.4, (T, 68, 2))
    br = np.zeros(T, bool)
    br[[0, 120]] = True
    rg = Ragged(["c"], ["all"], x, None, np.arange(T) / 25.0, np.ones(T, bool), np.array([0, T]), "ibug68",
                (36, 45), breaks=br, labelled=False)
    d2 = {}
    for f in parse_filter_specs(["none", "one-euro", "kalman"]):
        y = apply_filter(f, rg)
        d2[f.id.partition(":")[0]] = jitter(y, normalizer="ioc", pair=(36, 45), breaks=br)["d2"][0]
    assert d2["one-euro"] < 0.7 * d2["none"] and d2["kalman"] < 0.7 * d2["none"]


def _write_video(path, frames, fps=25):
    import cv2

    h, w = frames[0].shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for f in frames:
        vw.write(f)
    vw.release()


def test_stability_shortcut_reports_bad_and_faceless_clips(tmp_path, shared):
    """`wflwv stability` = build clips + evaluate + leaderboard; bad clips are failed rows, not aborts."""
    pytest.importorskip("dlib", reason="needs the [dlib] extra")
    import json

    import pandas as pd
    from click.testing import CliRunner

    from wflwv.cli.stability import stability

    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "broken.avi").write_bytes(b"RIFF not a video at all")
    _write_video(clips / "blank.avi", [np.full((120, 160, 3), 90, np.uint8)] * 8)
    src = shared("realdata", "videos", "ytc_clm", "0686_02_003_gloria_estefan.avi")
    (clips / "gloria.avi").symlink_to(src)
    runs, out = tmp_path / "runs", tmp_path / "board"
    args = [str(clips), "--model", "dlib68", "--every", "5", "--filter", "none", "--filter",
            "one-euro", "--runs", str(runs), "--out", str(out), "--no-progress"]
    r = CliRunner().invoke(stability, args)
    assert r.exit_code == 0, r.output
    (summary,) = [json.loads(p.read_text()) for p in runs.rglob("summary.json")]
    assert summary["protocol"]["box_source"] == "detector:hog:every=5"
    assert [f["video_id"] for f in summary["failures"]] == ["broken"]        # a failed row, with why
    vm = pd.read_parquet(next(runs.rglob("video_metrics.parquet")))
    none = vm[vm["filter"] == "none"].set_index("video_id")
    assert none.loc["broken", "status"] == "failed" and none.loc["broken", "reason"]
    assert none.loc["blank", "coverage"] == 0.0                           # faceless: counted, missed
    assert none.loc["gloria", "coverage"] > 0.9
    row = next(r for r in summary["results"] if r["filter"] == "none")
    assert row["n_videos"] == 2 and row["n_failed_videos"] == 1 and row["n_videos_no_face"] == 1
    assert 0.5 < row["jitter_d2"] < 20 and np.isfinite(row["jitter_d1"])   # percent of face size
    board = pd.read_csv(out / "leaderboard.csv")
    assert set(board["filter"]) == {"none", "one-euro"} and board["gt_free"].all()
    # second run reuses the cached predictions and gives identical numbers
    r2 = CliRunner().invoke(stability, args)
    assert r2.exit_code == 0, r2.output
    (s2,) = [json.loads(p.read_text()) for p in runs.rglob("summary.json")]
    assert s2["counts"]["n_videos_detected_now"] == 0
    assert [r["jitter_d2"] for r in s2["results"]] == [r["jitter_d2"] for r in summary["results"]]


def test_dlib_jitter_matches_real_models_reference(shared):
    """real_models.md §5, YTC tony_blair, HOG every frame: disp/ioc 0.0272, accel/ioc 0.0287."""
    pytest.importorskip("dlib", reason="needs the [dlib] extra")
    from wflwv.detectors import create
    from wflwv.harness.clip import predict_clip

    clip = shared("realdata", "videos", "ytc_clm", "1815_01_008_tony_blair.avi")
    pred, _ = predict_clip(create("dlib68"), clip, "detector:hog:every=1")
    assert pred.track.found.all() and not pred.track.cut.any()
    j = jitter(pred.landmarks, normalizer="ioc", pair=(36, 45), breaks=pred.track.breaks())
    assert j["d1"][0] == pytest.approx(0.0272, rel=0.05)
    assert j["d2"][0] == pytest.approx(0.0287, rel=0.05)


def test_semi_synthetic_gt_scoring(tmp_path, shared):
    """dlib68 + detector:hog tracking on semi-synthetic clips of real faces: NME/NMF vs exact GT."""
    pytest.importorskip("dlib", reason="needs the [dlib] extra")
    from wflwv.datasets.synthetic.builder import SyntheticBuilder
    from wflwv.harness.evaluate import EvalConfig, evaluate

    semi = tmp_path / "semi"
    SyntheticBuilder(from_images=shared("realdata", "images_annotated", "helen_300w_dxy"), videos=2,
                     frames=24, seed=8, progress=False).build(semi)
    s = evaluate(EvalConfig(model="dlib68", dataset=str(semi), filters=("none", "kalman"), out=str(tmp_path / "r"),
                            boxes="detector:hog:every=4", progress=False))
    rows = {r["filter"].partition(":")[0]: r for r in s["results"] if r["subset"] == "all"} or \
        {r["filter"].partition(":")[0]: r for r in s["results"]}
    raw = rows["none"]
    assert raw["coverage"] > 0.5 and not raw["gt_free"]
    assert raw["video_nme.io"] < 10.0            # percent; dlib on these faces is ~3.5-5
    assert np.isfinite(raw["nmf"]) and raw["nmf"] > 0
    assert np.isfinite(raw["jitter_d2"])         # GT-free metrics on labelled data too
    assert raw["n_wrong_face_frames"] == 0 and raw["n_tracks"] >= 2
