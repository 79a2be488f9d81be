"""Box sources: where the face box of every frame comes from (a first-class protocol knob).

One package serves every index, labelled or not: the harness asks the run's box source for a
per-video session (:class:`~wflwv.boxes.base.VideoBoxes`) and drives it frame by frame; the
session records the tracked box, the track id and scene cuts of every frame
(:class:`~wflwv.boxes.base.TrackRecord`).

* ``dataset`` — the index's boxes (:mod:`~wflwv.boxes.fixed`);
* ``gt`` — tight boxes of the GT landmarks (:mod:`~wflwv.boxes.fixed`);
* ``frame`` — the whole frame, for detectors that find the face themselves (:mod:`~wflwv.boxes.fixed`);
* ``detector:<name>[:every=K,roi=R,cut=C]`` — a face detector (``hog``: dlib HOG, extra ``[dlib]``,
  or a callable registered with :func:`register_face_detector`) every K frames, tracked from the
  previous landmarks in between, restarted at scene cuts (:mod:`~wflwv.boxes.detector`,
  :mod:`~wflwv.boxes.tracker`, :mod:`~wflwv.boxes.cut`, :mod:`~wflwv.boxes.hog`).

Without ``--boxes``, an index with a box on every frame uses ``dataset`` and any other index the
face detector + tracker ``detector:hog`` (:func:`default_box_source`). Importing this package
imports neither dlib nor torch. See ``docs/box_sources.md``.
"""

from __future__ import annotations

from typing import List

from wflwv.boxes.base import BoxSource, BoxSourceError, FrameBox, TrackRecord, VideoBoxes, iou
from wflwv.boxes.detector import FACE_DETECTORS, register_face_detector
from wflwv.boxes.fixed import gt_boxes

DEFAULT_DETECTOR = "detector:hog"

__all__ = ["BoxSource", "BoxSourceError", "FrameBox", "TrackRecord", "VideoBoxes", "iou", "gt_boxes",
           "FACE_DETECTORS", "register_face_detector", "create_box_source", "default_box_source",
           "box_source_names", "DEFAULT_DETECTOR"]


def box_source_names() -> List[str]:
    """Every box-source spec that can be created now (``detector:*`` for each known face detector)."""
    return ["dataset", "gt", "frame", "detector:hog"] + [f"detector:{n}" for n in sorted(FACE_DETECTORS) if n != "hog"]


def create_box_source(spec: str) -> BoxSource:
    """Parse ``spec`` (``dataset`` | ``gt`` | ``detector:<name>[:k=v,...]``) into a :class:`BoxSource`.

    The returned source's ``spec`` is canonical: options equal to their defaults are dropped.
    """
    from wflwv.boxes.detector import DEFAULTS, FaceDetectorBoxSource, parse_options
    from wflwv.boxes.fixed import DatasetBoxSource, FrameBoxSource, GtBoxSource

    spec = str(spec).strip()
    if spec == "dataset":
        return DatasetBoxSource("dataset")
    if spec == "gt":
        return GtBoxSource("gt")
    if spec == "frame":
        return FrameBoxSource("frame")
    if spec.startswith("detector:"):
        _, _, rest = spec.partition(":")
        name, _, opt_text = rest.partition(":")
        if not name:
            raise BoxSourceError(f"box source {spec!r} names no face detector; e.g. detector:hog")
        if name != "hog" and name not in FACE_DETECTORS:
            raise BoxSourceError(f"box source {spec!r}: no face detector {name!r} is registered; "
                                 f"use detector:hog, --boxes dataset or --boxes gt")
        opts = parse_options(name, opt_text)
        changed = [f"{k}={opts[k]:g}" for k in DEFAULTS if opts[k] != DEFAULTS[k]]
        canon = f"detector:{name}" + (":" + ",".join(changed) if changed else "")
        return FaceDetectorBoxSource(canon, opts, name)
    raise BoxSourceError(f"unknown box source {spec!r}; choose 'dataset', 'gt', 'frame' or "
                         f"'detector:<name>' "
                         f"(e.g. detector:hog)")


def default_box_source(index, detector_cfg=None) -> str:
    """``frame`` for detectors that find faces themselves; else ``dataset`` when the index has a box
    on every frame of its first video, else ``detector:hog`` (face detector + tracker)."""
    if detector_cfg is not None and getattr(detector_cfg, "finds_faces", False):
        return "frame"
    vids = index.video_ids(None)
    if vids and index.boxes(vids[0]) is not None:
        return "dataset"
    return DEFAULT_DETECTOR
