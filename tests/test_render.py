"""``wflwv render``: PNG grid / per-frame files with GT drawn where the index says."""

from __future__ import annotations

import cv2
import numpy as np
from click.testing import CliRunner

from wflwv.cli import main
from wflwv.datasets.synthetic import SyntheticBuilder


def test_render_grid_and_files(tmp_path):
    idx = SyntheticBuilder(videos=2, frames=4, width=128, height=96, seed=4, progress=False).build(tmp_path / "i")
    run = CliRunner().invoke
    res = run(main, ["render", str(idx.path), "--out", str(tmp_path / "g.png"), "--frame", "0", "--frame", "3"])
    assert res.exit_code == 0, res.output
    g = cv2.imread(str(tmp_path / "g.png"))
    assert g.shape == (2 * (96 + 4) + 4, 2 * (128 + 4) + 4, 3)
    vid = idx.video_ids()[0]
    assert vid.startswith("-")
    res = run(main, ["render", str(idx.path), "--out", str(tmp_path / "d"), f"--video-id={vid}", "--frame", "2"])
    assert res.exit_code == 0, res.output
    img = cv2.imread(str(tmp_path / "d" / f"frame_{vid}_00002.png"))
    lm = idx.landmarks(vid)[2]
    x, y = np.round(lm[54]).astype(int)          # nose tip: drawn green there
    b, gch, r = img[y, x].astype(int)
    assert gch > 200 and gch - max(b, r) > 80, img[y, x]
    res = run(main, ["render", str(idx.path), "--out", str(tmp_path / "n"), f"--video-id={vid}", "--frame", "2",
                     "--no-annotate"])
    assert res.exit_code == 0, res.output
    pb, pg, pr = cv2.imread(str(tmp_path / "n" / f"frame_{vid}_00002.png"))[y, x].astype(int)
    assert not (pg > 200 and pg - max(pb, pr) > 80)
    res = run(main, ["render", str(idx.path), "--out", str(tmp_path / "x.png"), "--frame", "99"])
    assert res.exit_code != 0 and "has 4 frames; frame 99 does not exist" in res.output
