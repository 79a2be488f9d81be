"""Input checks shared by the metric modules: shapes, finiteness and normalisers, with clear errors."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np


def as_points(name: str, x: np.ndarray, ndim: int) -> np.ndarray:
    """``x`` as a float64 array of ``ndim`` dims with a last axis of 2 (x, y); raises otherwise."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != ndim or a.shape[-1] != 2:
        want = {2: "[N, 2]", 3: "[T, N, 2]"}.get(ndim, f"{ndim}-d [..., 2]")
        raise ValueError(f"{name} must have shape {want} (x, y per landmark), got {a.shape}")
    return a


def same_shape(pred: np.ndarray, gt: np.ndarray, what: str = "") -> None:
    """Raise when ``pred`` and ``gt`` shapes differ."""
    if pred.shape != gt.shape:
        raise ValueError(f"{what}pred shape {pred.shape} does not match gt shape {gt.shape}")


def check_pair(pair: Tuple[int, int], n: int) -> Tuple[int, int]:
    """Validate a normaliser index pair against ``n`` landmarks."""
    a, b = (int(pair[0]), int(pair[1]))
    if not (0 <= a < n and 0 <= b < n) or a == b:
        raise ValueError(f"normaliser pair {pair} is invalid for {n} landmarks (0-based, two distinct points)")
    return a, b


def check_finite(arr: np.ndarray, name: str, unit: str = "frame", video: Optional[int] = None,
                 local: Optional[np.ndarray] = None) -> None:
    """Raise naming the first (video, unit) whose values in ``arr[unit, ...]`` are NaN/inf."""
    flat = arr.reshape(len(arr), -1)
    bad = ~np.isfinite(flat).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        where = f"video {video}, " if video is not None else ""
        k = int(local[i]) if local is not None else i
        raise ValueError(f"{name} contains NaN/inf at {where}{unit} {k}: drop or mark the {unit} "
                         f"invalid (valid=False) instead of passing non-finite values")


def check_normaliser(d: np.ndarray, what: str, unit: str = "frame", video: Optional[int] = None,
                     local: Optional[np.ndarray] = None) -> None:
    """Raise naming the first (video, unit) where normaliser ``d`` is ≤ 0 or not finite."""
    bad = ~(np.isfinite(d) & (d > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        where = f"video {video}, " if video is not None else ""
        k = int(local[i]) if local is not None else i
        raise ValueError(f"{what} normaliser is {d[i]!r} (must be > 0) at {where}{unit} {k}: "
                         f"the GT is degenerate there; exclude that {unit}")
