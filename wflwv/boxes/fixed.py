"""Box sources whose boxes are known before decoding: ``dataset`` and ``gt``.

* ``dataset`` — the boxes stored in the index (``bbox`` column; the official WFLW-V protocol).
* ``gt`` — the tight box of the GT landmarks of each frame (the 300-VW / SBR protocol).
* ``frame`` — the whole frame, for landmark detectors that find the face themselves (MediaPipe);
  a frame where the detector returns no landmarks is a frame without a face, and the scene-cut
  detector restarts the detector's own tracking.

``dataset`` and ``gt`` follow one annotated face through the whole video (one track); a frame whose box is not
finite is a frame without a face.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from wflwv.boxes.base import BoxSource, BoxSourceError, FrameBox, TrackRecord, VideoBoxes


def gt_boxes(landmarks: np.ndarray) -> np.ndarray:
    """Tight ``[T, 4]`` boxes (x1 y1 x2 y2) of ``[T, N, 2]`` landmarks."""
    lo = landmarks.min(axis=1)
    hi = landmarks.max(axis=1)
    return np.concatenate([lo, hi], axis=1)


class FixedBoxes(VideoBoxes):
    """A session over precomputed ``[T, 4]`` boxes."""

    def __init__(self, boxes: np.ndarray, kind: str):
        super().__init__(len(boxes))
        self.boxes = np.asarray(boxes, np.float64)
        self.kind = kind

    def _propose(self, t: int, image: Any) -> FrameBox:
        b = self.boxes[t]
        ok = bool(np.isfinite(b).all())
        return FrameBox(t, b if ok else None, self.kind if ok else "none", t == 0)

    def precomputed(self) -> TrackRecord:
        """The whole record, known without decoding."""
        return TrackRecord.whole(self.boxes)


class DatasetBoxSource(BoxSource):
    """``dataset``: the index's own boxes."""

    def check(self, index) -> None:
        """Refuse an index without a box on every frame."""
        vids = index.video_ids(None)
        if vids and index.boxes(vids[0]) is None:
            raise BoxSourceError(f"index {index.path} has no box for every frame; use --boxes detector:hog "
                                 f"(face detector + tracker, the default for such an index), --boxes gt "
                                 f"(labelled data) or rebuild the index with boxes")

    def open(self, index, video_id: str, n_frames: int, gt: Optional[np.ndarray] = None) -> VideoBoxes:
        """Boxes of ``video_id`` from the index."""
        boxes = index.boxes(video_id)
        if boxes is None:
            raise BoxSourceError(f"index {index.path} has no box for every frame of video {video_id!r}; "
                                 f"use --boxes detector:hog, --boxes gt (labelled data) or rebuild the index "
                                 f"with boxes")
        return FixedBoxes(boxes, "dataset")


class GtBoxSource(BoxSource):
    """``gt``: tight boxes of the GT landmarks."""

    needs_gt = True

    def check(self, index) -> None:
        """Refuse an unlabelled index."""
        if index.landmark_scheme is None:
            raise BoxSourceError(f"index {index.path} is unlabelled, so --boxes gt has no GT to take boxes "
                                 f"from; use --boxes detector:hog (the default for unlabelled data)")

    def open(self, index, video_id: str, n_frames: int, gt: Optional[np.ndarray] = None) -> VideoBoxes:
        """GT boxes of ``video_id``."""
        if gt is None:
            gt = index.landmarks(video_id)
        if gt is None:
            raise BoxSourceError(f"video {video_id!r} has no GT landmarks, so --boxes gt cannot serve it; "
                                 f"use --boxes dataset or --boxes detector:hog")
        return FixedBoxes(gt_boxes(gt), "gt")


class FrameSession(VideoBoxes):
    """Whole-frame boxes; scene cuts from the grey-histogram cut detector."""

    def __init__(self, n_frames: int, cut_detector):
        super().__init__(n_frames)
        self.cut_detector = cut_detector
        cut_detector.reset()

    def _propose(self, t: int, image: Any) -> FrameBox:
        from wflwv.boxes.hog import to_grey

        if image is None:
            raise BoxSourceError("box source 'frame' needs decoded frames (do not pass --decode never)")
        cut, dist = self.cut_detector.step(to_grey(image))
        h, w = image.shape[:2]
        return FrameBox(t, np.array([0.0, 0.0, float(w), float(h)]), "frame", t == 0 or bool(cut),
                        bool(cut) and t > 0, dist)


class FrameBoxSource(BoxSource):
    """``frame``: the whole frame (self-detecting landmark detectors such as MediaPipe)."""

    needs_pixels = True
    convention = "frame"

    def open(self, index, video_id: str, n_frames: int, gt: Optional[np.ndarray] = None) -> VideoBoxes:
        """A whole-frame session with a fresh cut detector."""
        from wflwv.boxes.cut import GreyHistCut

        return FrameSession(n_frames, GreyHistCut())
