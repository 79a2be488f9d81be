"""Exponential moving average: the RwR paper's hand-tuned baseline (``docs/filters.md`` §4).

``y_0 = x_0``, ``y_t = alpha x_t + (1 - alpha) y_{t-1}`` per frame (timestamps are ignored).
``half_life_frames=h`` is the alternative parameter: ``alpha = 1 - 2^(-1/h)``. Steady-state lag for
constant velocity is ``(1 - alpha) / alpha`` frames. Resets after every gap.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np
from scipy.signal import lfilter

from wflwv.filters.base import TemporalFilter, check_number

DEFAULT_ALPHA = 0.5


class EMA(TemporalFilter):
    """Causal EMA over ``[T, N, 2]``; give ``alpha`` or ``half_life_frames`` (default alpha 0.5)."""

    name = "ema"
    causal = True
    variant = "ema"
    shareable = True
    float_params = ("alpha", "half_life_frames")

    def __init__(self, *, alpha: Optional[float] = None,
                 half_life_frames: Optional[float] = None):
        self.alpha = alpha
        self.half_life_frames = half_life_frames

    def _validate(self) -> None:
        if self.alpha is not None and self.half_life_frames is not None:
            raise ValueError("ema: give alpha or half_life_frames, not both")
        if self.alpha is not None:
            check_number(self.name, "alpha", self.alpha, low=0, low_open=True, high=1,
                         example="0.5")
        if self.half_life_frames is not None:
            check_number(self.name, "half_life_frames", self.half_life_frames, low=0,
                         low_open=True, example="2")

    @property
    def alpha_(self) -> float:
        """The effective alpha."""
        if self.half_life_frames is not None:
            return 1.0 - 2.0 ** (-1.0 / float(self.half_life_frames))
        return DEFAULT_ALPHA if self.alpha is None else float(self.alpha)

    def _id_params(self) -> Dict[str, Any]:
        if self.alpha is None and self.half_life_frames is None:
            return {"alpha": DEFAULT_ALPHA}
        return super()._id_params()

    def _filter_segment(self, x: np.ndarray, t: Optional[np.ndarray],
                        obs: np.ndarray) -> np.ndarray:
        a = self.alpha_
        y = np.empty_like(x)
        y[0] = x[0]
        if x.shape[0] > 1:
            y[1:], _ = lfilter([a], [1.0, -(1.0 - a)], x[1:], axis=0,
                               zi=((1.0 - a) * x[0])[None, :])
        return y
