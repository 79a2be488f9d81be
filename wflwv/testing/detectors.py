"""``check_detector``: the contract battery every registered detector must pass (anchors §9).

Checks (each failure raises ``AssertionError`` naming the detector and the check):

1. ``cfg``: a :class:`DetectorCfg` with a known scheme, crop protocol, a full SHA-256 or None, and
   ``needs_gt`` only on simulated detectors (which say SIMULATED in ``notes``).
2. ``predict_frames`` returns finite float ``[B, N, 2]`` frame-pixel landmarks.
3. Deterministic: the same call twice gives the same output.
4. Batch independence: one sample at a time equals the batch (``atol``).
5. Video-parallel batching gives the same per-video result for batch sizes 1 and 3 (this covers
   the split/stack state protocol of stateful detectors).
6. Crop detectors: ``predict_crops`` on ``[B, 3, S, S]`` returns ``[B, N, 2]`` crop pixels.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

import numpy as np

from wflwv.detectors.base import Detector, DetectorCfg
from wflwv.detectors.crops import PROTOCOLS

SCHEMES = ("wflw98", "ibug68", "mediapipe468", "gt")


def _face(n: int, T: int, seed: int = 0, size: float = 90.0, centre=(128.0, 120.0)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
    base = np.stack([0.45 * np.cos(ang), 0.55 * np.sin(ang)], 1) * rng.uniform(0.4, 1.0, (n, 1))
    t = np.arange(T)[:, None, None]
    return base[None] * size + np.asarray(centre) + np.concatenate([3 * np.sin(0.3 * t), 2 * np.cos(0.2 * t)], 2)


def _frames(T: int, seed: int, hw=(240, 256)) -> List[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (*hw, 3), dtype=np.uint8)
    return [np.roll(base, k, axis=1) for k in range(T)]


def _check(cond: bool, name: str, what: str) -> None:
    if not cond:
        raise AssertionError(f"detector {name!r} fails the contract: {what}")


def check_cfg(det: Detector) -> None:
    """Check 1: the config fields."""
    cfg = det.cfg
    name = getattr(cfg, "name", "?")
    _check(isinstance(cfg, DetectorCfg), name, "cfg must be a DetectorCfg")
    _check(cfg.landmark_scheme in SCHEMES, name, f"unknown landmark_scheme {cfg.landmark_scheme!r}")
    _check(cfg.crop_protocol in PROTOCOLS or cfg.crop_protocol == "none", name,
           f"unknown crop_protocol {cfg.crop_protocol!r}")
    _check(cfg.weights_sha256 is None or bool(re.fullmatch(r"[0-9a-f]{64}", cfg.weights_sha256)), name,
           "weights_sha256 must be a full lower-case hex SHA-256 or None")
    _check(not cfg.needs_gt or cfg.simulated, name, "only simulated detectors may read GT")
    if cfg.simulated:
        _check("SIMULATED" in cfg.notes, name, "simulated detectors must say SIMULATED in cfg.notes")
    _check(cfg.landmark_scheme != "gt" or cfg.simulated, name, "scheme 'gt' is for simulated detectors")


def check_detector(det: Detector, atol: float = 1e-4, B: int = 3, T: int = 4) -> Dict[str, Any]:
    """Run the contract battery on ``det``; returns a dict of what was checked."""
    from wflwv.harness.batching import VideoJob, run_video_parallel
    from wflwv.boxes import gt_boxes

    check_cfg(det)
    cfg = det.cfg
    name = cfg.name
    n = cfg.num_landmarks if cfg.num_landmarks > 0 else 98
    gts = [_face(n, T, seed=v) for v in range(B)]
    frames = [_frames(T, seed=v) for v in range(B)]
    boxes = [gt_boxes(g) + np.array([-8, -8, 8, 8]) for g in gts]

    def call(samples, state=None):
        fr = [frames[v][t] for v, t in samples]
        bx = np.stack([boxes[v][t] for v, t in samples])
        gt = np.stack([gts[v][t] for v, t in samples]) if cfg.needs_gt else None
        keys = [(f"video{v}", t) for v, t in samples]
        det.reset()
        lm, st = det.predict_frames(fr, bx, state=state, gt=gt, keys=keys)
        lm = lm.detach().cpu().numpy() if hasattr(lm, "detach") else np.asarray(lm)
        return lm, st

    first = [(v, 0) for v in range(B)]
    lm, state = call(first)
    _check(lm.shape == (B, n, 2), name, f"predict_frames returned {lm.shape}, expected {(B, n, 2)}")
    _check(np.issubdtype(lm.dtype, np.floating) and np.isfinite(lm).all(), name, "landmarks must be finite floats")
    _check(cfg.stateful or state is None, name, "a stateless detector must return state None")
    lm2, _ = call(first)
    _check(np.array_equal(lm, lm2) or np.allclose(lm, lm2, atol=atol, rtol=0), name, "not deterministic")
    singles = np.concatenate([call([s])[0] for s in first])
    _check(np.allclose(singles, lm, atol=atol, rtol=0), name,
           f"batch results differ from one-at-a-time results (max {np.abs(singles - lm).max():.3g})")
    if cfg.simulated and cfg.name == "oracle":
        _check(np.array_equal(lm, np.stack([g[0] for g in gts])), name, "oracle must return GT exactly")

    def jobs():
        for v in range(B):
            yield VideoJob(f"video{v}", T, iter(enumerate(frames[v])), boxes[v],
                           gts[v] if cfg.needs_gt else None)

    r1 = run_video_parallel(det, jobs(), batch_size=1)
    r3 = run_video_parallel(det, jobs(), batch_size=B)
    for v in r1:
        _check(np.allclose(r1[v], r3[v], atol=atol, rtol=0), name,
               f"video-parallel batching changed {v} (max {np.abs(r1[v] - r3[v]).max():.3g}); check the "
               f"split_state/stack_state protocol")
    checked = {"cfg": True, "shape": lm.shape, "deterministic": True, "batch_independent": True,
               "video_parallel": True, "crops": False}
    if cfg.crop is not None:
        import torch

        S = cfg.crop.size
        x = torch.randn(2, 3, S, S, generator=torch.Generator().manual_seed(0))
        out, _ = det.predict_crops(x, None)
        out = out.detach().cpu().numpy() if hasattr(out, "detach") else np.asarray(out)
        _check(out.shape == (2, n, 2) and np.isfinite(out).all(), name,
               f"predict_crops returned {out.shape}, expected (2, {n}, 2) finite")
        checked["crops"] = True
    return checked


def unavailable_reason(exc: BaseException, weights: Optional[str] = None) -> Optional[str]:
    """A skip reason when ``exc`` means "weights or extras not installed", else None (a real failure).

    Recognised: an ImportError (missing optional extra or module), or — when no weights were
    given — :class:`~wflwv.detectors.checkpoint.WeightsRequired`.
    """
    from wflwv.detectors.checkpoint import WeightsRequired

    first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, ImportError):
        return f"extra not installed: {first}"
    if weights is None and isinstance(exc, WeightsRequired):
        return f"weights unavailable: {first}"
    return None
