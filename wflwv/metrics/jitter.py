"""GT-free jitter for unlabelled video: D1 (displacement) and D2 (acceleration), docs/metrics.md §6.

Only predictions are used, so real motion inflates D1; D2 (second difference) is zero for
constant-velocity motion and is the primary GT-free metric. Differences never cross a segment
boundary (docs/metrics.md §7): a new video, an invalid frame or a ``breaks`` frame starts a segment.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from wflwv.metrics._checks import check_pair
from wflwv.metrics.ragged import _mask, _points, check_offsets

JITTER_NORMALIZERS = ("fs", "ioc", "px")


def _normaliser(p: np.ndarray, normalizer: str, pair: Tuple[int, int]) -> np.ndarray:
    if normalizer == "fs":
        w = p[..., 0].max(-1) - p[..., 0].min(-1)
        h = p[..., 1].max(-1) - p[..., 1].min(-1)
        return np.sqrt(w * h)
    if normalizer == "ioc":
        a, b = check_pair(pair, p.shape[1])
        return np.sqrt(((p[:, a] - p[:, b]) ** 2).sum(-1))
    if normalizer == "px":
        return np.ones(len(p))
    raise ValueError(f"unknown jitter normalizer {normalizer!r}; use one of {JITTER_NORMALIZERS}")


def jitter(pred: np.ndarray, offsets: Optional[Sequence[int]] = None, normalizer: str = "fs",
           pair: Tuple[int, int] = (60, 72), valid: Optional[np.ndarray] = None,
           breaks: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
    """Per-video D1, D2, D1rms, D2rms of predictions ``[F, N, 2]`` (``offsets`` ``[V+1]``; None = one video).

    D1 = mean over (t, l) of ‖p_t − p_{t−1}‖ / s_t; D2 = mean over (t, l) of
    ‖p_{t+1} − 2p_t + p_{t−1}‖ / s_t; the rms variants use sqrt(mean of squares). s_t is the
    declared normaliser of frame t: ``"fs"`` sqrt(w·h) of the predicted landmark box, ``"ioc"`` the
    predicted outer-eye-corner distance of ``pair`` (fractions; ×100 for %), or ``"px"`` (s = 1,
    pixels). Returns arrays ``[V]``: ``d1, d2, d1rms, d2rms, n_d1, n_d2`` (difference counts) and
    ``skipped_d1``/``skipped_d2`` (no valid difference → NaN). NaN/inf or s_t ≤ 0 on a frame that
    is used raises ``ValueError`` naming video and frame.
    """
    p = np.asarray(_points("pred", pred), dtype=np.float64)
    F, N = p.shape[:2]
    off = check_offsets([0, F] if offsets is None else offsets, F)
    V = len(off) - 1
    valid = _mask("valid", valid, F, True)
    breaks = _mask("breaks", breaks, F, False)
    vid = np.repeat(np.arange(V), np.diff(off))
    local = np.arange(F) - off[vid]

    def fail(t: int, msg: str) -> None:
        raise ValueError(f"{msg} at video {int(vid[t])}, frame {int(local[t])} (row {t}): mark the frame "
                         "invalid (valid=False) or drop it")

    bad = valid & ~np.isfinite(p).reshape(F, -1).all(1)
    if bad.any():
        fail(int(np.flatnonzero(bad)[0]), "pred contains NaN/inf")
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        s = _normaliser(p, normalizer, pair)
        trans = valid & (local > 0) & ~breaks          # difference t−1 → t lies in one segment
        trans[1:] &= valid[:-1]
        if F:
            trans[0] = False
        centre = np.zeros(F, dtype=bool)               # second difference centred on t
        centre[:-1] = trans[:-1] & trans[1:]
        used = trans | centre
        bad = used & ~(np.isfinite(s) & (s > 0))
        if bad.any():
            fail(int(np.flatnonzero(bad)[0]), f"{normalizer} normaliser is {s[bad][0]!r} (must be > 0)")
        d1 = np.zeros((F, N))
        d1[1:] = np.sqrt(((p[1:] - p[:-1]) ** 2).sum(-1))
        d2 = np.zeros((F, N))
        d2[1:-1] = np.sqrt(((p[2:] - 2.0 * p[1:-1] + p[:-2]) ** 2).sum(-1))
        d1 = np.where(trans[:, None], d1 / s[:, None], 0.0)
        d2 = np.where(centre[:, None], d2 / s[:, None], 0.0)
        n1 = np.bincount(vid, trans, V).astype(np.int64)
        n2 = np.bincount(vid, centre, V).astype(np.int64)
        out = {"d1": np.bincount(vid, d1.sum(1), V) / (n1 * N),
               "d2": np.bincount(vid, d2.sum(1), V) / (n2 * N),
               "d1rms": np.sqrt(np.bincount(vid, (d1 ** 2).sum(1), V) / (n1 * N)),
               "d2rms": np.sqrt(np.bincount(vid, (d2 ** 2).sum(1), V) / (n2 * N))}
    out["d1"][n1 == 0] = np.nan
    out["d1rms"][n1 == 0] = np.nan
    out["d2"][n2 == 0] = np.nan
    out["d2rms"][n2 == 0] = np.nan
    out.update(n_d1=n1, n_d2=n2, skipped_d1=n1 == 0, skipped_d2=n2 == 0)
    return out


__all__ = ["JITTER_NORMALIZERS", "jitter"]
