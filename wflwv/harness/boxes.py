"""Box sources: where the face box of each frame comes from (a first-class protocol knob).

* ``dataset`` — the boxes stored in the index (``bbox`` column; the official WFLW-V protocol).
* ``gt`` — the tight box of the GT landmarks of each frame (the 300-VW / SBR protocol, ``bbox=gt``).
* ``detector:<name>`` — a face detector run on each frame: ``detector:hog`` (dlib HOG, extra
  ``[dlib]``) or any callable registered with :func:`register_face_detector`. A non-finite box means
  "no face": that frame is a missing detection (counted in coverage; the detector state restarts).
"""

from __future__ import annotations

from typing import Callable, Dict, Optional

import numpy as np

BOX_SOURCES = ("dataset", "gt")
FACE_DETECTORS: Dict[str, Callable[[np.ndarray], np.ndarray]] = {}


class BoxSourceError(ValueError):
    """A box source that is unknown or cannot serve a video."""


def register_face_detector(name: str, fn: Callable[[np.ndarray], np.ndarray]) -> None:
    """Register ``fn(frame RGB uint8) -> box [4]`` as box source ``detector:<name>``."""
    FACE_DETECTORS[name] = fn


def check_box_source(spec: str) -> str:
    """Validate a box-source spec (``dataset`` | ``gt`` | ``detector:<name>``) and return it."""
    if spec in BOX_SOURCES:
        return spec
    if spec.startswith("detector:"):
        name = spec.partition(":")[2]
        if name == "hog" and name not in FACE_DETECTORS:
            try:  # dlib's HOG detector (extra [dlib]); NaN box = no face = a missing detection
                from wflwv.facebox.hog import largest_face_box
            except ImportError as exc:
                raise BoxSourceError(f"box source {spec!r} needs dlib: pip install 'wflwv[dlib]' "
                                     f"({exc})") from None
            register_face_detector("hog", largest_face_box)
        if name not in FACE_DETECTORS:
            raise BoxSourceError(
                f"box source {spec!r}: no face detector {name!r} is registered; use detector:hog, "
                f"--boxes dataset or --boxes gt")
        return spec
    raise BoxSourceError(f"unknown box source {spec!r}; choose 'dataset', 'gt' or 'detector:<name>'")


def gt_boxes(landmarks: np.ndarray) -> np.ndarray:
    """Tight ``[T, 4]`` boxes (x1 y1 x2 y2) of ``[T, N, 2]`` landmarks."""
    lo = landmarks.min(axis=1)
    hi = landmarks.max(axis=1)
    return np.concatenate([lo, hi], axis=1)


def video_boxes(index, video_id: str, source: str, gt: Optional[np.ndarray] = None) -> Optional[np.ndarray]:
    """``[T, 4]`` boxes of ``video_id`` from ``source``; None for per-frame face detectors."""
    if source == "dataset":
        boxes = index.boxes(video_id)
        if boxes is None:
            raise BoxSourceError(f"index {index.path} has no box for every frame of video {video_id!r}; "
                                 f"use --boxes gt (labelled data) or rebuild the index with boxes")
        return boxes
    if source == "gt":
        if gt is None:
            gt = index.landmarks(video_id)
        if gt is None:
            raise BoxSourceError(f"video {video_id!r} has no GT landmarks, so --boxes gt cannot serve it; "
                                 f"use --boxes dataset")
        return gt_boxes(gt)
    if source.startswith("detector:"):
        return None
    raise BoxSourceError(f"unknown box source {source!r}")
