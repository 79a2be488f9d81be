"""Still-image metrics: per-image NME, CED, failure rate and AUC (docs/metrics.md §2).

All functions take and return **fractions** (NME 0.05 = 5 %); multiply by 100 for the
percent columns (NME %, FR %). AUC is a fraction in [0, 1].
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from wflwv.metrics._checks import as_points, check_finite, check_normaliser, check_pair, same_shape


def image_nme(pred: np.ndarray, gt: np.ndarray, pair: Tuple[int, int] = (60, 72)) -> np.ndarray:
    """Per-image NME ``[B]`` as a fraction: mean over points of ‖p−g‖ / ‖g[a]−g[b]‖.

    ``pred``/``gt`` are ``[B, N, 2]`` (or one ``[N, 2]`` image) in any common unit (crop units
    or pixels); ``pair`` is the 0-based normaliser pair ((60, 72) WFLW, (36, 45) iBUG-68).
    A normaliser ≤ 0 or any NaN/inf raises ``ValueError`` naming the image.
    """
    p = np.asarray(pred, dtype=np.float64)
    g = np.asarray(gt, dtype=np.float64)
    if p.ndim == 2 and g.ndim == 2:
        p, g = p[None], g[None]
    p, g = as_points("pred", p, 3), as_points("gt", g, 3)
    same_shape(p, g)
    a, b = check_pair(pair, p.shape[1])
    check_finite(g, "gt", unit="image")
    check_finite(p, "pred", unit="image")
    d = np.sqrt(((g[:, a] - g[:, b]) ** 2).sum(-1))
    check_normaliser(d, f"inter-ocular ({a}, {b})", unit="image")
    err = np.sqrt(((p - g) ** 2).sum(-1)).mean(-1)
    return err / d


def _nmes(nmes: np.ndarray) -> np.ndarray:
    x = np.asarray(nmes, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError("no NME values given (empty split)")
    bad = ~np.isfinite(x) | (x < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"NME value {x[i]!r} at image {i} is not a finite non-negative number; "
                         "count a missing prediction as a failure explicitly (e.g. NME = inf is not allowed)")
    return x


def _official_grid(threshold: float, step: float) -> np.ndarray:
    xs = np.arange(0, threshold + step, step)
    n = int(round(threshold / step)) + 1
    if len(xs) != n or xs[-1] != threshold:
        raise ValueError(f"np.arange(0, {threshold} + {step}, {step}) gives {len(xs)} points ending at "
                         f"{xs[-1]!r}, not {n} points ending exactly at {threshold}; the official "
                         "Simpson rule is only defined on such a grid (use auc_exact instead)")
    if threshold == 0.10 and step == 1e-4:
        assert len(xs) == 1001 and xs[-1] == 0.10
    return xs


def ced_curve(nmes: np.ndarray, threshold: float = 0.10, step: float = 1e-4) -> Tuple[np.ndarray, np.ndarray]:
    """CED on the official grid: ``xs = np.arange(0, T + step, step)``, ``ys = share of NME ≤ x``."""
    x = np.sort(_nmes(nmes))
    xs = _official_grid(float(threshold), float(step))
    ys = np.searchsorted(x, xs, side="right") / x.size
    return xs, ys


def fr_auc(nmes: np.ndarray, threshold: float = 0.10, step: float = 1e-4) -> Tuple[float, float]:
    """Official WFLW (LDEQ/PIPNet) rule → ``(fr, auc)``, both fractions.

    CED counts ``NME ≤ x`` (inclusive) on the 1001-point ``np.arange`` grid; AUC is
    ``scipy.integrate.simpson(ys, x=xs) / T``; FR is ``1 − CED(T)`` (share with NME > T).
    """
    from scipy.integrate import simpson

    xs, ys = ced_curve(nmes, threshold, step)
    return float(1.0 - ys[-1]), float(simpson(ys, x=xs) / threshold)


def fr_auc_trapz(nmes: np.ndarray, threshold: float = 0.08, n: int = 2000) -> Tuple[float, float]:
    """SBR rule (300-W / 300-VW) → ``(fr, auc)``, both fractions.

    ``xs = linspace(0, T, n)``, ``ys = share of NME < x`` (SBR's "accuracy", strict); AUC is the
    trapezoid integral / T; FR = ``1 − accuracy(T)`` (share with NME ≥ T).
    """
    x = np.sort(_nmes(nmes))
    xs = np.linspace(0.0, float(threshold), int(n))
    ys = np.searchsorted(x, xs, side="left") / x.size
    return float(1.0 - ys[-1]), float(np.trapezoid(ys, xs) / threshold)


def auc_exact(nmes: np.ndarray, threshold: float = 0.10) -> float:
    """Exact AUC of the step CED on [0, T], a fraction: ``mean(max(0, 1 − NME/T))``."""
    x = _nmes(nmes)
    return float(np.maximum(0.0, 1.0 - x / float(threshold)).mean())


__all__ = ["auc_exact", "ced_curve", "fr_auc", "fr_auc_trapz", "image_nme"]
