"""Scene-cut detection for unlabelled clips: grey-histogram Hellinger distance between frames.

``metrics.md`` §7: unlabelled clips run a cut detector whose name and threshold are stored with the
results. :class:`GreyHistCut` compares normalised ``bins``-bin grey histograms of consecutive frames
with the Hellinger distance ``sqrt(1 − Σ sqrt(p·q))`` ∈ [0, 1]; a distance above ``threshold``
starts a new segment at the later frame.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np


class GreyHistCut:
    """Stateful cut detector: ``step(grey) → (is_cut, distance)`` for each frame in order."""

    name = "grey_hist_hellinger@1"

    def __init__(self, threshold: float = 0.35, bins: int = 64):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"cut threshold {threshold} must be in (0, 1] (Hellinger distance)")
        self.threshold = float(threshold)
        self.bins = int(bins)
        self.prev_: Optional[np.ndarray] = None

    def config(self) -> Dict[str, Any]:
        """Name, threshold and bin count, recorded with every result that used this detector."""
        return {"name": self.name, "threshold": self.threshold, "bins": self.bins}

    def reset(self) -> None:
        """Forget the previous frame (call at the start of each clip)."""
        self.prev_ = None

    def histogram(self, grey: np.ndarray) -> np.ndarray:
        """Normalised ``bins``-bin histogram of a uint8 grey image (sums to 1)."""
        g = np.asarray(grey)
        if g.ndim != 2 or g.dtype != np.uint8:
            raise ValueError(f"cut detector expects a [H, W] uint8 grey image, got {g.shape} {g.dtype}")
        h = np.bincount((g.ravel().astype(np.int64) * self.bins) >> 8, minlength=self.bins)
        return h.astype(np.float64) / max(1, g.size)

    @staticmethod
    def distance(p: np.ndarray, q: np.ndarray) -> float:
        """Hellinger distance between two normalised histograms (0 identical, 1 disjoint)."""
        bc = float(np.sum(np.sqrt(p * q)))
        return float(np.sqrt(max(0.0, 1.0 - bc)))

    def step(self, grey: np.ndarray) -> "tuple[bool, float]":
        """Feed the next frame; returns whether a cut lies between it and the previous frame."""
        h = self.histogram(grey)
        prev, self.prev_ = self.prev_, h
        if prev is None:
            return False, 0.0
        d = self.distance(prev, h)
        return d > self.threshold, d

    def detect(self, greys) -> np.ndarray:
        """Boolean ``[T]`` cut flags for a sequence of grey frames (``flags[0]`` is always False)."""
        self.reset()
        return np.array([self.step(g)[0] for g in greys], dtype=bool)
