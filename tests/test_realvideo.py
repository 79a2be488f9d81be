"""GT-free stability on unlabelled clips: segments, analytic jitter, filters, bad clips, CLI board."""

from __future__ import annotations

import numpy as np
import pytest

from wflwv.realvideo.stability import clip_stability, segment_breaks, segments


def test_segments_break_at_gaps_cuts_and_new_tracks():
    found = np.array([1, 1, 1, 0, 1, 1, 1, 1, 1, 0], bool)
    cut = np.zeros(10, bool)
    cut[6] = True
    new = np.zeros(10, bool)
    new[8] = True
    br = segment_breaks(found, cut, new)
    assert np.flatnonzero(br).tolist() == [0, 4, 6, 8]
    assert segments(found, br) == [(0, 3), (4, 6), (6, 8), (8, 9)]


def test_jitter_matches_analytic_noise_values():
    rng = np.random.default_rng(0)
    sigma = 1e-3
    x = np.zeros((40000, 68, 2))
    x[:, 45, 0] = 1.0                                    # ioc = 1 (up to the noise)
    x += rng.normal(0, sigma, x.shape)
    T = len(x)
    cut = np.zeros(T, bool)
    cut[T // 2] = True                                  # two segments: pooled like one clip
    res = {"pred": x, "found": np.ones(T, bool), "cut": cut, "new_track": np.zeros(T, bool)}
    segs, clips = clip_stability(res, ["none"], kinds=("ioc",))
    assert len(segs) == 2 and clips[0]["n_diffs"] == (T - 2) * 68
    r = {k: clips[0][f"{k}_ioc"] / sigma for k in ("D1", "D2", "D1rms", "D2rms")}
    assert r["D1"] == pytest.approx(np.sqrt(np.pi), rel=0.01)
    assert r["D2"] == pytest.approx(np.sqrt(3 * np.pi), rel=0.01)
    assert r["D1rms"] == pytest.approx(2.0, rel=0.01)
    assert r["D2rms"] == pytest.approx(np.sqrt(12), rel=0.01)


def test_constant_velocity_has_zero_d2_and_gaps_are_excluded():
    T = 30
    x = np.zeros((T, 68, 2))
    x[:, 45, 0] = 10.0
    x += np.arange(T)[:, None, None] * 0.5            # smooth motion: D1 > 0, D2 = 0
    found = np.ones(T, bool)
    found[10] = False
    x[10] = 1e6                                         # garbage on a no-face frame must not count
    res = {"pred": x, "found": found, "cut": np.zeros(T, bool), "new_track": np.zeros(T, bool),
           "time_s": np.arange(T) / 25.0}
    segs, clips = clip_stability(res, ["none"], kinds=("ioc",))   # points on a line: fs = 0
    assert [(s["start"], s["stop"]) for s in segs] == [(0, 10), (11, 30)]
    c = clips[0]
    assert c["D2_ioc"] == pytest.approx(0.0, abs=1e-12)
    assert c["D1_ioc"] == pytest.approx(np.sqrt(0.5)/10, rel=1e-9)   # (0.5, 0.5) px / 10 px
    assert c["coverage"] == pytest.approx(29 / 30) and c["n_segments"] == 2
    assert c["n_diffs"] == (9 + 18) * 68


def test_filters_reduce_jitter_per_segment():
    pytest.importorskip("wflwv.filters.one_euro")
    rng = np.random.default_rng(3)
    T = 200
    base = rng.normal(0, 20, (68, 2))
    base[36], base[45] = (0, 0), (40, 0)
    x = base + rng.normal(0, 0.4, (T, 68, 2))
    res = {"pred": x, "found": np.ones(T, bool), "cut": np.zeros(T, bool),
           "new_track": np.zeros(T, bool), "time_s": np.arange(T) / 25.0}
    _, clips = clip_stability(res, ["none", "one-euro", "kalman"])
    d2 = {c["filter"]: c["D2_ioc"] for c in clips}
    assert d2["one-euro"] < 0.7 * d2["none"] and d2["kalman"] < 0.7 * d2["none"]


def _write_video(path, frames, fps=25):
    import cv2

    h, w = frames[0].shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for f in frames:
        vw.write(f)
    vw.release()


def test_folder_run_reports_bad_and_faceless_clips(tmp_path, shared):
    pytest.importorskip("dlib", reason="needs the [dlib] extra")
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
    import pandas as pd

    clips_df = pd.read_csv(f"{out}.clips.csv")
    status = dict(zip(clips_df["clip"], clips_df["status"]))
    assert status == {"blank": "no_face", "broken": "error", "gloria": "ok"}
    board = pd.read_csv(f"{out}.csv")
    assert set(board["filter"]) == {"none", "one-euro"}
    row = board[board["filter"] == "none"].iloc[0]
    assert row["clips"] == 3 and row["scored"] == 1 and row["skipped"] == 2
    assert 0.005 < row["D2_ioc"] < 0.2 and np.isfinite(row["D1_ioc"])
    assert "Clips not scored" in (tmp_path / "board.md").read_text()
    # second run reuses the cached clips (no recomputation) and gives identical numbers
    r2 = CliRunner().invoke(stability, args)
    assert r2.exit_code == 0 and pd.read_csv(f"{out}.csv").equals(board)


def test_dlib_jitter_matches_real_models_reference(shared):
    """real_models.md §5, YTC tony_blair, HOG every frame: disp/ioc 0.0272, accel/ioc 0.0287."""
    pytest.importorskip("dlib", reason="needs the [dlib] extra")
    from wflwv.detectors import create
    from wflwv.realvideo.run import run_clip

    clip = shared("realdata", "videos", "ytc_clm", "1815_01_008_tony_blair.avi")
    res = run_clip(clip, create("dlib68"), every=1)
    assert res["found"].all() and not res["cut"].any()
    c = clip_stability(res, ["none"], kinds=("ioc",))[1][0]
    assert c["D1_ioc"] == pytest.approx(0.0272, rel=0.05)
    assert c["D2_ioc"] == pytest.approx(0.0287, rel=0.05)


def test_semi_synthetic_gt_scoring(tmp_path, shared):
    """`--gt-index`: dlib68 on semi-synthetic clips from real annotated faces, NME/NMF vs exact GT."""
    pytest.importorskip("dlib", reason="needs the [dlib] extra")
    import pandas as pd
    from click.testing import CliRunner

    from wflwv.cli.stability import stability
    from wflwv.datasets.synthetic.builder import SyntheticBuilder

    semi = tmp_path / "semi"
    SyntheticBuilder(from_images=shared("realdata", "images_annotated", "helen_300w_dxy"), videos=2,
                     frames=24, seed=8, progress=False).build(semi)
    out = tmp_path / "semi_board"
    r = CliRunner().invoke(stability, [str(semi / "release"), "--model", "dlib68", "--every", "4",
                                       "--filter", "none", "--filter", "kalman", "--runs",
                                       str(tmp_path / "runs"), "--gt-index", str(semi), "--out",
                                       str(out), "--no-progress"])
    assert r.exit_code == 0, r.output
    vids = pd.read_csv(f"{out}.gt_videos.csv")
    assert len(vids) == 4 and set(vids["filter"]) == {"none", "kalman"}
    raw = vids[vids["filter"] == "none"]
    assert (raw["coverage"] > 0.5).all()
    assert raw["nme_io"].mean() < 10.0           # percent; dlib on these faces is ~3.5-5
    assert np.isfinite(raw["nmf"]).all() and (raw["nmf"] > 0).all()
    assert "Against ground truth" in (tmp_path / "semi_board.md").read_text()
