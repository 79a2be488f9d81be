"""``detector:<name>``: a face detector on the frames, detect-every-k with tracking in between.

The session wraps :class:`wflwv.boxes.tracker.BoxTracker`: detection on the first frame, every
``every`` frames, after a scene cut (:class:`wflwv.boxes.cut.GreyHistCut`) and while no face is
tracked; in between the box follows the previous landmarks (ROI re-detection while the face
moves). Options (``detector:hog:every=1,roi=0``): ``every`` (default 10), ``roi`` (0.4; 0 = pure
landmark tracking), ``cut`` (Hellinger threshold, 0.30). ``hog`` is dlib's HOG detector (extra
``[dlib]``); any callable registered with :func:`register_face_detector` works the same way.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

import numpy as np

from wflwv.boxes.base import BoxSource, BoxSourceError, FrameBox, VideoBoxes

#: name -> callable(frame RGB uint8) -> box [4] (NaN = no face); see register_face_detector
FACE_DETECTORS: Dict[str, Callable[[np.ndarray], np.ndarray]] = {}
DEFAULTS = {"every": 10, "roi": 0.4, "cut": 0.30}
_HOG: Dict[Any, Any] = {}     # one dlib HOG detector per process and settings (building one takes seconds)


def shared_hog(upsample: int = 0, retry_upsample: Optional[int] = 1, max_side: Optional[int] = None):
    """The process-wide :class:`wflwv.boxes.hog.HogFaceDetector` with these settings."""
    from wflwv.boxes.hog import HogFaceDetector

    key = (int(upsample), retry_upsample, max_side)
    if key not in _HOG:
        _HOG[key] = HogFaceDetector(upsample=upsample, retry_upsample=retry_upsample, max_side=max_side)
    return _HOG[key]


def register_face_detector(name: str, fn: Callable[[np.ndarray], np.ndarray]) -> None:
    """Register ``fn(frame RGB uint8) -> box [4]`` (NaN×4 = no face) as box source ``detector:<name>``."""
    FACE_DETECTORS[name] = fn


class CallableFaceDetector:
    """Adapter: a ``frame -> box`` callable as a ``detect(image) -> [K, 5]`` face detector."""

    def __init__(self, name: str, fn: Callable[[np.ndarray], np.ndarray]):
        self.name, self.fn = name, fn

    def config(self) -> Dict[str, Any]:
        """Name of the registered callable."""
        return {"name": self.name}

    def detect(self, image: np.ndarray, upsample: Optional[int] = None, retry: bool = True) -> np.ndarray:
        """``[1, 5]`` (box, NaN score) or ``[0, 5]`` when the callable found no face."""
        b = np.asarray(self.fn(image), np.float64).reshape(-1)
        if b.shape != (4,) or not np.isfinite(b).all():
            return np.zeros((0, 5))
        return np.concatenate([b, [np.nan]])[None]


def parse_options(name: str, text: str) -> Dict[str, Any]:
    """``"every=1,roi=0"`` → validated options merged over :data:`DEFAULTS`."""
    opts = dict(DEFAULTS)
    for part in filter(None, (p.strip() for p in text.split(","))):
        k, sep, v = part.partition("=")
        if not sep or k not in DEFAULTS:
            raise BoxSourceError(f"box source detector:{name}: bad option {part!r}; known: "
                                 f"{', '.join(f'{k}=' for k in DEFAULTS)} (e.g. detector:{name}:every=1)")
        try:
            opts[k] = int(v) if k == "every" else float(v)
        except ValueError:
            raise BoxSourceError(f"box source detector:{name}: {k}={v!r} is not a number") from None
    if opts["every"] < 1 or opts["roi"] < 0 or not 0 < opts["cut"] <= 1:
        raise BoxSourceError(f"box source detector:{name}: every >= 1, roi >= 0 and 0 < cut <= 1 "
                             f"(got {opts})")
    return opts


class TrackedBoxes(VideoBoxes):
    """A session driving a :class:`BoxTracker` over RGB frames (the cut detector sees them grey)."""

    def __init__(self, n_frames: int, tracker):
        super().__init__(n_frames)
        self.tracker = tracker
        tracker.reset()

    @staticmethod
    def _grey(image: np.ndarray) -> np.ndarray:
        from wflwv.boxes.hog import to_grey

        if image is None:
            raise BoxSourceError("a face-detector box source needs decoded frames (do not pass --decode never)")
        return to_grey(image)

    def _propose(self, t: int, image: Any) -> FrameBox:
        self._last = image
        return self.tracker.propose(image, self._grey(image))

    def _observe(self, landmarks: Optional[np.ndarray]) -> bool:
        return self.tracker.observe(landmarks)

    def _redetect(self, image: Any) -> FrameBox:
        return self.tracker.redetect(self._last)


class FaceDetectorBoxSource(BoxSource):
    """``detector:<name>[:options]``: face detector + tracker (+ cut detector)."""

    needs_pixels = True

    def __init__(self, spec: str, options: Dict[str, Any], name: str):
        super().__init__(spec, options)
        self.name = name
        self.convention = "dlib_hog" if name == "hog" else f"detector:{name}"
        self._face = None

    def face_detector(self):
        """The face detector object (created on first use)."""
        if self._face is None:
            if self.name in FACE_DETECTORS:
                self._face = CallableFaceDetector(self.name, FACE_DETECTORS[self.name])
            elif self.name == "hog":
                self._face = shared_hog()
            else:
                raise BoxSourceError(f"box source {self.spec!r}: no face detector {self.name!r} is registered; "
                                     f"use detector:hog, --boxes dataset or --boxes gt")
        return self._face

    def config(self) -> Dict[str, Any]:
        """Spec, options and the face/cut detector settings."""
        out = super().config()
        det = self.face_detector()
        out["face_detector"] = det.config() if hasattr(det, "config") else {"name": self.name}
        from wflwv.boxes.cut import GreyHistCut

        out["cut_detector"] = GreyHistCut(threshold=self.options["cut"]).config()
        return out

    def check(self, index) -> None:
        """The face detector must be importable (dlib for ``hog``)."""
        try:
            self.face_detector()
        except ImportError as exc:
            raise BoxSourceError(f"box source {self.spec!r} needs dlib: pip install 'wflwv[dlib]' ({exc})") from None

    def open(self, index, video_id: str, n_frames: int, gt: Optional[np.ndarray] = None) -> VideoBoxes:
        """A tracker session (fresh track, calibration and cut state)."""
        from wflwv.boxes.cut import GreyHistCut
        from wflwv.boxes.tracker import BoxTracker

        o = self.options
        tracker = BoxTracker(self.face_detector(), every=o["every"], cut_detector=GreyHistCut(o["cut"]),
                             roi=o["roi"] or None)
        return TrackedBoxes(n_frames, tracker)
