"""mediapipe468: approximate 68-point map, extra message; real runs only where mediapipe is installed."""

from __future__ import annotations

import numpy as np
import pytest

from wflwv.detectors import mediapipe468 as mp468


def test_map_is_named_versioned_and_a_permutation_subset():
    assert mp468.MAP_NAME == "mp468_to_ibug68@1"
    m = np.array(mp468.MP468_TO_IBUG68)
    assert m.shape == (68,) and len(set(m.tolist())) == 68 and m.min() >= 0 and m.max() < 468
    # eye corners of the map are the mesh's outer eye corners used for native jitter
    assert (m[36], m[45]) == mp468.EYE_PAIR_468 == (33, 263)
    mesh = np.arange(468 * 2, dtype=float).reshape(468, 2)
    np.testing.assert_array_equal(mp468.to_ibug68(mesh), mesh[m])
    with pytest.raises(ValueError, match="468"):
        mp468.to_ibug68(np.zeros((68, 2)))


def test_missing_extra_names_it(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "mediapipe":
            raise ImportError("No module named 'mediapipe'")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r"\[mediapipe\] extra"):
        mp468.create("mediapipe468.track")


def test_bad_options_raise_before_import():
    with pytest.raises(ValueError, match="unknown option"):
        mp468.create("mediapipe468", colour="x")
    with pytest.raises(ValueError, match="mode"):
        mp468.create("mediapipe468", mode="sometimes")
    with pytest.raises(ValueError, match="weights"):
        mp468.create("mediapipe468", weights="x.tflite")


@pytest.fixture(scope="module")
def mp():
    return pytest.importorskip("mediapipe", reason="needs the [mediapipe] extra")


def test_static_mode_on_real_images(mp, shared):
    from wflwv.boxes.tracker import box_from_landmarks, iou
    from wflwv.metrics.image import image_nme
    from wflwv.testing.annotated import load_realdata_68, read_rgb

    det = mp468.create("mediapipe468.static")
    assert det.cfg.options["approx_map"] is True and det.cfg.options["map"] == "mp468_to_ibug68@1"
    nmes, missed = [], []
    for it in load_realdata_68(shared("realdata")):
        out, _ = det.predict_frames([read_rgb(it.image)])
        if not det.last_found[0]:
            assert np.isnan(out).all()
            missed.append(it.image.name)
            continue
        if iou(box_from_landmarks(out[0]), box_from_landmarks(it.gt)) >= 0.3:
            nmes.append(image_nme(out[0], it.gt, (36, 45))[0])
    assert "einstein.jpg" in missed                     # short-range detector misses small faces
    assert len(nmes) >= 8 and np.mean(nmes) < 0.09      # measured 0.066 (approximate map)


def test_track_mode_smoother_than_dlib_on_sbr_demo(mp, shared):
    """real_models.md §5 on the SBR demo: MediaPipe track disp/ioc 0.0074, accel/ioc 0.0072;
    dlib (HOG every frame) 0.0167 / 0.0241 — so accel/ioc ranks MediaPipe-track < dlib."""
    pytest.importorskip("dlib")
    from wflwv.detectors import create
    from wflwv.harness.clip import predict_clip
    from wflwv.metrics.jitter import jitter

    clip = shared("realdata", "videos", "misc", "sbr_demo-sbr.mp4")
    mpr, mt = predict_clip(mp468.create("mediapipe468.track", output="mediapipe468"), clip, "frame")
    dlr, _ = predict_clip(create("dlib68"), clip, "detector:hog:every=1")
    cm = jitter(mpr.landmarks, normalizer="ioc", pair=(33, 263), breaks=mpr.track.breaks())
    cd = jitter(dlr.landmarks, normalizer="ioc", pair=(36, 45), breaks=dlr.track.breaks())
    assert mt.fps > 0 and mpr.track.found.all() and dlr.track.found.all()
    assert cm["d2"][0] < cd["d2"][0]
    assert cm["d1"][0] == pytest.approx(0.0074, rel=0.1)
    assert cm["d2"][0] == pytest.approx(0.0072, rel=0.1)
    assert cd["d1"][0] == pytest.approx(0.0167, rel=0.05)
    assert cd["d2"][0] == pytest.approx(0.0241, rel=0.05)
