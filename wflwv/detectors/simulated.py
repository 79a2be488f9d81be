"""SIMULATED detectors for tests and the demo: ``oracle``, ``noisy`` and ``bimodal``.

They read the ground truth (``cfg.needs_gt``) and never look at pixels, so every output that
comes from them is labelled ``simulated`` (config, results JSON, leaderboard rows).

* ``oracle`` returns GT exactly: NME 0, NMF 0.
* ``noisy:sigma=S,seed=K`` returns GT + i.i.d. N(0, (S·fs)²) per coordinate, with ``fs`` the
  face size ``sqrt(w·h)`` of the frame's GT landmark box. Analytically NMF ≈ 51200·S and
  face-size NME ≈ 100·S·sqrt(pi/2) % (``docs/metrics.md`` §4).
* ``bimodal:offset=D,p=P,sigma=S,seed=K`` picks, per frame, one of two plausible predictions
  GT ± D·fs·u (``u`` a per-video, per-landmark unit direction; the ``-`` mode with probability
  ``P``) — the flicker failure mode of the RwR paper. NME_fs = 100·D %, and
  E[NMF²] = 2P(1−P)·(51200·D)².

Noise is seeded per ``(seed, video_id, frame_index)``, so results do not depend on how videos
are batched. No torch is imported here.
"""

from __future__ import annotations

import difflib
import hashlib
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from wflwv.detectors.base import Detector, DetectorCfg

SIMULATED_LABEL = "SIMULATED: reads the ground truth, not a real model"

# kind -> {option: (type, default, (lo, hi))}
_OPTIONS: Dict[str, Dict[str, Tuple[type, Any, Tuple[float, float]]]] = {
    "oracle": {},
    "noisy": {"sigma": (float, 0.003, (0.0, 1.0)), "seed": (int, 0, (0, 2**63 - 1))},
    "bimodal": {"offset": (float, 0.005, (0.0, 1.0)), "p": (float, 0.5, (0.0, 1.0)),
                "sigma": (float, 0.0, (0.0, 1.0)), "seed": (int, 0, (0, 2**63 - 1))},
}


class SimulatedOptionError(ValueError):
    """An unknown option, or an option of the wrong type or range, for a simulated detector."""


def _resolve(kind: str, options: Dict[str, Any]) -> Dict[str, Any]:
    spec = _OPTIONS[kind]
    out: Dict[str, Any] = {}
    for key, value in options.items():
        if key not in spec:
            close = difflib.get_close_matches(key, list(spec), n=2, cutoff=0.5)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            allowed = ", ".join(spec) or "none"
            raise SimulatedOptionError(f"simulated detector {kind!r} has no option {key!r}.{hint} "
                                       f"Options: {allowed}.")
        typ, _, (lo, hi) = spec[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                typ is int and not float(value).is_integer()):
            raise SimulatedOptionError(f"option {kind}:{key}={value!r} must be a {typ.__name__} "
                                       f"(e.g. {kind}:{key}={spec[key][1]})")
        value = typ(value)
        if not lo <= value <= hi or not np.isfinite(value):
            raise SimulatedOptionError(f"option {kind}:{key}={value!r} is out of range [{lo}, {hi}]")
        out[key] = value
    for key, (_, default, _) in spec.items():
        out.setdefault(key, default)
    return out


def face_size(gt: np.ndarray) -> np.ndarray:
    """``sqrt(w·h)`` of the GT landmark box per frame, for ``[..., N, 2]`` landmarks."""
    ext = gt.max(axis=-2) - gt.min(axis=-2)
    return np.sqrt(ext[..., 0] * ext[..., 1])


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


class SimulatedDetector(Detector):
    """A GT-reading detector (oracle / noisy / bimodal); see the module docstring."""

    def __init__(self, cfg: DetectorCfg, kind: str, params: Dict[str, Any]):
        super().__init__(cfg)
        self.kind = kind
        self.params = params
        self._dirs: Dict[Tuple[str, int], np.ndarray] = {}

    def predict_crops(self, crops: Any, state: Any = None):
        """Not available: simulated detectors read GT through :meth:`predict_frames`."""
        raise NotImplementedError(
            f"simulated detector {self.cfg.name!r} reads the ground truth and takes no crops; call "
            f"predict_frames(frames, boxes, gt=..., keys=...) instead")

    def _rng(self, video_id: str, frame_index: int, salt: str = "") -> np.random.Generator:
        vid = _stable_int(f"{self.kind}{salt}:{video_id}")
        return np.random.default_rng([int(self.params.get("seed", 0)), vid, int(frame_index)])

    def _direction(self, video_id: str, n: int) -> np.ndarray:
        key = (video_id, n)
        if key not in self._dirs:
            if len(self._dirs) > 256:
                self._dirs.clear()
            ang = self._rng(video_id, 0, salt="dir").uniform(0.0, 2 * np.pi, size=n)
            self._dirs[key] = np.stack([np.cos(ang), np.sin(ang)], axis=-1)
        return self._dirs[key]

    def predict_frames(self, frames: Sequence[Any], boxes: Any, state: Any = None,
                       gt: Optional[np.ndarray] = None,
                       keys: Optional[Sequence[Tuple[str, int]]] = None) -> Tuple[np.ndarray, Any]:
        """Landmarks ``[B, N, 2]`` (frame pixels) derived from ``gt``; seeded by ``keys``."""
        if gt is None:
            raise ValueError(f"simulated detector {self.cfg.name!r} needs gt=[B, N, 2] landmarks "
                             f"(it is only usable on labelled indexes)")
        gt = np.asarray(gt, dtype=np.float64)
        if gt.ndim != 3 or gt.shape[-1] != 2:
            raise ValueError(f"gt must have shape [B, N, 2], got {gt.shape}")
        if self.kind == "oracle":
            return gt.copy(), None
        if keys is None or len(keys) != len(gt):
            raise ValueError(f"simulated detector {self.cfg.name!r} needs one (video_id, "
                             f"frame_index) key per sample for seeding, got {keys!r}")
        fs = face_size(gt)[:, None, None]
        out = gt.copy()
        sigma = float(self.params.get("sigma", 0.0))
        n = gt.shape[1]
        for b, (vid, fi) in enumerate(keys):
            rng = self._rng(vid, fi)
            if self.kind == "bimodal":
                u = self._direction(vid, n)
                sign = -1.0 if rng.random() < self.params["p"] else 1.0
                out[b] += sign * self.params["offset"] * fs[b] * u
            if sigma > 0:
                out[b] += sigma * fs[b] * rng.standard_normal((n, 2))
        return out, None


def create(name: str, weights: Optional[str] = None, device: str = "cpu", dtype: Any = None,
           **options: Any) -> SimulatedDetector:
    """Registry factory for ``oracle``, ``noisy`` and ``bimodal`` (``weights`` must be None)."""
    if name not in _OPTIONS:
        raise ValueError(f"{name!r} is not a simulated detector; choose one of {sorted(_OPTIONS)}")
    if weights is not None:
        raise ValueError(f"simulated detector {name!r} takes no weights (got --weights {weights}); "
                         f"drop --weights or choose a real model")
    params = _resolve(name, dict(options))
    cfg = DetectorCfg(
        name=name, family="simulated", landmark_scheme="gt", num_landmarks=0, input_size=0,
        crop_protocol="none", color_order="none", weights_sha256=None, weights_license="n/a",
        paper="", origin_repo="", stateful=False, simulated=True, needs_gt=True,
        notes=SIMULATED_LABEL, options=params)
    return SimulatedDetector(cfg, name, params)
