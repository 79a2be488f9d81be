"""Split aggregation: macro (per-video) and micro (per-frame) means that never hide a NaN."""

from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np


def macro_mean(values: np.ndarray, skipped: Optional[np.ndarray] = None) -> float:
    """Unweighted mean over the videos that are not ``skipped`` (official split rule).

    A NaN in a video not flagged ``skipped`` raises ``ValueError`` naming the video; so does a
    split where every video is skipped. Report ``skipped.sum()`` next to the mean.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    sk = np.zeros(v.shape, dtype=bool) if skipped is None else np.asarray(skipped, dtype=bool).ravel()
    if sk.shape != v.shape:
        raise ValueError(f"skipped has shape {sk.shape}, values {v.shape}")
    bad = ~sk & ~np.isfinite(v)
    if bad.any():
        raise ValueError(f"value {v[bad][0]!r} at video {int(np.flatnonzero(bad)[0])} is not finite and the "
                         "video is not marked skipped")
    if sk.all():
        raise ValueError(f"all {v.size} videos are skipped (or the split is empty); no mean to report")
    return float(v[~sk].mean())


def micro_mean(frame_values: np.ndarray, valid: np.ndarray) -> float:
    """Mean over all ``valid`` frames of all videos (``micro_frame``; never the default)."""
    f = np.asarray(frame_values, dtype=np.float64).ravel()
    m = np.asarray(valid, dtype=bool).ravel()
    if m.shape != f.shape or not m.any():
        raise ValueError(f"micro_mean: valid {m.shape} must match values {f.shape} and select a frame")
    bad = m & ~np.isfinite(f)
    if bad.any():
        raise ValueError(f"frame value {f[bad][0]!r} at row {int(np.flatnonzero(bad)[0])} is not finite")
    return float(f[m].mean())


def split_summary(result: Dict[str, np.ndarray], videos: Optional[Sequence[int]] = None) -> Dict[str, float]:
    """Split means from a :func:`ragged_video_metrics` result, over ``videos`` (indices; default all).

    Returns macro ``nme_io``, ``nme_fs`` (percent), ``nmf``, micro ``nme_io_micro``, counts
    ``n_videos``, ``n_skipped_nme``, ``n_skipped_nmf`` and ``coverage`` (valid / all frames).
    """
    V = len(result["nmf"])
    idx = np.arange(V) if videos is None else np.asarray(videos, dtype=np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= V):
        raise ValueError(f"split_summary: video index out of range 0..{V - 1}")
    off = result["offsets"]
    rows = np.concatenate([np.arange(off[v], off[v + 1]) for v in idx]) if idx.size else np.empty(0, np.int64)
    fr = result["frame_nme_io"][rows]
    return {"n_videos": int(idx.size),
            "n_skipped_nme": int(result["nme_skipped"][idx].sum()),
            "n_skipped_nmf": int(result["skipped"][idx].sum()),
            "nme_io": macro_mean(result["nme_io"][idx], result["nme_skipped"][idx]),
            "nme_fs": macro_mean(result["nme_fs"][idx], result["nme_skipped"][idx]),
            "nmf": macro_mean(result["nmf"][idx], result["skipped"][idx]),
            "nme_io_micro": micro_mean(fr, np.isfinite(fr)),
            "coverage": float(result["n_valid"][idx].sum() / max(1, result["n_frames"][idx].sum()))}


__all__ = ["macro_mean", "micro_mean", "split_summary"]
