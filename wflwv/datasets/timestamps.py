"""Frame timestamps: use the container's, or fall back to the frame rate with a recorded warning.

Containers lie: an animated-film ``.avi`` gives its last frame the time 0.0, some streams repeat or
omit timestamps. Filters that use time (One-Euro, Kalman) need strictly increasing seconds, so a
clip whose times are missing, non-finite, zero-length or not strictly increasing is given the
nominal times ``t = i / fps`` instead — never silently: the reason is returned and recorded for
that clip (build report, run summary, ``video_metrics.parquet``).
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

DEFAULT_FPS = 25.0


def checked_times(times: Optional[np.ndarray], n_frames: int, fps: Optional[float]
                  ) -> Tuple[np.ndarray, Optional[str]]:
    """``(times [T] seconds, warning or None)``: the given times when usable, else ``i / fps``."""
    n = int(n_frames)
    t = None if times is None else np.asarray(times, np.float64)
    problem = None
    if t is None or len(t) != n:
        problem = "no timestamps" if t is None else f"{len(t)} timestamps for {n} frames"
    elif n and not np.isfinite(t).all():
        problem = f"non-finite timestamp at frame {int(np.flatnonzero(~np.isfinite(t))[0])}"
    elif n > 1 and not (np.diff(t) > 0).all():
        k = int(np.flatnonzero(np.diff(t) <= 0)[0]) + 1
        problem = f"timestamps not strictly increasing at frame {k} ({t[k - 1]:.4f} s then {t[k]:.4f} s)"
    if problem is None:
        return t, None
    rate = float(fps) if fps is not None and np.isfinite(fps) and fps > 0 else DEFAULT_FPS
    src = "the container frame rate" if rate != DEFAULT_FPS or (fps and fps > 0) else \
        f"{DEFAULT_FPS:g} fps (the container has no frame rate either)"
    return np.arange(n, dtype=np.float64) / rate, f"{problem}; using frame index / {rate:g} fps ({src})"
