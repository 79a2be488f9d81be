"""Seeded percentile bootstrap over videos for split means."""

from __future__ import annotations

from typing import Tuple

import numpy as np


def bootstrap_ci(per_video_values: np.ndarray, n_boot: int = 1000, seed: int = 0,
                 level: float = 0.95) -> Tuple[float, float]:
    """Percentile bootstrap CI ``(lo, hi)`` of the unweighted mean over videos (same units as input).

    Videos are resampled with replacement ``n_boot`` times with ``numpy.random.default_rng(seed)``;
    the bounds are the ``(1 − level)/2`` and ``(1 + level)/2`` quantiles of the resampled means.
    NaN values (skipped videos) raise: drop them first (see ``macro_mean``).
    """
    x = np.asarray(per_video_values, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError("bootstrap_ci: no per-video values")
    bad = ~np.isfinite(x)
    if bad.any():
        raise ValueError(f"bootstrap_ci: value {x[bad][0]!r} at video {int(np.flatnonzero(bad)[0])} is not "
                         "finite; drop skipped videos first")
    if not 0.0 < level < 1.0 or int(n_boot) < 1:
        raise ValueError(f"bootstrap_ci: need 0 < level < 1 and n_boot >= 1, got {level}, {n_boot}")
    rng = np.random.default_rng(seed)
    means = np.empty(int(n_boot))
    step = max(1, (1 << 22) // x.size)               # bound the index matrix to ~32 MB
    for i in range(0, int(n_boot), step):
        k = min(step, int(n_boot) - i)
        means[i:i + k] = x[rng.integers(0, x.size, size=(k, x.size))].mean(1)
    lo, hi = np.quantile(means, [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    return float(lo), float(hi)


__all__ = ["bootstrap_ci"]
