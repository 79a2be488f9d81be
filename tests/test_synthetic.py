"""Synthetic benchmark: face model order, determinism by hashing, decode counts with both backends,
release layouts (WFLW-V / 300-VW / YTC) through the normal builders, and errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from wflwv.datasets.synthetic import SyntheticBuilder, SyntheticError
from wflwv.datasets.synthetic.faces import Expression, Identity, Pose, landmarks3d, project
from wflwv.datasets.synthetic.generator import ClipSpec, make_clip

TINY = dict(videos=4, frames=10, width=160, height=120)


def _build(out: Path, **kw):
    opts = dict(TINY, seed=kw.pop("seed", 0), progress=False)
    opts.update(kw)
    return SyntheticBuilder(**opts).build(out)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("syn") / "idx"
    return _build(out)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_face_model_follows_wflw98_flip_permutation():
    from wflwv.schemes import get_scheme

    idt = Identity.sample(np.random.default_rng(1))
    P = landmarks3d(idt, Expression(mouth=0.4))
    assert P.shape == (98, 3) and np.isfinite(P).all()
    mirrored = P[:, :2] * np.array([-1.0, 1.0])
    perm = list(get_scheme("wflw98").flip_perm)
    # a symmetric face mirrored and re-ordered by the official WFLW permutation is itself
    np.testing.assert_allclose(mirrored[perm], P[:, :2], atol=1e-9)
    # outer eye corners (the 60/72 normaliser pair) are the outermost eye points, image-left first
    assert P[60, 0] == P[60:68, 0].min() and P[72, 0] == P[68:76, 0].max() and P[60, 0] < P[72, 0]
    # chin (16) is the lowest contour point; pupils lie between their eye corners
    assert np.argmax(P[0:33, 1]) == 16
    assert P[60, 0] < P[96, 0] < P[64, 0] and P[68, 0] < P[97, 0] < P[72, 0]
    # yaw squashes the face horizontally but keeps it upright
    flat = project(P, Pose(s=100))
    turned = project(P, Pose(s=100, yaw=0.5))
    w = lambda q: q[0:33, 0].max() - q[0:33, 0].min()  # noqa: E731
    assert w(turned) < 0.95 * w(flat)


def test_same_seed_gives_identical_arrays_and_fingerprint(tiny, tmp_path):
    again = _build(tmp_path / "again")
    other = _build(tmp_path / "other", seed=1)
    rel_a, rel_b = tiny.root, again.root
    names = sorted(p.relative_to(rel_a) for p in rel_a.glob("*/*.npy"))
    assert len(names) == 2 * TINY["videos"]
    for n in names:
        assert _sha(rel_a / n) == _sha(rel_b / n), n
    assert tiny.fingerprint == again.fingerprint
    assert other.fingerprint != tiny.fingerprint
    a = np.load(rel_a / names[0])
    b = np.load(other.root / "landmarks" / f"{other.video_ids()[0]}.npy")
    assert not np.array_equal(a, b)


def test_every_clip_decodes_to_its_annotation_count_with_both_backends(tiny):
    from wflwv.io.video import BACKENDS, count_frames

    assert set(BACKENDS) == {"opencv", "decord"}
    for vid in tiny.video_ids():
        n_gt = np.load(tiny.root / "landmarks" / f"{vid}.npy").shape[0]
        assert n_gt == TINY["frames"]
        for backend in BACKENDS:
            assert count_frames(tiny.video_path(vid), backend=backend) == n_gt, (vid, backend)


def test_wflw_v_index_matches_release_and_hard_half_is_harder(tiny):
    info = tiny.info
    assert info["dataset"] == "synthetic" and info["source"] == "synthetic" and info["root"] == "release"
    assert info["landmark_scheme"] == "wflw98" and info["coord_base"] == 0
    assert info["subsets"]["easy"]["videos"] == 2 and info["subsets"]["hard"]["videos"] == 2
    ids = tiny.video_ids()
    assert any(v.startswith("-") for v in ids)
    for vid in ids:
        rel = np.load(tiny.root / "landmarks" / f"{vid}.npy")
        np.testing.assert_array_equal(tiny.landmarks(vid), rel.astype(np.float64))
        box = tiny.boxes(vid)
        lm = tiny.landmarks(vid)
        assert (box[:, 0] <= lm[:, :, 0].min(1)).all() and (box[:, 2] >= lm[:, :, 0].max(1)).all()
    rec = json.loads((tiny.root / "synthetic.json").read_text())
    d = {c["video_id"]: c["difficulty"] for c in rec["clips"]}
    easy = [d[v] for v in tiny.video_ids("easy")]
    hard = [d[v] for v in tiny.video_ids("hard")]
    assert max(easy) < min(hard)
    noise = {c["video_id"]: c["degrade"]["noise_sigma"] for c in rec["clips"]}
    assert np.mean([noise[v] for v in tiny.video_ids("hard")]) > np.mean([noise[v] for v in tiny.video_ids("easy")])
    # the index travels with its folder: root is relative
    assert (tiny.path / "release" / "videos").is_dir()


def test_gt_is_exact_where_the_face_is_drawn():
    """The left pupil landmark sits on the darkest pixel blob of the drawn pupil (no degradations)."""
    from wflwv.datasets.synthetic.draw import draw_person

    idt = Identity.sample(np.random.default_rng(3))
    ex, pose = Expression(), Pose(s=180, cx=160.3, cy=125.7, roll=0.1)
    lm = project(landmarks3d(idt, ex), pose)
    img = np.full((260, 320, 3), 128, np.uint8)
    draw_person(img, idt, ex, pose, lm, np.zeros(2))
    x0, y0 = (np.round(lm[97]) - 6).astype(int)
    patch = img[y0:y0 + 13, x0:x0 + 13].astype(np.float64).mean(2)
    w = np.clip(60.0 - patch, 0, None)
    yy, xx = np.mgrid[0:13, 0:13]
    centre = np.array([(w * xx).sum() / w.sum() + x0, (w * yy).sum() / w.sum() + y0])
    assert np.linalg.norm(centre - lm[97]) < 0.35


def test_300vw_layout_writes_one_based_pts_of_the_68_point_map(tmp_path):
    from wflwv.datasets.synthetic.builder import FPS_CYCLE, plan_difficulties
    from wflwv.schemes import read_pts, to_ibug68

    idx = _build(tmp_path / "v", layout="300vw", videos=2, frames=6, seed=5)
    assert idx.info["landmark_scheme"] == "ibug68" and idx.info["coord_base"] == 1
    assert idx.info["layout"] == "300vw"
    plan = plan_difficulties(2, 5)
    for i, vid in enumerate(idx.video_ids()):
        clip = make_clip(ClipSpec(seed=5, index=i, difficulty=plan[i]["difficulty"], n_frames=6,
                                  fps=FPS_CYCLE[i], width=160, height=120))
        expect = to_ibug68(clip.landmarks)
        np.testing.assert_allclose(idx.landmarks(vid), expect, atol=6e-4)
        raw = read_pts(idx.root / vid / "annot" / "000001.pts")
        np.testing.assert_allclose(raw, expect[0] + 1.0, atol=6e-4)
    assert sorted(idx.subsets()) == ["A", "C"]


def test_ytc_layout_is_unlabelled_and_decodes(tmp_path):
    idx = _build(tmp_path / "y", layout="ytc", videos=2, frames=5)
    assert idx.info["has_gt"] is False
    for vid in idx.video_ids():
        assert int(idx.video_row(vid)["n_frames"]) == 5
        assert idx.landmarks(vid) is None
        assert np.load(idx.root / "groundtruth" / f"{vid}.npy").shape == (5, 98, 2)


def test_bad_requests_raise_clear_errors(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(SyntheticError, match="not a wflwv index"):
        _build(tmp_path / "busy")
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"
    with pytest.raises(SyntheticError, match="even"):
        SyntheticBuilder(width=161, height=120)
    with pytest.raises(SyntheticError, match="unknown synthetic preset"):
        SyntheticBuilder(preset="huge")


def test_cli_build_synthetic(tmp_path):
    from click.testing import CliRunner

    from wflwv.cli import main

    out = tmp_path / "cli"
    res = CliRunner().invoke(main, ["build", "synthetic", "--out", str(out), "--videos", "2", "--frames", "4",
                                    "--size", "128x96", "--seed", "2", "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "2 videos, 8 frames" in res.output
    info = json.loads((out / "dataset_info.json").read_text())
    assert info["synthetic"]["seed"] == 2 and info["synthetic"]["width"] == 128
