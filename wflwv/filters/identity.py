"""The identity filter ("none"): the unfiltered baseline row."""

from __future__ import annotations

from typing import Optional

import numpy as np

from wflwv.filters.base import TemporalFilter


class Identity(TemporalFilter):
    """Returns the input as float64; missing frames (NaN or ``valid=False``) come back NaN."""

    name = "none"
    causal = True
    variant = "identity"
    shareable = True

    def __init__(self) -> None:
        pass

    def _validate(self) -> None:
        pass

    def _filter_segment(self, x: np.ndarray, t: Optional[np.ndarray],
                        obs: np.ndarray) -> np.ndarray:
        return x.copy()
