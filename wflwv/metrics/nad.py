"""Normalized Allan Deviation (NAD) of landmark errors, and QLOT's temporal-error ratio.

NAD(m) separates jitter from drift across time scales (docs/nad.md). For one clip of ``L``
frames, the error of landmark ``n`` at frame ``l`` is normalised by that frame's GT face size
``d_l = sqrt(w·h)`` of the GT landmark box: ``ẽ = (p − y) / d_l``. With overlapping block means
``ē_l(m)`` of ``m`` frames, the per-landmark Allan variance is

    σ²_n(m) = 1 / (2 (L − 2m + 1)) · Σ_l ‖ē_{l+m}(m) − ē_l(m)‖²,   l = 1 .. L − 2m + 1,

a clip's NAD is ``sqrt(mean_n σ²_n(m))`` and a split's NAD is the mean over clips. Boards report
NAD(1), NAD(4), NAD(16) × 10³. Defined for ``1 ≤ m ≤ L/2``. Computation is float64.
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

import numpy as np

from wflwv.metrics.video import _inputs, face_size
from wflwv.metrics._checks import check_normaliser

BOARD_MS = (1, 4, 16)


def normalised_error(pred: np.ndarray, gt: np.ndarray, video: Optional[int] = None) -> np.ndarray:
    """``[L, N, 2]`` error ``(p − y) / d_l`` with each frame's own GT face size ``d_l``."""
    p, g = _inputs(pred, gt, video)
    d = face_size(g)
    check_normaliser(d, "face-size sqrt(w*h)", video=video)
    return (p - g) / d[:, None, None]


def allan_variance(err: np.ndarray, m: int) -> np.ndarray:
    """Per-landmark Allan variance ``[N]`` of a normalised error track ``[L, N, 2]`` at block size ``m``."""
    L = err.shape[0]
    if not 1 <= m <= L // 2:
        raise ValueError(f"NAD block size m={m} needs 1 <= m <= L/2 = {L // 2} (clip of {L} frames)")
    c = np.concatenate([np.zeros((1,) + err.shape[1:]), np.cumsum(err, axis=0)], axis=0)
    means = (c[m:] - c[:-m]) / m                      # [L − m + 1, N, 2], block starting at l
    diff = means[m:] - means[:-m]                     # [L − 2m + 1, N, 2]
    return (diff ** 2).sum(-1).sum(0) / (2.0 * (L - 2 * m + 1))


def allan_variance_all(pred: np.ndarray, gt: np.ndarray, max_m: Optional[int] = None,
                       video: Optional[int] = None) -> np.ndarray:
    """``[M, N]`` Allan variances for m = 1..M (default M = L/2) of one clip."""
    err = normalised_error(pred, gt, video)
    M = err.shape[0] // 2 if max_m is None else int(max_m)
    return np.stack([allan_variance(err, m) for m in range(1, M + 1)])


def clip_nad(pred: np.ndarray, gt: np.ndarray, ms: Iterable[int] = BOARD_MS, video: Optional[int] = None) -> np.ndarray:
    """NAD of one clip at each block size in ``ms`` (a fraction of the face size; ×10³ on boards)."""
    err = normalised_error(pred, gt, video)
    return np.array([np.sqrt(allan_variance(err, int(m)).mean()) for m in ms])


def clip_nad_curve(pred: np.ndarray, gt: np.ndarray, video: Optional[int] = None) -> np.ndarray:
    """NAD(m) of one clip for every m = 1..L/2 (the NAD-vs-m curve)."""
    L = np.asarray(gt).shape[0]
    return clip_nad(pred, gt, range(1, L // 2 + 1), video)


def split_nad(preds: Sequence[np.ndarray], gts: Sequence[np.ndarray], ms: Iterable[int] = BOARD_MS) -> np.ndarray:
    """Mean over clips of :func:`clip_nad`; NaN for an m that some clip is too short for."""
    ms = [int(m) for m in ms]
    out = np.full(len(ms), np.nan)
    per = [[np.nan] * len(ms) for _ in preds]
    for v, (p, g) in enumerate(zip(preds, gts)):
        L = np.asarray(g).shape[0]
        ok = [m for m in ms if m <= L // 2]
        vals = dict(zip(ok, clip_nad(p, g, ok, video=v))) if ok else {}
        per[v] = [vals.get(m, np.nan) for m in ms]
    arr = np.asarray(per, dtype=np.float64).reshape(len(per), len(ms))
    for j in range(len(ms)):
        col = arr[:, j]
        if len(col) and np.isfinite(col).all():
            out[j] = col.mean()
    return out


def e_temporal(pred: np.ndarray, gt: np.ndarray, eps: float = 1e-8, video: Optional[int] = None) -> float:
    """Signed mean over transitions and landmarks of ``(‖Δp‖ − ‖Δy‖) / ‖Δy‖`` (‖Δy‖ ≤ ``eps`` px skipped)."""
    p, g = _inputs(pred, gt, video)
    dp = np.linalg.norm(np.diff(p, axis=0), axis=-1)
    dy = np.linalg.norm(np.diff(g, axis=0), axis=-1)
    keep = dy > eps
    if not keep.any():
        return float("nan")
    return float(((dp[keep] - dy[keep]) / dy[keep]).mean())


__all__ = ["BOARD_MS", "allan_variance", "allan_variance_all", "clip_nad", "clip_nad_curve", "e_temporal",
           "normalised_error", "split_nad"]
