"""One video file through the harness's detection stage, without an index (benchmarks, checks).

:func:`predict_clip` decodes ``path``, asks a box source for its boxes (``detector:hog`` by default,
or ``frame`` for self-detecting models) and runs the same video-parallel engine as ``evaluate``
(:func:`wflwv.harness.batching.run_video_parallel`), returning the typed
:class:`~wflwv.harness.batching.VideoPrediction` (landmarks + track) and the timing counters.
Sources that read the index (``dataset``, ``gt``) need ``wflwv evaluate``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Tuple

import numpy as np

from wflwv.harness.batching import BatchStats, VideoJob, VideoPrediction, run_video_parallel


@dataclass
class ClipTiming:
    """Seconds spent per stage on one clip, and the resulting frames per second."""

    n_frames: int
    decode_s: float
    boxes_s: float
    detect_s: float
    total_s: float

    @property
    def fps(self) -> float:
        """Frames per second over decode + boxes + detection (the whole per-frame work)."""
        return self.n_frames / max(self.total_s, 1e-9)


def predict_clip(detector: Any, path, box_source: str = "detector:hog", backend: str = "opencv",
                 n_frames: Optional[int] = None) -> Tuple[VideoPrediction, ClipTiming]:
    """Predict every frame of the video at ``path``; ``(VideoPrediction, ClipTiming)``."""
    from wflwv.boxes import create_box_source
    from wflwv.io.video import iter_frames, scan_video

    source = create_box_source(box_source)
    if source.needs_gt or not source.needs_pixels:
        raise ValueError(f"predict_clip: box source {source.spec!r} reads an index; use `wflwv evaluate`")
    path = Path(path)
    if n_frames is None:
        n_frames = scan_video(path, backend, mode="sample", sample_every=1 << 30)["n_frames"]
    if hasattr(detector, "set_box_convention"):
        detector.set_box_convention(source.convention)
    frames = ((fr.index, fr.image) for fr in iter_frames(path, backend=backend))
    job = VideoJob(path.stem, int(n_frames), frames, source.open(None, path.stem, int(n_frames)))
    out = []
    stats = BatchStats()
    t0 = time.perf_counter()
    run_video_parallel(detector, [job], batch_size=1, on_video_done=out.append, stats=stats)
    total = time.perf_counter() - t0
    (pred,) = out
    assert np.array_equal(pred.frame_index, np.arange(len(pred.frame_index)))
    return pred, ClipTiming(int(n_frames), stats.decode_s, stats.boxes_s, stats.detect_s, total)
