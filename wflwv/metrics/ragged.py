"""Whole-split video metrics in one vectorised call over concatenated ("ragged") videos.

``pred``/``gt`` are all frames of all videos stacked, ``[F, N, 2]`` (original-frame pixels);
``offsets`` ``[V+1]`` says that video v is frames ``offsets[v]:offsets[v+1]``. Frames are processed
in chunks (float64 internally) so a full WFLW-V pass (137,730 frames) stays cache-friendly.
Definitions are exactly those of :mod:`wflwv.metrics.video` (official ``video_NME``/``video_NMJ``)
with the segment rules of docs/metrics.md §7.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from wflwv.metrics._checks import check_pair, same_shape

_NMF_SCALE = (100.0 * 256.0) ** 2   # f² = 100² · d² / (w·h / 256²)


def check_offsets(offsets: Sequence[int], n_frames: int) -> np.ndarray:
    """Validate ``offsets`` (``[V+1]`` ints, starts at 0, ends at F, non-decreasing) → int64 array."""
    off = np.asarray(offsets)
    if off.ndim != 1 or off.size < 1 or not np.issubdtype(off.dtype, np.integer):
        raise ValueError(f"offsets must be a 1-D integer array [V+1], got dtype {off.dtype} shape {off.shape}")
    off = off.astype(np.int64)
    if off[0] != 0 or off[-1] != n_frames:
        raise ValueError(f"offsets must start at 0 and end at the frame count {n_frames}, "
                         f"got {int(off[0])}..{int(off[-1])}")
    dec = np.flatnonzero(np.diff(off) < 0)
    if dec.size:
        raise ValueError(f"offsets decrease at video {int(dec[0])} ({int(off[dec[0]])} -> {int(off[dec[0] + 1])})")
    return off


def _points(name: str, x: np.ndarray) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 3 or a.shape[-1] != 2 or not (np.issubdtype(a.dtype, np.floating)
                                                 or np.issubdtype(a.dtype, np.integer)):
        raise ValueError(f"{name} must be a numeric [F, N, 2] array (all frames of all videos), "
                         f"got {a.dtype} {a.shape}")
    return a


def _mask(name: str, m: Optional[np.ndarray], n: int, default: bool) -> np.ndarray:
    if m is None:
        return np.full(n, default)
    m = np.asarray(m)
    if m.shape != (n,) or m.dtype != np.bool_:
        raise ValueError(f"{name} must be a bool array of shape ({n},), got {m.dtype} {m.shape}")
    return m


def _frame_terms(pred: np.ndarray, gt: np.ndarray, a: int, b: int, chunk: int,
                 progress: bool) -> Tuple[np.ndarray, ...]:
    """Per-frame sums: Σ_l‖e‖, face size², iod, Σ_l‖e_t − e_{t−1}‖² (t ≥ 1) — all float64 [F]."""
    F = len(gt)
    err_sum, fs2, iod, dsq = (np.empty(F) for _ in range(4))
    dsq[:1] = np.nan
    starts = range(0, F, chunk)
    if progress:
        from tqdm import tqdm
        starts = tqdm(starts, desc="video metrics", unit="chunk", total=len(starts))
    for c0 in starts:
        c1 = min(c0 + chunk, F)
        lo = max(c0 - 1, 0)                    # one frame of overlap for the differences
        g = np.asarray(gt[lo:c1], dtype=np.float64)
        p = np.asarray(pred[lo:c1], dtype=np.float64)
        gx, gy = g[..., 0], g[..., 1]
        ex = gx - p[..., 0]
        ey = gy - p[..., 1]
        k = c0 - lo
        s2 = np.einsum("ij,ij->ij", ex[k:], ex[k:])
        s2 += ey[k:] * ey[k:]
        np.sqrt(s2, out=s2)
        err_sum[c0:c1] = s2.sum(1)
        w = gx[k:].max(1) - gx[k:].min(1)
        h = gy[k:].max(1) - gy[k:].min(1)
        fs2[c0:c1] = w * h
        iod[c0:c1] = np.sqrt((gx[k:, a] - gx[k:, b]) ** 2 + (gy[k:, a] - gy[k:, b]) ** 2)
        if c1 - lo >= 2:
            dx = ex[1:] - ex[:-1]
            dy = ey[1:] - ey[:-1]
            dsq[lo + 1:c1] = np.einsum("ij,ij->i", dx, dx) + np.einsum("ij,ij->i", dy, dy)
    return err_sum, fs2, iod, dsq


def _raise_bad(kind: str, frames: np.ndarray, vid: np.ndarray, local: np.ndarray,
               pred: np.ndarray, gt: np.ndarray) -> None:
    t = int(frames[0])
    v, k = int(vid[t]), int(local[t])
    where = f"video {v}, frame {k} (row {t} of the concatenated arrays)"
    for name, arr in (("gt", gt), ("pred", pred)):
        if not np.isfinite(np.asarray(arr[t], dtype=np.float64)).all():
            raise ValueError(f"{name} contains NaN/inf at {where}: mark the frame invalid "
                             "(valid=False) or drop it instead of passing non-finite values")
    if kind == "overflow":
        raise ValueError(f"error overflowed float64 at {where}: coordinates are absurdly large")
    raise ValueError(f"{kind} normaliser is zero/non-finite at {where}: the GT is degenerate there; "
                     "exclude the frame (valid=False)")


def ragged_video_metrics(pred: np.ndarray, gt: np.ndarray, offsets: Sequence[int],
                         pair: Tuple[int, int] = (60, 72), valid: Optional[np.ndarray] = None,
                         breaks: Optional[np.ndarray] = None, chunk: int = 2048,
                         progress: bool = False) -> Dict[str, np.ndarray]:
    """NME (io and fs, percent) and NMF for every video of a split in one call.

    ``valid`` ``[F]`` bool: frames that count (a prediction exists, not excluded); invalid frames
    may hold NaN and are ignored. ``breaks`` ``[F]`` bool: frames that start a new segment (cut,
    or after a gap); an NMF difference t−1 → t counts only when both frames are valid, in the same
    video and ``breaks[t]`` is False. Returns per-video ``nme_io``, ``nme_fs`` (percent, mean over
    valid frames), ``nmf`` (RMS over valid transitions), ``n_frames``, ``n_valid``,
    ``n_transitions``, ``skipped`` (no valid transition → NaN nmf), ``nme_skipped`` (no valid
    frame → NaN NME); per-frame ``frame_nme_io``, ``frame_nme_fs`` (NaN where not valid),
    ``frame_flicker`` (RMS over points of f[t,l], NaN where no transition ends at t); ``offsets``.
    NaN/inf or a zero normaliser on a valid frame raises ``ValueError`` naming video and frame.
    """
    p, g = _points("pred", pred), _points("gt", gt)   # no float64 copy of the whole split here
    same_shape(p, g)
    F, N = g.shape[:2]
    a, b = check_pair(pair, N)
    off = check_offsets(offsets, F)
    V = len(off) - 1
    counts = np.diff(off)
    valid = _mask("valid", valid, F, True)
    breaks = _mask("breaks", breaks, F, False)
    vid = np.repeat(np.arange(V), counts)
    local = np.arange(F) - off[vid]

    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        err_sum, fs2, iod, dsq = _frame_terms(p, g, a, b, max(int(chunk), 2), progress)
        bad = valid & ~np.isfinite(err_sum)
        if bad.any():
            _raise_bad("overflow", np.flatnonzero(bad), vid, local, p, g)
        for kind, d in ((f"inter-ocular ({a}, {b})", iod), ("face-size sqrt(w*h)", fs2)):
            bad = valid & ~(np.isfinite(d) & (d > 0))
            if bad.any():
                _raise_bad(kind, np.flatnonzero(bad), vid, local, p, g)
        trans = valid & (local > 0) & ~breaks
        trans[1:] &= valid[:-1]                # (local > 0 already excludes row 0)
        fs = np.sqrt(fs2)
        frame_nme_io = np.where(valid, 100.0 * (err_sum / N) / iod, np.nan)
        frame_nme_fs = np.where(valid, 100.0 * (err_sum / N) / fs, np.nan)
        flick2 = np.where(trans, _NMF_SCALE * (dsq / N) / fs2, np.nan)
        if not np.isfinite(flick2[trans]).all():
            _raise_bad("overflow", np.flatnonzero(trans & ~np.isfinite(flick2)), vid, local, p, g)

        n_valid = np.bincount(vid, weights=valid, minlength=V).astype(np.int64)
        n_trans = np.bincount(vid, weights=trans, minlength=V).astype(np.int64)
        z = lambda x, m: np.where(m, x, 0.0)  # noqa: E731  (NaN-safe masking before summing)
        nme_io = np.bincount(vid, z(frame_nme_io, valid), V) / n_valid
        nme_fs = np.bincount(vid, z(frame_nme_fs, valid), V) / n_valid
        nmf = np.sqrt(np.bincount(vid, z(flick2, trans), V) / n_trans)
    nme_skipped = n_valid == 0
    skipped = n_trans == 0
    nme_io[nme_skipped] = np.nan
    nme_fs[nme_skipped] = np.nan
    nmf[skipped] = np.nan
    return {"nme_io": nme_io, "nme_fs": nme_fs, "nmf": nmf, "n_frames": counts, "n_valid": n_valid,
            "n_transitions": n_trans, "skipped": skipped, "nme_skipped": nme_skipped,
            "frame_nme_io": frame_nme_io, "frame_nme_fs": frame_nme_fs,
            "frame_flicker": np.sqrt(flick2), "offsets": off}


def concat_videos(videos: Sequence[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
    """Stack a list of ``[T_v, N, 2]`` arrays → (``[F, N, 2]``, ``offsets [V+1]``)."""
    lens = [len(v) for v in videos]
    off = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    return (np.concatenate(videos, axis=0) if videos else np.empty((0, 0, 2))), off


__all__ = ["check_offsets", "concat_videos", "ragged_video_metrics"]
