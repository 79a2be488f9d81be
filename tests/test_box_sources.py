"""Contract of every box source (``wflwv.boxes``) and the default / precheck rules of evaluate."""

from __future__ import annotations

import numpy as np
import pytest

from harness_factory import make_index

from wflwv.boxes import (FACE_DETECTORS, BoxSourceError, TrackRecord, box_source_names, create_box_source,
                         default_box_source, register_face_detector)


def _centre_face(image):
    h, w = image.shape[:2]
    return np.array([w / 2 - 20.0, h / 2 - 20.0, w / 2 + 20.0, h / 2 + 20.0])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_index(tmp_path_factory.mktemp("boxsrc"), {"easy": [12, 7], "hard": [9]})


@pytest.fixture(autouse=True)
def centre_detector():
    register_face_detector("centre", _centre_face)
    yield
    FACE_DETECTORS.pop("centre", None)


def _all_sources():
    register_face_detector("centre", _centre_face)
    try:
        return box_source_names()
    finally:
        FACE_DETECTORS.pop("centre", None)


@pytest.mark.parametrize("spec", _all_sources())
def test_box_source_contract(spec, tiny):
    """Every source: canonical spec, checks the index, one session per video, a consistent TrackRecord."""
    from wflwv.datasets.index import load_index
    from wflwv.io.video import iter_frames

    if spec == "detector:hog":
        pytest.importorskip("dlib", reason="detector:hog needs the [dlib] extra")
    src = create_box_source(spec)
    assert create_box_source(src.spec).spec == src.spec          # canonical and stable
    assert src.config()["spec"] == src.spec
    index = load_index(tiny)
    src.check(index)                                             # the tiny index has boxes and GT
    for vid in index.video_ids():
        T = int(index.videos.set_index("video_id").loc[vid, "n_frames"])
        gt = index.landmarks(vid)
        sess = src.open(index, vid, T, gt)
        frames = [fr.image for fr in iter_frames(index.root / f"{vid}.avi")]
        assert len(frames) == T
        for t, img in enumerate(frames):
            fb = sess.propose(t, img)
            assert fb.index == t or spec.startswith("detector:")   # trackers number their own frames
            lm = gt[t] if fb.found else None                     # a detector that follows the face
            if not sess.observe(lm):
                fb = sess.redetect(img)
                assert sess.observe(gt[t] if fb.found else None)
        rec = sess.result()
        assert isinstance(rec, TrackRecord)
        assert rec.boxes.shape == (T, 4) and rec.track_id.shape == (T,) and rec.cut.shape == (T,)
        found = np.isfinite(rec.boxes).all(axis=1)
        np.testing.assert_array_equal(found, rec.track_id >= 0)  # a box exactly where a track is
        assert rec.coverage == pytest.approx(found.mean())
        assert rec.n_tracks == len(np.unique(rec.track_id[found]))
        assert not rec.breaks()[~found].any() and (not found[0] or rec.breaks()[0])
        if spec == "dataset":
            np.testing.assert_allclose(rec.boxes, index.boxes(vid))
        if spec == "gt":
            np.testing.assert_allclose(rec.boxes[:, :2], gt.min(axis=1))
        if spec == "detector:centre":
            # the tiny clips flash (grey level +9 per frame): every frame is a scene cut → new track
            assert found.all() and rec.n_tracks == 1 + int(rec.cut[1:].sum())


def test_specs_defaults_and_errors(tiny, tmp_path):
    from wflwv.datasets.index import load_index

    assert create_box_source("detector:hog").spec == "detector:hog"
    assert create_box_source("detector:hog:every=10,roi=0.4").spec == "detector:hog"   # defaults dropped
    assert create_box_source("detector:hog:every=1").spec == "detector:hog:every=1"
    with pytest.raises(BoxSourceError, match="bad option 'evry=1'"):
        create_box_source("detector:hog:evry=1")
    with pytest.raises(BoxSourceError, match="every >= 1"):
        create_box_source("detector:hog:every=0")
    with pytest.raises(BoxSourceError, match="no face detector 'retinaface'"):
        create_box_source("detector:retinaface")
    with pytest.raises(BoxSourceError, match="unknown box source 'official'"):
        create_box_source("official")
    assert default_box_source(load_index(tiny)) == "dataset"
    bare = make_index(tmp_path, {"all": [5]}, boxes=False)
    assert default_box_source(load_index(bare)) == "detector:hog"
    with pytest.raises(BoxSourceError, match="no box for every frame.*detector:hog"):
        create_box_source("dataset").check(load_index(bare))


def test_track_ids_count_identity_switches():
    from wflwv.boxes.base import FrameBox
    from wflwv.boxes.fixed import FixedBoxes

    class Scripted(FixedBoxes):
        script = [(True, False), (True, False), (False, False), (True, False), (True, True), (True, False)]

        def _propose(self, t, image):
            ok, new = self.script[t]
            return FrameBox(t, np.array([0.0, 0, 9, 9]) if ok else None, "detect", new)

    s = Scripted(np.zeros((6, 4)), "x")
    for t in range(6):
        fb = s.propose(t, None)
        assert s.observe(np.zeros((3, 2)) if fb.found else None)
    rec = s.result()
    # a gap and a detector jump each start a new identity
    assert rec.track_id.tolist() == [0, 0, -1, 1, 2, 2] and rec.n_tracks == 3
    assert rec.breaks().tolist() == [True, False, False, True, True, False]
    with pytest.raises(RuntimeError, match="out of order"):
        s.propose(3, None)


def test_tracked_box_on_another_face_is_a_missed_detection(tiny, tmp_path):
    """Labelled index: a frame whose tracked box overlaps the annotated face by IoU < 0.3 is missed."""
    from wflwv.datasets.index import load_index
    from wflwv.harness.evaluate import EvalConfig, evaluate
    from wflwv.harness.scoring import MIN_GT_IOU

    index = load_index(tiny)
    calls = {"n": 0}

    def bystander_every_third(image):
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            return np.array([0.0, 0.0, 6.0, 6.0])        # a "face" in the corner, not the annotated one
        return np.array([22.0, 10.0, 74.0, 62.0])         # around the face: IoU with its GT box > 0.3

    register_face_detector("bystander", bystander_every_third)
    try:
        s = evaluate(EvalConfig(model="oracle", dataset=str(tiny), filters=("none",), out=str(tmp_path),
                                boxes="detector:bystander:every=1", progress=False))
    finally:
        FACE_DETECTORS.pop("bystander", None)
    row = next(r for r in s["results"] if r["subset"] == "all")
    n = 12 + 7 + 9
    assert MIN_GT_IOU == 0.3
    assert row["n_wrong_face_frames"] == n // 3 and row["n_missing_frames"] == n // 3
    assert row["coverage"] == pytest.approx(1 - (n // 3) / n)
    assert row["video_nme.io"] == 0.0                     # never scored against the wrong face
    assert row["fr@0.10"] == pytest.approx(100 * (n // 3) / n)   # but counted as failures
    assert index.landmark_scheme == "wflw98"


def test_default_is_frame_for_detectors_that_find_faces_themselves(tiny):
    from types import SimpleNamespace

    from wflwv.datasets.index import load_index

    index = load_index(tiny)
    assert default_box_source(index, SimpleNamespace(finds_faces=True)) == "frame"
    assert default_box_source(index, SimpleNamespace(finds_faces=False)) == "dataset"
