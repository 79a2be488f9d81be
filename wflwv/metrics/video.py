"""Single-video NME and NMF, written straight from the official LDEQ code (docs/metrics.md §3–4).

Inputs are one video's prediction and ground truth, ``[T, N, 2]`` in original-frame pixels
(any common unit works: both metrics are scale-free). Computation is float64. For a whole
split in one call use :func:`wflwv.metrics.ragged.ragged_video_metrics`.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from wflwv.metrics._checks import as_points, check_finite, check_normaliser, check_pair, same_shape

NORMALIZERS = {"iod": "iod", "io": "iod", "face_size": "face_size", "fs": "face_size"}


def _inputs(pred: np.ndarray, gt: np.ndarray, video: Optional[int]) -> Tuple[np.ndarray, np.ndarray]:
    tag = f"video {video}: " if video is not None else ""
    p, g = as_points(f"{tag}pred", pred, 3), as_points(f"{tag}gt", gt, 3)
    same_shape(p, g, tag)
    if len(g) == 0:
        raise ValueError(f"{tag}no frames")
    check_finite(g, "gt", video=video)
    check_finite(p, "pred", video=video)
    return p, g


def face_size(gt: np.ndarray) -> np.ndarray:
    """Per-frame face size ``sqrt(w·h)`` ``[T]`` of the GT landmark extent (max − min), in px."""
    g = np.asarray(gt, dtype=np.float64)
    w = g[..., 0].max(-1) - g[..., 0].min(-1)
    h = g[..., 1].max(-1) - g[..., 1].min(-1)
    return np.sqrt(w * h)


def frame_nme(pred: np.ndarray, gt: np.ndarray, normalizer: str = "iod", pair: Tuple[int, int] = (60, 72),
              video: Optional[int] = None) -> np.ndarray:
    """Per-frame NME ``[T]`` in **percent**: mean over points of 100·‖g−p‖ / d_t.

    ``normalizer="iod"`` (alias ``"io"``): d_t = ‖g[t,a] − g[t,b]‖ with ``pair`` = (a, b);
    ``"face_size"`` (alias ``"fs"``): d_t = sqrt(w_t·h_t) of the GT landmark box.
    """
    if normalizer not in NORMALIZERS:
        raise ValueError(f"unknown normalizer {normalizer!r}; use 'iod' or 'face_size'")
    p, g = _inputs(pred, gt, video)
    if NORMALIZERS[normalizer] == "iod":
        a, b = check_pair(pair, g.shape[1])
        d = np.sqrt(((g[:, a] - g[:, b]) ** 2).sum(-1))
        what = f"inter-ocular ({a}, {b})"
    else:
        d, what = face_size(g), "face-size sqrt(w*h)"
    check_normaliser(d, what, video=video)
    e = 100.0 * np.sqrt(((g - p) ** 2).sum(-1)) / d[:, None]
    return e.mean(-1)


def video_nme(pred: np.ndarray, gt: np.ndarray, normalizer: str = "iod", pair: Tuple[int, int] = (60, 72),
              video: Optional[int] = None) -> float:
    """Video NME in **percent**: the mean over frames of :func:`frame_nme` (official ``video_NME``)."""
    return float(frame_nme(pred, gt, normalizer, pair, video).mean())


def nmf_steps(pred: np.ndarray, gt: np.ndarray, video: Optional[int] = None) -> np.ndarray:
    """Per-transition flicker ``[T−1]``: RMS over points of f[t,l] = 100·‖e_t − e_{t−1}‖ / s_t.

    e = g − p; s_t = sqrt(w_t·h_t / 256²) of the GT landmark box of the **later** frame t.
    Units: NMF units (100 × px of a face rescaled to sqrt(w·h) = 256 px).
    """
    p, g = _inputs(pred, gt, video)
    if len(g) < 2:
        raise ValueError(f"video {video}: NMF needs at least 2 frames, got {len(g)}; "
                         "skip the video and count it in n_skipped")
    fs = face_size(g)
    check_normaliser(fs, "face-size sqrt(w*h)", video=video)
    s = np.sqrt(fs[1:] ** 2 / 256.0 ** 2)
    e = g - p
    f = 100.0 * np.sqrt(((e[1:] - e[:-1]) ** 2).sum(-1)) / s[:, None]
    return np.sqrt((f ** 2).mean(-1))


def video_nmf(pred: np.ndarray, gt: np.ndarray, video: Optional[int] = None) -> float:
    """Official NMF (``video_NMJ``) of one video: sqrt(mean over (t, l) of f[t,l]²). Needs T ≥ 2."""
    steps = nmf_steps(pred, gt, video)
    return float(np.sqrt((steps ** 2).mean()))


__all__ = ["face_size", "frame_nme", "nmf_steps", "video_nme", "video_nmf"]
