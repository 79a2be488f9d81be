"""MediaPipe FaceMesh (legacy solution, 468 points; extra ``[mediapipe]``) with an APPROXIMATE 68 map.

Two registered modes (``docs/box_sources.md``): ``mediapipe468.static`` (face detector on every frame,
``static_image_mode=True``) and ``mediapipe468.track`` (``static_image_mode=False``: the previous
landmarks crop the next frame, an *online tracked* detector; plain ``mediapipe468`` is this mode).

Output: ``output="ibug68"`` (default) maps the mesh to 68 iBUG-ordered points through the named,
versioned table :data:`MP468_TO_IBUG68` (``mp468_to_ibug68@1``). Google publishes no such
correspondence; the table was chosen by hand from the canonical mesh topology (the mesh vertex at
each iBUG definition, left/right symmetric), so **every NME through it is approximate** and carries
``approx_map = true``. Checked on the 10 faces of ``../shared/realdata`` 68-point images that
FaceMesh finds (static mode): mean NME (36/45) ≈ 0.067, largest on the jaw (the mesh contour is
a 3D silhouette, not the 2D iBUG jaw line); eyes, nose and lips 0.03–0.07. ``output="mediapipe468"`` returns the native 468 points (GT-free jitter with
the eye-corner pair 33/263, flagged ``cross_scheme = true`` next to 68-point models).

Frames without a face give an all-NaN row (documented "no face" marker; :attr:`last_found`).
Tracking state lives inside the MediaPipe graph, so it cannot be split or stacked across videos:
the detector resets itself whenever ``keys`` show a new video or a non-consecutive frame.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

import numpy as np

from wflwv.detectors.base import Detector, DetectorCfg

MEDIAPIPE_VERSION = "0.10.14"
EXTRA_MSG = ("mediapipe468 needs the [mediapipe] extra, which is not installed: pip install "
             "'wflwv[mediapipe]' (mediapipe==0.10.14). It pulls opencv-contrib-python 5.x, which "
             "replaces opencv-python-headless<5 — install it in a separate environment.")
MAP_NAME = "mp468_to_ibug68@1"
EYE_PAIR_468 = (33, 263)   # outer eye corners of the native mesh (GT-free jitter normaliser)

# iBUG-68 index → MediaPipe mesh vertex, in iBUG order. APPROXIMATE (see module docstring).
MP468_TO_IBUG68: Tuple[int, ...] = (
    # jaw 0-16 (subject's right ear → chin → left ear)
    127, 234, 93, 132, 58, 136, 150, 176, 152, 400, 379, 365, 288, 361, 323, 454, 356,
    # right brow 17-21 (outer → inner), left brow 22-26 (inner → outer)
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
    # nose bridge 27-30, lower nose 31-35
    168, 197, 5, 4, 98, 97, 2, 326, 327,
    # right eye 36-41, left eye 42-47
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
    # outer lips 48-59
    61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91,
    # inner lips 60-67
    78, 82, 13, 312, 308, 317, 14, 87,
)
assert len(MP468_TO_IBUG68) == 68 and len(set(MP468_TO_IBUG68)) == 68

LICENSE = ("Apache-2.0 (mediapipe); bundled face_landmark.tflite under the MediaPipe Face Mesh "
           "model card terms")


def import_mediapipe() -> Any:
    """Import mediapipe, raising an ImportError that names the ``[mediapipe]`` extra when missing."""
    try:
        import mediapipe as mp  # noqa: WPS433 (optional dependency)
    except ImportError as exc:
        raise ImportError(EXTRA_MSG) from exc
    return mp


def to_ibug68(mesh: np.ndarray) -> np.ndarray:
    """``[..., 468, 2]`` mesh points → ``[..., 68, 2]`` via ``mp468_to_ibug68@1`` (approximate)."""
    mesh = np.asarray(mesh)
    if mesh.shape[-2] < 468:
        raise ValueError(f"expected >= 468 mesh points, got shape {mesh.shape}")
    return mesh[..., list(MP468_TO_IBUG68), :]


class MediaPipe468(Detector):
    """FaceMesh on whole RGB frames; static or tracking mode; boxes are ignored (own detector)."""

    def __init__(self, cfg: DetectorCfg):
        super().__init__(cfg)
        self._mp = import_mediapipe()
        self._mesh: Any = None
        self._last_key: Optional[Tuple[str, int]] = None
        self.last_found = np.zeros(0, bool)

    @property
    def static(self) -> bool:
        """True for ``static_image_mode`` (detection on every frame)."""
        return bool(self.cfg.options.get("mode") == "static")

    def reset(self) -> None:
        """Drop the tracking graph; the next frame starts a fresh track."""
        if self._mesh is not None:
            self._mesh.close()
        self._mesh, self._last_key = None, None

    def _graph(self) -> Any:
        if self._mesh is None:
            o = self.cfg.options
            self._mesh = self._mp.solutions.face_mesh.FaceMesh(
                static_image_mode=self.static, max_num_faces=1, refine_landmarks=False,
                min_detection_confidence=o.get("min_detection_confidence", 0.5),
                min_tracking_confidence=o.get("min_tracking_confidence", 0.5))
        return self._mesh

    def mesh(self, image: np.ndarray) -> Optional[np.ndarray]:
        """Native ``[468, 2]`` float64 frame-pixel points for one RGB uint8 frame, None if no face."""
        img = np.asarray(image)
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"mediapipe468 expects [H, W, 3] RGB uint8 frames, got {img.shape} "
                             f"{img.dtype}")
        res = self._graph().process(np.ascontiguousarray(img))
        if not res.multi_face_landmarks:
            return None
        h, w = img.shape[:2]
        lm = res.multi_face_landmarks[0].landmark
        return np.array([(p.x * w, p.y * h) for p in lm[:468]], np.float64)

    def predict_frames(self, frames: Sequence[np.ndarray], boxes: Optional[np.ndarray] = None,
                       state: Any = None, gt: Optional[np.ndarray] = None,
                       keys: Optional[Sequence[Tuple[str, int]]] = None) -> Tuple[np.ndarray, Any]:
        """``[B, N, 2]`` points (N = 68 mapped or 468 native); NaN rows where no face was found."""
        native = self.cfg.landmark_scheme == "mediapipe468"
        out = np.full((len(frames), 468 if native else 68, 2), np.nan)
        found = np.zeros(len(frames), bool)
        for i, frame in enumerate(frames):
            if keys is not None and not self.static:
                key = (str(keys[i][0]), int(keys[i][1]))
                last = self._last_key
                if last is None or key[0] != last[0] or key[1] != last[1] + 1:
                    self.reset()
                self._last_key = key
            m = self.mesh(frame)
            if m is not None:
                out[i] = m if native else to_ibug68(m)
                found[i] = True
        self.last_found = found
        return out, state


def create(name: str = "mediapipe468", weights: Optional[str] = None, device: str = "cpu",
           dtype: Any = None, **options: Any) -> MediaPipe468:
    """Registry factory: ``mediapipe468[.static|.track]``; options ``output``, ``mode``, confidences."""
    if weights is not None:
        raise ValueError("mediapipe468 uses the .tflite models bundled in the mediapipe wheel; "
                         "weights= is not supported")
    known = {"output", "mode", "min_detection_confidence", "min_tracking_confidence"}
    unknown = set(options) - known
    if unknown:
        raise ValueError(f"mediapipe468: unknown option(s) {sorted(unknown)}; known: {sorted(known)}")
    suffix = name.split(".", 1)[1] if "." in name else "track"
    mode = options.pop("mode", suffix)
    if mode not in ("static", "track"):
        raise ValueError(f"mediapipe468: mode {mode!r} must be 'static' or 'track' "
                         f"(names mediapipe468.static / mediapipe468.track)")
    output = options.pop("output", "ibug68")
    if output not in ("ibug68", "mediapipe468"):
        raise ValueError(f"mediapipe468: output {output!r} must be 'ibug68' or 'mediapipe468'")
    mp = import_mediapipe()
    version = getattr(mp, "__version__", "unknown")
    approx = output == "ibug68"
    cfg = DetectorCfg(may_miss=True, finds_faces=True, 
        name=f"mediapipe468.{mode}", family="mediapipe468", landmark_scheme=output, num_landmarks=68 if approx else 468,
        input_size=0, crop_protocol="none", weights_license=LICENSE,
        paper="Kartynnik et al., Real-time Facial Surface Geometry from Monocular Video on Mobile "
              "GPUs, CVPR-W 2019",
        origin_repo=f"google/mediapipe (PyPI mediapipe=={version})", stateful=mode == "track",
        extra="mediapipe",
        notes=(f"APPROXIMATE 68-point mapping {MAP_NAME}; approx_map=true" if approx else
               "native 468 points; jitter normaliser pair (33, 263); cross_scheme=true"),
        options={"mode": mode, "output": output, "map": MAP_NAME if approx else None,
                 "approx_map": approx, "cross_scheme": not approx, "mediapipe_version": version,
                 **options})
    if version != MEDIAPIPE_VERSION:
        cfg.options["version_warning"] = f"tested with mediapipe=={MEDIAPIPE_VERSION}"
    return MediaPipe468(cfg)
