"""Typed records the harness stages hand each other (never untyped dicts).

* :class:`~wflwv.boxes.TrackRecord` — box source → cache: box, track id, cut per frame.
* :class:`~wflwv.harness.batching.VideoPrediction` — detection → cache: one finished video.
* :class:`ScoredFilter` — scoring → report: one filter's per-video and per-frame metrics.
* :class:`RunContext` — ``evaluate`` → report: everything the run files record about the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np


@dataclass
class ScoredFilter:
    """One filter scored over the cached videos (columns aligned with the ragged video order)."""

    info: Dict[str, Any]                    # id, params, causality, preset (see scoring.filter_info)
    per_video: Dict[str, np.ndarray]        # [V] columns: nme_io, nmf, jitter_d2, coverage, n_tracks, ...
    per_frame: Dict[str, np.ndarray]        # [F] columns: nme_io, nme_fs, flicker
    filter_s: float = 0.0
    metrics_s: float = 0.0


@dataclass
class RunContext:
    """What ``evaluate`` resolved and measured, for the summary and result files of one run."""

    model: str                              # the spec as given, e.g. "noisy:sigma=0.01"
    model_name: str
    options: Dict[str, Any]
    index: Any                              # wflwv.datasets.index.Index
    subset: Optional[str]
    selected: Sequence[str]
    all_ids: Sequence[str]
    limit: Any
    exclude_unreliable: bool
    decode: bool
    backend: str
    device: str
    seed: int
    fields: Dict[str, Any]                  # the cache-key fields (box_source, detector, ...)
    extra: Dict[str, Any]                   # index_sha, detector cfg, weights verification
    detect_stats: Dict[str, float]
    n_new_videos: int
    batch_size: int
    jobs: int
    progress: bool = False
    executor: Optional[Dict[str, Any]] = None
    failures: Dict[str, str] = field(default_factory=dict)    # video_id -> reason (failed rows)
    metrics: Tuple[str, ...] = ()                              # metrics the precheck accepted
    box_source_cfg: Optional[Dict[str, Any]] = None
    protocol: Any = None                    # wflwv.protocols.ProtocolPlan (None: "index")
    command: Optional[str] = None           # the invoking command line, when run from the CLI


__all__ = ["RunContext", "ScoredFilter"]
