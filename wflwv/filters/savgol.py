"""Savitzky-Golay smoothing: centred (offline, scipy ``mode="interp"``) or end-of-window (causal).

Centred (``causal=False``, ``savgol.centered``): ``scipy.signal.savgol_filter(x, window,
polyorder, axis=0, mode="interp")`` per segment. A segment shorter than ``window`` uses the
largest odd window ``w' <= len`` and ``polyorder' = min(polyorder, w' - 1)``; the windows used are
recorded in ``windows_used_``. Latency: ``window // 2`` frames.

Causal (``causal=True``, ``savgol.endpoint``, mmpose's online ``Smoother``): fit the window
``[t - w + 1, t]`` and evaluate at its end; the first ``w - 1`` frames of a segment fit all
frames so far (polyorder capped at ``len - 1``). Resets after every gap.
"""

from __future__ import annotations

from functools import lru_cache
from typing import List, Optional

import numpy as np
from scipy.signal import savgol_coeffs, savgol_filter

from wflwv.filters.base import TemporalFilter, check_bool, check_number


class SavitzkyGolay(TemporalFilter):
    """Savitzky-Golay over ``[T, N, 2]``; ``window`` odd >= 3, ``0 <= polyorder <= window - 2``."""

    name = "savgol"
    shareable = True

    def __init__(self, *, window: int = 11, polyorder: int = 2, causal: bool = False):
        self.window = window
        self.polyorder = polyorder
        self.causal = causal

    @property
    def variant(self) -> str:  # type: ignore[override]
        """``savgol.endpoint`` (causal) or ``savgol.centered``."""
        return "savgol.endpoint" if self.causal else "savgol.centered"

    @property
    def latency_frames(self) -> Optional[int]:
        """0 when causal, else the half-window."""
        return 0 if self.causal else int(self.window) // 2

    def _validate(self) -> None:
        check_number(self.name, "window", self.window, low=3, integer=True, example="11")
        if int(self.window) % 2 == 0:
            raise ValueError(f"savgol: window must be odd (2m + 1), got {self.window}; "
                             f"e.g. window={int(self.window) + 1}")
        check_number(self.name, "polyorder", self.polyorder, low=0, integer=True, example="2")
        if int(self.polyorder) >= int(self.window) - 1:
            raise ValueError(f"savgol: polyorder must be <= window - 2 (a polynomial of order "
                             f"window - 1 reproduces the input), got polyorder={self.polyorder} "
                             f"with window={self.window}")
        check_bool(self.name, "causal", self.causal)

    def smooth(self, x, t=None, valid=None):  # noqa: D102 - documented in the base class
        self.windows_used_: List[int] = []
        return super().smooth(x, t, valid)

    def _filter_segment(self, x: np.ndarray, t: Optional[np.ndarray],
                        obs: np.ndarray) -> np.ndarray:
        n = x.shape[0]
        w, p = int(self.window), int(self.polyorder)
        if self.causal:
            return self._endpoint(x, w, p)
        w_used = w if n >= w else (n if n % 2 else n - 1)
        p_used = min(p, w_used - 1)
        self.windows_used_.append(w_used)
        if w_used <= 1:
            return x.copy()
        return savgol_filter(x, w_used, p_used, axis=0, mode="interp")

    @staticmethod
    def _endpoint(x: np.ndarray, w: int, p: int) -> np.ndarray:
        n = x.shape[0]
        y = np.empty_like(x)
        y[0] = x[0]
        for i in range(1, min(w - 1, n)):          # warm-up: fit all frames so far
            L = i + 1
            y[i] = _dot(_endpoint_coeffs(L, min(p, L - 1)), x[:L])[0]
        if n >= w:
            y[w - 1:] = _dot(_endpoint_coeffs(w, p), x, n - w + 1)
        return y


@lru_cache(maxsize=256)
def _endpoint_coeffs(w: int, p: int) -> np.ndarray:
    """Least-squares order-``p`` fit over ``w`` samples, evaluated at the last one (dot order)."""
    c = savgol_coeffs(w, p, pos=w - 1, use="dot")
    c.flags.writeable = False
    return c


def _dot(c: np.ndarray, x: np.ndarray, rows: int = 1) -> np.ndarray:
    """``sum_j c_j x[j : j + rows]`` with a fixed summation order (bit-stable per column)."""
    acc = c[0] * x[0:rows]
    for j in range(1, c.shape[0]):
        acc = acc + c[j] * x[j:j + rows]
    return acc
