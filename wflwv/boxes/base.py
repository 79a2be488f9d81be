"""The box-source contract: typed records and the two classes every box source implements.

A :class:`BoxSource` is chosen once per run (``--boxes``). For each video the harness opens a
:class:`VideoBoxes` session and drives it frame by frame::

    fb = session.propose(t, image)          # FrameBox: the face box of frame t (box None: no face)
    ok = session.observe(landmarks or None) # the landmarks predicted in that box
    if not ok:                              # tracked landmarks drifted off the face
        fb = session.redetect(image)        # detect again on the same frame, predict, observe
    ...
    record = session.result()               # TrackRecord: box, track id and cut flag per frame

Every frame is observed exactly once more than it is re-detected, so the session always knows the
final decision of each frame. Track ids count identities: a new id starts at the first face of a
video, after frames without a face, after a scene cut and whenever the detector jumps to another
face; ``n_tracks`` (distinct ids) is the identity-switch count shown on the boards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import numpy as np


class BoxSourceError(ValueError):
    """A box source that is unknown, misconfigured or cannot serve an index/video."""


@dataclass
class FrameBox:
    """The box source's decision for one frame."""

    index: int
    box: Optional[np.ndarray]    # [4] x1 y1 x2 y2 frame px, None when no face was found
    source: str                  # "dataset" | "gt" | "detect" | "roi" | "track" | "none"
    new_track: bool              # a new segment starts at this frame
    cut: bool = False            # the cut detector fired between the previous frame and this one
    cut_distance: float = 0.0
    score: float = float("nan")  # detector score on detection frames

    @property
    def found(self) -> bool:
        """Whether the frame has a face box (and hence a prediction)."""
        return self.box is not None


@dataclass
class TrackRecord:
    """What a box source decided for every frame of one video (stored with the predictions)."""

    boxes: np.ndarray            # [T, 4] float, NaN rows where no face was found
    track_id: np.ndarray         # [T] int32, -1 where no face was found
    cut: np.ndarray              # [T] bool: a scene cut starts at this frame
    kind: Optional[np.ndarray] = None   # [T] str: dataset | gt | frame | detect | roi | track | none

    @property
    def found(self) -> np.ndarray:
        """``[T]`` bool: frames with a face box."""
        return self.track_id >= 0

    @property
    def n_tracks(self) -> int:
        """Distinct track ids (1 for a single face followed through the whole clip)."""
        ids = self.track_id[self.track_id >= 0]
        return int(len(np.unique(ids)))

    @property
    def coverage(self) -> float:
        """Fraction of frames with a face box (NaN for an empty video)."""
        return float(self.found.mean()) if len(self.track_id) else float("nan")

    def breaks(self) -> np.ndarray:
        """``[T]`` bool: True at the first frame of each segment (new track id, cut, after a gap)."""
        tid = self.track_id
        prev = np.concatenate([[-2], tid[:-1]])
        return (tid >= 0) & ((tid != prev) | self.cut)

    @classmethod
    def whole(cls, boxes: np.ndarray) -> "TrackRecord":
        """One track over every frame whose box is finite (dataset / GT boxes)."""
        boxes = np.asarray(boxes, np.float64)
        found = np.isfinite(boxes).all(axis=1)
        return cls(boxes, np.where(found, 0, -1).astype(np.int32), np.zeros(len(boxes), bool))

    def kinds(self) -> np.ndarray:
        """``[T]`` how each frame's box was obtained (``"?"`` for records without it)."""
        return self.kind if self.kind is not None else np.full(len(self.track_id), "?")


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two ``x1 y1 x2 y2`` boxes (0 when either is missing)."""
    if a is None or b is None or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return 0.0
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


class VideoBoxes:
    """One video's box session; subclasses implement :meth:`_propose` (and maybe the feedback)."""

    def __init__(self, n_frames: int):
        self.n_frames = int(n_frames)
        self._boxes = np.full((self.n_frames, 4), np.nan)
        self._tid = np.full(self.n_frames, -1, np.int32)
        self._cut = np.zeros(self.n_frames, bool)
        self._kind = np.full(self.n_frames, "none", dtype="U7")
        self._next_id = 0
        self._pending: Optional[FrameBox] = None
        self._t = 0

    # -- subclass hooks -----------------------------------------------------------------------
    def _propose(self, t: int, image: Any) -> FrameBox:
        raise NotImplementedError

    def _observe(self, landmarks: Optional[np.ndarray]) -> bool:
        return True

    def _redetect(self, image: Any) -> FrameBox:
        raise RuntimeError(f"{type(self).__name__} never asks for a re-detection")

    # -- the driver's API -----------------------------------------------------------------------
    def propose(self, t: int, image: Any) -> FrameBox:
        """The face box of frame ``t`` (frames must come in order 0, 1, …)."""
        if t != self._t or self._pending is not None:
            raise RuntimeError(f"box session: frame {t} proposed out of order (expected {self._t})")
        self._pending = self._propose(t, image)
        return self._pending

    def observe(self, landmarks: Optional[np.ndarray]) -> bool:
        """Hand back the landmarks of the proposed box; False asks for :meth:`redetect`."""
        fb = self._pending
        if fb is None:
            raise RuntimeError("box session: observe() without propose()")
        lm = None if landmarks is None or not np.isfinite(landmarks).all() else landmarks
        if not self._observe(lm if fb.found else None):
            return False
        if fb.found and lm is None:      # the landmark detector found no face in the box
            fb = FrameBox(fb.index, None, "none", True, fb.cut, fb.cut_distance)
        self._commit(fb)
        return True

    def redetect(self, image: Any) -> FrameBox:
        """A fresh detection for the current frame after :meth:`observe` returned False."""
        self._pending = self._redetect(image)
        return self._pending

    def _commit(self, fb: FrameBox) -> None:
        t = self._t
        if fb.found:
            prev = self._tid[t - 1] if t > 0 else -1
            if prev < 0 or fb.new_track or fb.cut:
                self._next_id += 1
            self._tid[t] = self._next_id - 1
            self._boxes[t] = fb.box
            self._kind[t] = fb.source
        self._cut[t] = bool(fb.cut)
        self._pending = None
        self._t += 1

    def result(self) -> TrackRecord:
        """The :class:`TrackRecord` of the frames observed so far."""
        n = self._t
        return TrackRecord(self._boxes[:n].copy(), self._tid[:n].copy(), self._cut[:n].copy(),
                           self._kind[:n].copy())


@dataclass
class BoxSource:
    """Base of every box source: its spec, what it needs, and a factory of per-video sessions."""

    spec: str                                  # canonical, as recorded in the run key and rows
    options: Dict[str, Any] = field(default_factory=dict)
    needs_gt = False                           # reads the GT landmarks of the index
    needs_pixels = False                       # looks at decoded frames
    convention = "extent"                      # box style: "extent" (tight) or a detector's own

    def config(self) -> Dict[str, Any]:
        """Everything that decides the boxes (recorded in the run summary)."""
        return {"spec": self.spec, "options": dict(self.options), "convention": self.convention}

    def check(self, index) -> None:
        """Raise :class:`BoxSourceError` (with the fix) when this source cannot serve ``index``."""

    def open(self, index, video_id: str, n_frames: int, gt: Optional[np.ndarray] = None) -> VideoBoxes:
        """A fresh :class:`VideoBoxes` session for one video."""
        raise NotImplementedError
