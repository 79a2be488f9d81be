"""dlib 68-point ERT shape predictor (``dlib68``; extra ``[dlib]``) — a real pretrained baseline.

The model file ``shape_predictor_68_face_landmarks.dat`` comes from the PyPI package
``face_recognition_models`` (located through the package, never a hard-coded path) and is checked
against its size and md5 from ``docs/box_sources.md`` before use. It was trained on iBUG 300-W:
**research use (trained on 300-W)**.

The predictor works on whole frames (crop protocol ``none``): :meth:`Dlib68.predict_frames` takes the
face boxes of the dataset or the GT, or ``boxes=None`` to run dlib's HOG face detector
(:class:`wflwv.boxes.hog.HogFaceDetector`). The model was trained on HOG boxes and is very
sensitive to the box convention, so given (dataset/GT, extent-style) boxes are first mapped to a
HOG box (option ``box_mode``, default ``refine``: HOG around the given box, else a fixed
extent→HOG conversion; on semi-synthetic clips NME 5.4 % vs 12.6 % with the raw boxes).
A frame where HOG finds no face gets an all-NaN row:
NaN is the documented "no face" marker here (``coverage`` in ``docs/metrics.md`` §7), and
:attr:`Dlib68.last_found` says which frames of the last call had a face.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from wflwv.detectors.base import Detector, DetectorCfg
from wflwv.boxes.hog import DLIB_EXTRA_MSG, HogFaceDetector, import_dlib, to_grey

MODEL_FILE = "shape_predictor_68_face_landmarks.dat"
MODEL_MD5 = "73fde5e05226548677a050913eed4e04"
MODEL_SHA256 = "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f"
MODEL_BYTES = 99_693_937
LICENSE = "research use (trained on 300-W)"
# HOG box relative to the GT landmark extent box (offx, offy in box units; sx, sy scales): the mean
# of wflwv.boxes.tracker.calibrate(hog_box, gt) over the 14 faces HOG finds in the 68-point
# images of ../shared/realdata (std 0.12, 0.06, 0.09, 0.15).
EXTENT_TO_HOG = (0.0054, -0.1083, 1.0542, 1.0903)
BOX_MODES = ("refine", "convert", "raw")
_VERIFIED: Dict[Tuple[str, int, int], bool] = {}


def model_path() -> Path:
    """Location of the 68-point model inside the installed ``face_recognition_models`` package."""
    try:
        import face_recognition_models as frm  # its __init__ needs pkg_resources (setuptools)

        return Path(frm.pose_predictor_model_location())
    except ImportError as exc:
        spec = importlib.util.find_spec("face_recognition_models")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError(f"dlib68 {DLIB_EXTRA_MSG}") from exc
        # Same file the package's own locator returns; only its pkg_resources import failed.
        return Path(list(spec.submodule_search_locations)[0]) / "models" / MODEL_FILE


def verify_model(path: Path, md5: str = MODEL_MD5, size: int = MODEL_BYTES) -> Path:
    """Check the model file's size and md5 (cached per path/mtime); raise with the fix on mismatch."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"dlib68 model {path} does not exist; reinstall the [dlib] extra "
                                f"(pip install --force-reinstall face_recognition_models)")
    st = path.stat()
    key = (str(path), st.st_size, int(st.st_mtime_ns))
    if _VERIFIED.get(key):
        return path
    if st.st_size != size:
        raise ValueError(f"dlib68 model {path} has {st.st_size} bytes, expected {size} "
                         f"({MODEL_FILE} from face_recognition_models 0.3.0); wrong or truncated file")
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    if h.hexdigest() != md5:
        raise ValueError(f"dlib68 model {path} has md5 {h.hexdigest()}, expected {md5}; "
                         f"reinstall face_recognition_models or pass the genuine {MODEL_FILE}")
    _VERIFIED[key] = True
    return path


def _box_to_rect(dlib: Any, box: np.ndarray) -> Any:
    b = np.asarray(box, np.float64)
    if b.shape != (4,) or not np.isfinite(b).all() or b[2] <= b[0] or b[3] <= b[1]:
        raise ValueError(f"face box {b.tolist()} must be finite x1 y1 x2 y2 with x2 > x1, y2 > y1")
    return dlib.rectangle(int(round(b[0])), int(round(b[1])), int(round(b[2])), int(round(b[3])))


class Dlib68(Detector):
    """dlib's 68-point predictor on whole frames, inside the boxes of the run's box source."""

    def __init__(self, cfg: DetectorCfg, path: Path, face_detector: Optional[HogFaceDetector] = None):
        super().__init__(cfg)
        dlib = import_dlib("dlib68")
        self._dlib = dlib
        self.path = verify_model(path)
        self._predictor = dlib.shape_predictor(str(self.path))
        self._face_detector = face_detector
        self.box_stats: Dict[str, int] = {"native": 0, "refined": 0, "converted": 0, "raw": 0}
        self.box_convention = "extent"

    def set_box_convention(self, convention: str) -> None:
        """Tell the detector how the box source draws its boxes (``dlib_hog`` boxes are used as is)."""
        self.box_convention = str(convention)

    @property
    def face_detector(self) -> HogFaceDetector:
        """The HOG detector that ``box_mode=refine`` runs around a given box (created on first use)."""
        if self._face_detector is None:
            from wflwv.boxes.detector import shared_hog

            o = self.cfg.options
            self._face_detector = shared_hog(o.get("upsample", 0), o.get("retry_upsample", 1), o.get("det_max_side"))
        return self._face_detector

    def predict_box(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """68 iBUG points ``[68, 2]`` (float64, 0-based frame px) for one face box ``x1 y1 x2 y2``."""
        shape = self._predictor(to_grey(image), _box_to_rect(self._dlib, box))
        return np.array([(p.x, p.y) for p in shape.parts()], np.float64)

    def predict_image(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """68 points ``[68, 2]`` for one image and a face box in dlib HOG convention."""
        return self.predict_box(to_grey(image), np.asarray(box, np.float64))

    def given_box(self, grey: np.ndarray, box: np.ndarray) -> np.ndarray:
        """The box the predictor gets for a given dataset/GT (extent-style) face box.

        dlib's model was trained on HOG boxes; tight or dataset boxes put it off (NME 0.35 instead
        of 0.04 on a turned face). ``box_mode``: ``refine`` (default) runs HOG around the given box
        and keeps the detection overlapping it (IoU >= 0.3), else converts the box with
        :data:`EXTENT_TO_HOG`; ``convert`` always converts; ``raw`` uses the box as is.
        """
        from wflwv.boxes.tracker import box_from_landmarks, iou

        mode = self.cfg.options.get("box_mode", "refine")
        b = np.asarray(box, np.float64)
        if mode == "raw":
            self.box_stats["raw"] += 1
            return b
        if mode == "refine":
            w, h = b[2] - b[0], b[3] - b[1]
            x0, y0 = int(max(0, b[0] - 0.4 * w)), int(max(0, b[1] - 0.4 * h))
            x1 = int(min(grey.shape[1], b[2] + 0.4 * w))
            y1 = int(min(grey.shape[0], b[3] + 0.4 * h))
            if x1 - x0 >= 40 and y1 - y0 >= 40:
                dets = self.face_detector.detect(np.ascontiguousarray(grey[y0:y1, x0:x1]))
                if len(dets):
                    dets[:, :4] += (x0, y0, x0, y0)
                    ov = [iou(b, d[:4]) for d in dets]
                    k = int(np.argmax(ov))
                    if ov[k] >= 0.3:
                        self.box_stats["refined"] += 1
                        return dets[k, :4]
        self.box_stats["converted"] += 1
        return box_from_landmarks(b.reshape(2, 2), np.asarray(EXTENT_TO_HOG))

    def predict_frames(self, frames: Sequence[np.ndarray], boxes: Optional[np.ndarray] = None,
                       state: Any = None, gt: Optional[np.ndarray] = None,
                       keys: Optional[Sequence[Tuple[str, int]]] = None) -> Tuple[np.ndarray, Any]:
        """``[B, 68, 2]`` landmarks for RGB frames in ``boxes`` ``[B, 4]`` (x1 y1 x2 y2, finite).

        Boxes of a ``dlib_hog`` box source are used as they are; others go through
        :meth:`given_box` (option ``box_mode``). Frames without a face never reach the detector:
        the harness records them as missing detections.
        """
        if boxes is None:
            raise ValueError("dlib68 needs a face box per frame; the harness takes them from the run's box "
                             "source (--boxes dataset | gt | detector:hog)")
        out = np.full((len(frames), 68, 2), np.nan)
        native = self.box_convention == "dlib_hog"
        for i, frame in enumerate(frames):
            box = np.asarray(boxes[i], np.float64)
            try:
                grey = to_grey(frame)
                _box_to_rect(self._dlib, box)          # validate the given box first
                if native:
                    self.box_stats["native"] += 1
                    out[i] = self.predict_box(grey, box)
                else:
                    out[i] = self.predict_box(grey, self.given_box(grey, box))
            except ValueError as exc:
                where = f"frame {keys[i]}" if keys is not None else f"frame {i} of the batch"
                raise ValueError(f"dlib68, {where}: {exc}") from None
        return out, state


def create(name: str = "dlib68", weights: Optional[str] = None, device: str = "cpu", dtype: Any = None,
           **options: Any) -> Dlib68:
    """Registry factory for ``dlib68`` (options: ``upsample``, ``retry_upsample``, ``det_max_side``,
    ``box_mode`` = refine | convert | raw for given boxes).

    ``weights`` may point at a copy of the model file (e.g. Debian ``libdlib-data``); it must be
    byte-identical to the PyPI model (size and md5 are checked).
    """
    if device not in ("cpu", None):
        raise ValueError(f"dlib68 runs on the CPU only; got device={device!r}")
    known = {"upsample", "retry_upsample", "det_max_side", "box_mode"}
    if options.get("box_mode", "refine") not in BOX_MODES:
        raise ValueError(f"dlib68: box_mode {options['box_mode']!r} must be one of {BOX_MODES}")
    unknown = set(options) - known
    if unknown:
        raise ValueError(f"dlib68: unknown option(s) {sorted(unknown)}; known: {sorted(known)}")
    import_dlib("dlib68")
    path = Path(weights) if weights else model_path()
    cfg = DetectorCfg(
        name=name, family="dlib68", landmark_scheme="ibug68", num_landmarks=68, input_size=0,
        crop_protocol="none", color_order="GREY", weights_sha256=MODEL_SHA256,
        weights_bytes=MODEL_BYTES, weights_license=LICENSE,
        paper="Kazemi & Sullivan, One Millisecond Face Alignment with an Ensemble of Regression "
              "Trees, CVPR 2014",
        origin_repo="davisking/dlib (model via PyPI face_recognition_models 0.3.0)",
        extra="dlib", notes="boxes from the run's box source; detector:hog boxes used as is, "
                            "dataset/GT boxes refined to the HOG convention (box_mode)",
        options=dict(options))
    return Dlib68(cfg, path)
