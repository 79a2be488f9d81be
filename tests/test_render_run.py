"""``wflwv render RUN_DIR``: raw, filtered and GT landmarks drawn over the decoded frames (PNG and MP4)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from wflwv.cli import main


@pytest.fixture(scope="module")
def noisy_run(tmp_path_factory):
    from wflwv.datasets.synthetic import SyntheticBuilder
    from wflwv.harness.evaluate import EvalConfig, evaluate

    root = tmp_path_factory.mktemp("render_run")
    idx = SyntheticBuilder(videos=2, frames=30, width=384, height=288, seed=3, progress=False).build(root / "i")
    s = evaluate(EvalConfig(model="noisy:sigma=0.05,seed=1", dataset=str(idx.path), filters=("none", "ema:alpha=0.2"),
                            out=str(root / "runs"), progress=False))
    return idx, root / "runs" / s["run"]["dir"]


def _isolated(points, others, min_px=3.0):
    """Indices of ``points`` at least ``min_px`` from every point of another colour (and off the legend)."""
    keep = []
    for i, p in enumerate(points):
        d = np.sqrt(((others - p) ** 2).sum(-1))
        if np.isfinite(p).all() and d.min() > min_px and not (p[0] < 60 and p[1] < 50):
            keep.append(i)
    return keep


def _colour_at(img, p):
    x, y = np.round(p).astype(int)
    return img[y, x].astype(int)   # BGR


def test_png_shows_raw_filtered_and_gt_where_they_are(noisy_run, tmp_path):
    from wflwv.render import load_run_tracks

    idx, run = noisy_run
    vid = idx.video_ids()[0]
    res = CliRunner().invoke(main, ["render", str(run), f"--video={vid}", "--frames", "10:30:10",
                                    "--out", str(tmp_path / "x.png"), "--cols", "1"])
    assert res.exit_code == 0, res.output
    assert "2 frames" in res.output and "+ GT" in res.output
    img = cv2.imread(str(tmp_path / "x.png"))
    assert img.shape == (2 * (288 + 4) + 4, 384 + 8, 3)
    t = load_run_tracks(run, vid)
    (fid, filt), = t.filtered.items()
    assert fid.startswith("ema")
    k = 20                                         # second tile: offset by one tile height + padding
    tile = img[4 + 292:4 + 292 + 288, 4:4 + 384]
    raw, gt, fl = t.raw[k], t.gt[k], filt[k]
    checks = [(raw, np.concatenate([gt, fl]), "r"), (gt, np.concatenate([raw, fl]), "g"),
              (fl, np.concatenate([raw, gt]), "b")]
    for pts, others, channel in checks:
        idxs = _isolated(pts, others)
        assert len(idxs) >= 3, channel
        for i in idxs[:5]:
            b, g, r = _colour_at(tile, pts[i])
            if channel == "r":
                assert r > 180 and r - max(g, b) > 100, (i, b, g, r)
            elif channel == "g":
                assert g > 180 and g - max(r, b) > 100, (i, b, g, r)
            else:
                assert b > 180 and b - r > 100, (i, b, g, r)
    # the filtered track is not the raw one: EMA with alpha 0.2 lags the moving face
    assert np.abs(fl - raw).max() > 2.0


def test_mp4_has_the_selected_frames_and_the_overlays(noisy_run, tmp_path):
    idx, run = noisy_run
    vid = idx.video_ids()[1]
    res = CliRunner().invoke(main, ["render", str(run), f"--video={vid}", "--frames", "0:30:3",
                                    "--mp4", str(tmp_path / "clip.mp4"), "--out", str(tmp_path / "clip.png")])
    assert res.exit_code == 0, res.output
    cap = cv2.VideoCapture(str(tmp_path / "clip.mp4"))
    frames = []
    while True:
        ok, fr = cap.read()
        if not ok:
            break
        frames.append(fr)
    cap.release()
    assert len(frames) == 10 and frames[0].shape == (288, 384, 3)
    png = cv2.imread(str(tmp_path / "clip.png"))[4:4 + 288, 4:4 + 384]     # tile of frame 0
    assert np.abs(frames[0].astype(int) - png.astype(int)).mean() < 6.0     # same overlay, lossy codec
    assert not list(tmp_path.glob(".tmp-*"))


def test_bad_requests_name_the_fix(noisy_run, tmp_path):
    idx, run = noisy_run
    vid = idx.video_ids()[0]
    r = CliRunner().invoke(main, ["render", str(run), f"--video={vid}", "--frames", "0:99:10:2",
                                  "--out", str(tmp_path / "a.png")])
    assert r.exit_code != 0 and "START:STOP:STEP" in r.output
    r = CliRunner().invoke(main, ["render", str(run), f"--video={vid}", "--frames", "40",
                                  "--out", str(tmp_path / "a.png")])
    assert r.exit_code != 0 and "30 frames" in r.output
    r = CliRunner().invoke(main, ["render", str(run), "--video=nope", "--out", str(tmp_path / "a.png")])
    assert r.exit_code != 0 and "not in index" in r.output
    r = CliRunner().invoke(main, ["render", str(idx.path), "--mp4", str(tmp_path / "a.mp4")])
    assert r.exit_code != 0 and "RUN_DIR" in r.output


def test_gt_free_run_draws_raw_and_filtered_without_gt(tmp_path):
    """An unlabelled index (boxes only): predictions are drawn, and no GT is invented."""
    pytest.importorskip("dlib", reason="dlib68 needs the [dlib] extra")
    from harness_factory import make_index
    from wflwv.harness.evaluate import EvalConfig, evaluate
    from wflwv.render import load_run_tracks

    idx = make_index(tmp_path / "u", {"all": [20]}, labelled=False)
    s = evaluate(EvalConfig(model="dlib68", dataset=str(idx), filters=("none", "kalman"), out=str(tmp_path / "runs"),
                            progress=False))
    run = tmp_path / "runs" / s["run"]["dir"]
    res = CliRunner().invoke(main, ["render", str(run), "--video=all_00", "--frames", "5,15",
                                    "--out", str(tmp_path / "u.png")])
    assert res.exit_code == 0, res.output
    assert "(raw + 1 filters)" in res.output
    t = load_run_tracks(run, "all_00")
    assert t.gt is None and list(t.filtered) == [s["filters"][1]["id"]]
    img = cv2.imread(str(tmp_path / "u.png"))[4:4 + 72, 4 + 96 + 4:4 + 96 + 4 + 96]    # tile of frame 15
    raw = t.raw[15]
    hits = [_colour_at(img, p) for p in raw if np.isfinite(p).all() and 0 <= p[0] < 95 and 20 <= p[1] < 71]
    assert hits and np.mean([r > 150 and r - max(g, b) > 60 for b, g, r in hits]) > 0.5
