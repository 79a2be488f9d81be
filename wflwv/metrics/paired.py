"""Paired bootstrap over videos: is the difference between two rows on the same videos real?

Both rows are scored on the same videos, so the per-video differences ``d_v = a_v − b_v`` carry
the comparison. The observed difference is ``mean(d)``; its 95 % interval is the percentile
bootstrap of ``mean(d)`` with videos resampled with replacement (``n_boot`` draws from
``numpy.random.default_rng(seed)``, the same procedure as :func:`wflwv.metrics.bootstrap_ci`).
Resampling the videos, not the two rows independently, keeps each video's difficulty paired.
The difference is called significant when the interval excludes zero. See
``docs/paired_bootstrap.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict, Mapping, Tuple

import numpy as np

from wflwv.metrics.bootstrap import bootstrap_ci

N_BOOT = 2000
SEED = 0
LEVEL = 0.95


@dataclass(frozen=True)
class PairedDifference:
    """``mean(a − b)`` over ``n_videos`` paired videos with its bootstrap interval ``[lo, hi]``."""

    delta: float
    lo: float
    hi: float
    excludes_zero: bool
    n_videos: int
    n_boot: int
    seed: int
    level: float

    def to_dict(self) -> Dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def paired_bootstrap(a: np.ndarray, b: np.ndarray, n_boot: int = N_BOOT, seed: int = SEED,
                     level: float = LEVEL) -> PairedDifference:
    """Paired percentile bootstrap of ``mean(a − b)``; ``a[i]`` and ``b[i]`` are the same video.

    Non-finite values raise (drop skipped videos first, e.g. with :func:`align_videos`).
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired_bootstrap: {a.size} values against {b.size}; both rows need the same videos")
    d = a - b
    lo, hi = bootstrap_ci(d, n_boot=n_boot, seed=seed, level=level)
    return PairedDifference(delta=float(d.mean()), lo=lo, hi=hi, excludes_zero=bool(lo > 0.0 or hi < 0.0),
                            n_videos=int(d.size), n_boot=int(n_boot), seed=int(seed), level=float(level))


def align_videos(a: Mapping[str, float], b: Mapping[str, float]) -> Tuple[list, np.ndarray, np.ndarray]:
    """Video ids present and finite in both ``a`` and ``b`` (sorted), with the aligned values."""
    ids = sorted(v for v in set(a) & set(b) if np.isfinite(a[v]) and np.isfinite(b[v]))
    return ids, np.array([a[v] for v in ids], np.float64), np.array([b[v] for v in ids], np.float64)


__all__ = ["LEVEL", "N_BOOT", "SEED", "PairedDifference", "align_videos", "paired_bootstrap"]
