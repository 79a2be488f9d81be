"""Detect-every-k face boxes with tracking from the previous frame's landmarks.

:class:`BoxTracker` is driven frame by frame: ``propose(image)`` returns the face box for the frame
(:class:`FrameBox`), the caller predicts landmarks in it and hands them back with ``observe(lm)``.

- A **detection** runs on the first frame, every ``every`` frames, after a scene cut, and on every
  frame while no face is tracked. A detection that finds no face marks the frame ``found=False``
  (excluded from metrics, counted) and drops the track.
- In between, the box is **tracked** from the previous landmarks: their bounding box mapped through
  the box↔landmark relation measured at the last detection (``box_from_landmarks``). While the
  face moves faster than ``roi_motion`` (2 %) of its width per frame, the face detector also runs
  inside that box grown by ``roi`` (0.4) per side, downscaled so the face is ``roi_face_px``
  (120 px) wide — a small fraction of a full-frame detection — and its overlapping face replaces
  the box (``source="roi"``). A pure landmark box lags on fast pans and dlib's predictor then
  drifts off the face (8 semi-synthetic clips: NME +37 % at k=5 without the ROI step, +1.7 % at k=10
  with it, both against HOG on every frame).
- ``new_track`` is set where a segment must start: after a cut, after frames without a face, and
  when a detection does not overlap the tracked face (IoU < ``min_iou``, another face).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np

from wflwv.boxes.base import FrameBox, iou


def _lm_box(lm: np.ndarray) -> np.ndarray:
    """Centre x, centre y, width, height of the landmarks' bounding box."""
    lo, hi = lm.min(axis=0), lm.max(axis=0)
    return np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, hi[0] - lo[0], hi[1] - lo[1]])


def calibrate(box: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """Relation ``[offx, offy, sx, sy]`` of a face box to landmarks, in landmark-box units."""
    cx, cy, w, h = _lm_box(lm)
    w, h = max(w, 1e-6), max(h, 1e-6)
    bx, by = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return np.array([(bx - cx) / w, (by - cy) / h, (box[2] - box[0]) / w, (box[3] - box[1]) / h])


def box_from_landmarks(lm: np.ndarray, calib: Optional[np.ndarray] = None) -> np.ndarray:
    """Face box ``x1 y1 x2 y2`` from landmarks ``[N, 2]`` via a :func:`calibrate` relation.

    Without ``calib`` the landmark bounding box itself is returned.
    """
    cx, cy, w, h = _lm_box(np.asarray(lm, np.float64))
    ox, oy, sx, sy = (0.0, 0.0, 1.0, 1.0) if calib is None else calib
    bx, by, bw, bh = cx + ox * w, cy + oy * h, sx * w, sy * h
    return np.array([bx - bw / 2, by - bh / 2, bx + bw / 2, by + bh / 2])


class BoxTracker:
    """Face box source for one clip at a time (call :meth:`reset` between clips)."""

    def __init__(self, face_detector: Any, every: int = 5, cut_detector: Any = None,
                 min_iou: float = 0.3, min_size: float = 8.0, min_consistency: float = 0.5,
                 roi: Optional[float] = 0.4, roi_face_px: float = 120.0, roi_motion: float = 0.02):
        if int(every) < 1:
            raise ValueError(f"every={every}: detect-every-k needs k >= 1 (1 = detect on every frame)")
        self.face_detector = face_detector
        self.every = int(every)
        self.cut_detector = cut_detector
        self.min_iou = float(min_iou)
        self.min_size = float(min_size)
        self.min_consistency = float(min_consistency)
        self.roi = None if roi is None else float(roi)
        self.roi_face_px = float(roi_face_px)
        self.roi_motion = float(roi_motion)
        self.n_redetect_ = 0
        self.reset()

    def config(self) -> Dict[str, Any]:
        """Settings recorded with results: detector, k, cut detector, IoU rule."""
        det = getattr(self.face_detector, "config", lambda: {"name": type(self.face_detector).__name__})
        cut = self.cut_detector.config() if self.cut_detector is not None else None
        return {"face_detector": det(), "every": self.every, "cut_detector": cut,
                "min_iou": self.min_iou, "min_size": self.min_size,
                "min_consistency": self.min_consistency, "roi": self.roi,
                "roi_face_px": self.roi_face_px, "roi_motion": self.roi_motion,
                "track_from": "previous_landmarks"}

    def reset(self) -> None:
        """Forget the track, the calibration and the cut detector's previous frame."""
        self.index_ = -1
        self.last_box_: Optional[np.ndarray] = None
        self.last_lm_: Optional[np.ndarray] = None
        self.prev_lm_: Optional[np.ndarray] = None
        self.calib_: Optional[np.ndarray] = None
        self.since_detect_ = 0
        self.pending_: Optional[FrameBox] = None
        if self.cut_detector is not None:
            self.cut_detector.reset()

    def _detect(self, image: np.ndarray, cut: bool, dist: float, tracked: Optional[np.ndarray] = None
                ) -> FrameBox:
        dets = self.face_detector.detect(image)
        if len(dets) == 0:
            self.last_box_ = self.last_lm_ = None
            return FrameBox(self.index_, None, "none", True, cut, dist)
        pick, new = 0, True
        if tracked is not None and not cut:
            overlaps = [iou(tracked, d[:4]) for d in dets]
            best = int(np.argmax(overlaps))
            if overlaps[best] >= self.min_iou:
                pick, new = best, False
        self.since_detect_ = 0
        self.calib_ = None                      # re-measured in observe()
        box = dets[pick, :4].copy()
        self.last_box_ = box
        return FrameBox(self.index_, box, "detect", new, cut, dist, float(dets[pick, 4]))

    def _moving(self, box: np.ndarray) -> bool:
        """Whether the face moved more than ``roi_motion`` of its width in the last frame."""
        if self.prev_lm_ is None or self.last_lm_ is None:
            return True
        step = np.linalg.norm(self.last_lm_.mean(axis=0) - self.prev_lm_.mean(axis=0))
        return bool(step > self.roi_motion * max(box[2] - box[0], 1e-6))

    def _roi_detect(self, image: np.ndarray, box: np.ndarray, cut: bool, dist: float) -> FrameBox:
        """Detector inside ``box`` grown by ``roi``; its overlapping face, else the tracked box.

        Skipped (plain landmark tracking) while the face moves less than ``roi_motion`` of its
        width per frame: a slow face is followed well by its landmark box.
        """
        if self.roi is not None and self._moving(box):
            w, h = box[2] - box[0], box[3] - box[1]
            H, W = image.shape[:2]
            x0, y0 = int(max(0, box[0] - self.roi * w)), int(max(0, box[1] - self.roi * h))
            x1, y1 = int(min(W, box[2] + self.roi * w)), int(min(H, box[3] + self.roi * h))
            if x1 - x0 >= 40 and y1 - y0 >= 40:
                crop = np.ascontiguousarray(image[y0:y1, x0:x1])
                scale = min(1.0, self.roi_face_px / max(w, 1e-6))
                if scale < 1.0:                  # big faces: HOG needs ~80 px, not the full size
                    import cv2

                    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
                    crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
                dets = self.face_detector.detect(crop, retry=False)
                if len(dets):
                    dets[:, :4] = dets[:, :4] / scale + (x0, y0, x0, y0)
                    ov = [iou(box, d[:4]) for d in dets]
                    k = int(np.argmax(ov))
                    if ov[k] >= self.min_iou:
                        return FrameBox(self.index_, dets[k, :4].copy(), "roi", False, cut, dist,
                                        float(dets[k, 4]))
        return FrameBox(self.index_, box, "track", False, cut, dist)

    def propose(self, image: np.ndarray, grey: Optional[np.ndarray] = None) -> FrameBox:
        """The face box for the next frame of the clip (RGB or grey uint8 image)."""
        self.index_ += 1
        cut, dist = False, 0.0
        if self.cut_detector is not None:
            from wflwv.boxes.hog import to_grey

            cut, dist = self.cut_detector.step(grey if grey is not None else to_grey(image))
            cut = bool(cut) and self.index_ > 0
        tracking = self.last_lm_ is not None and self.calib_ is not None
        if cut or not tracking or self.since_detect_ + 1 >= self.every:
            fb = self._detect(image, cut, dist, None if cut or not tracking else self.last_box_)
        else:
            box = box_from_landmarks(self.last_lm_, self.calib_)
            h, w = image.shape[:2]
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            small = min(box[2] - box[0], box[3] - box[1]) < self.min_size
            if small or not (0 <= cx < w and 0 <= cy < h):   # lost: face left the frame or collapsed
                self.last_lm_ = None
                fb = self._detect(image, cut, dist)
                fb.new_track = True
            else:
                self.since_detect_ += 1
                fb = self._roi_detect(image, box, cut, dist)
                self.last_box_ = fb.box
        self.pending_ = fb
        return fb

    def observe(self, landmarks: Optional[np.ndarray]) -> bool:
        """Hand back the landmarks predicted in the proposed box (None/NaN: the face was lost).

        Returns False when a *tracked* frame fails the consistency check — the box implied by the
        new landmarks overlaps the tracked box by IoU < ``min_consistency`` (the predictor drifted
        off the face). The caller then calls :meth:`redetect` for the same frame.
        """
        fb, self.pending_ = self.pending_, None
        if fb is None:
            raise RuntimeError("observe() called without a preceding propose()")
        if fb.box is None or landmarks is None or not np.isfinite(landmarks).all():
            self.last_lm_ = None
            return fb.box is None
        lm = np.asarray(landmarks, np.float64)
        if fb.source in ("detect", "roi"):
            self.calib_ = calibrate(fb.box, lm)
        elif iou(box_from_landmarks(lm, self.calib_), fb.box) < self.min_consistency:
            self.last_lm_ = None
            self.pending_ = fb                 # redetect() replaces this frame's decision
            return False
        self.prev_lm_ = None if fb.new_track else self.last_lm_
        self.last_lm_ = lm
        return True

    def redetect(self, image: np.ndarray) -> FrameBox:
        """Detect again on the current frame after a failed consistency check."""
        fb = self.pending_
        if fb is None or fb.source != "track":
            raise RuntimeError("redetect() is only valid after observe() returned False on a tracked frame")
        self.n_redetect_ += 1
        new = self._detect(image, fb.cut, fb.cut_distance, tracked=fb.box)
        self.pending_ = new
        return new
