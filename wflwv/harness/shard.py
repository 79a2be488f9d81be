"""The unit of work: predict one shard of videos and commit each finished video to the cache.

:func:`run_shard` is picklable (module level) and re-creates everything it needs from a
:class:`ShardSpec`, so it runs the same inline, in a local worker process, or on a remote engine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np

from wflwv.harness.batching import BatchStats, FrameCountError, VideoJob, VideoPrediction, run_video_parallel

_DETECTORS: Dict[Tuple, Any] = {}   # per-process detector cache (inline runs reuse one model)
_INDEXES: Dict[str, Any] = {}       # per-process index cache (one entry; inline runs reuse it)


@dataclass(frozen=True)
class ShardSpec:
    """Everything a worker needs to predict ``video_ids`` and commit them to ``run_dir``."""

    index_dir: str
    video_ids: Tuple[str, ...]
    model: str
    options: Tuple[Tuple[str, Any], ...]
    run_dir: str
    weights: Optional[str] = None
    device: str = "cpu"
    dtype: str = "float32"
    box_source: str = "dataset"
    batch_size: int = 16
    decode: bool = True
    backend: str = "auto"
    progress: bool = False
    keep_going: bool = True          # a failing video becomes a failed row; False: raise
    extra: Dict[str, Any] = field(default_factory=dict, compare=False)


def get_detector(model: str, options: Dict[str, Any], weights: Optional[str], device: str,
                 dtype: str = "float32"):
    """Create (once per process) the detector for ``model`` with ``options`` and ``dtype`` name."""
    from wflwv.detectors import create
    from wflwv.detectors.device import torch_dtype

    key = (model, tuple(sorted(options.items())), weights, device, dtype)
    if key not in _DETECTORS:
        _DETECTORS.clear()
        _DETECTORS[key] = create(model, weights=weights, device=device, dtype=torch_dtype(dtype), **options)
    return _DETECTORS[key]


def get_index(index_dir: str):
    """Open (once per process) the index at ``index_dir``; reopened when its files change."""
    from wflwv.datasets.index import load_index

    path = Path(index_dir).resolve()
    stamp = tuple((path / n).stat().st_mtime_ns if (path / n).exists() else 0
                  for n in ("dataset_info.json", "videos.parquet", "frames.parquet"))
    key = f"{path}|{stamp}"
    if key not in _INDEXES:
        _INDEXES.clear()
        _INDEXES[key] = load_index(path)
    return _INDEXES[key]


_LIVE_DECODERS: Dict[int, Tuple[Any, Any]] = {}


def _register_decoder(stop, worker) -> None:
    """Track a decode thread so interpreter exit stops and joins it first (see :func:`_stop_decoders`)."""
    if not _LIVE_DECODERS:
        import atexit

        atexit.register(_stop_decoders)
    for k in [k for k, (_, w) in _LIVE_DECODERS.items() if not w.is_alive() and w.ident is not None]:
        _LIVE_DECODERS.pop(k, None)
    _LIVE_DECODERS[id(worker)] = (stop, worker)


def _stop_decoders() -> None:
    """At exit: stop every decode thread still running and wait for it (a native decoder killed
    mid-frame at interpreter shutdown aborts the process with SIGABRT)."""
    for stop, _ in list(_LIVE_DECODERS.values()):
        stop.set()
    for _, worker in list(_LIVE_DECODERS.values()):
        worker.join(timeout=10)
    _LIVE_DECODERS.clear()


def _decoded(path: Path, backend: str, prefetch: int = 4) -> Iterator[Tuple[int, Any]]:
    """``(frame_index, RGB image)`` of ``path``, decoded ``prefetch`` frames ahead in a thread.

    Native decoders release the GIL, so decoding the next frames overlaps with batching, inference
    and cache commits of the main thread. Errors of the decoder are re-raised in the consumer;
    closing the generator (early stop, error, garbage collection) stops and joins the thread.
    """
    import queue
    import threading

    from wflwv.io.video import iter_frames

    if prefetch <= 0:
        for fr in iter_frames(path, backend=backend):
            yield fr.index, fr.image
        return
    q: "queue.Queue" = queue.Queue(maxsize=prefetch)
    stop = threading.Event()
    end = object()

    def produce() -> None:
        frames = iter_frames(path, backend=backend)
        try:
            for fr in frames:
                while not stop.is_set():
                    try:
                        q.put((fr.index, fr.image), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            _put(end)
        except BaseException as exc:  # noqa: BLE001 — handed to the consumer
            _put(exc)
        finally:
            frames.close()          # releases the native decoder in this thread, before it ends

    def _put(item) -> None:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    worker = threading.Thread(target=produce, name=f"decode-{path.name}", daemon=True)
    _register_decoder(stop, worker)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # the decoder thread must end before this generator does: a native decoder still running
        # at interpreter exit aborts the process ("terminate called without an active exception")
        stop.set()
        worker.join()


def _skipped(n: int) -> Iterator[Tuple[int, Any]]:
    for i in range(n):
        yield i, None


def build_jobs(index, video_ids: List[str], detector, box_source, decode: bool,
               backend: str = "auto", on_error: Optional[Callable[[str, BaseException], None]] = None
               ) -> Iterator[VideoJob]:
    """Lazily yield one :class:`VideoJob` per video (GT only for ``needs_gt`` detectors).

    ``box_source`` is a :class:`wflwv.boxes.BoxSource` or its spec. With ``on_error`` a video that
    cannot be set up (no boxes, wrong GT rows) is reported there and skipped; else it raises.
    """
    from wflwv.boxes import create_box_source

    source = create_box_source(box_source) if isinstance(box_source, str) else box_source
    v = index.videos
    table = dict(zip(v["video_id"].astype(str), zip(v["n_frames"].astype(int), v["path"].astype(str))))
    for vid in video_ids:
        try:
            if vid not in table:
                raise ValueError(f"video {vid!r} is not in index {index.path}")
            n, rel = table[vid]
            gt = index.landmarks(vid) if (detector.cfg.needs_gt or source.needs_gt) else None
            if detector.cfg.needs_gt and gt is None:
                raise ValueError(f"simulated detector {detector.cfg.name!r} needs GT landmarks but video "
                                 f"{vid!r} of index {index.path} is unlabelled")
            if gt is not None and len(gt) != n:
                raise FrameCountError(f"video {vid!r}: index has {len(gt)} landmark rows but n_frames={n}; "
                                      f"rebuild the index")
            session = source.open(index, vid, n, gt)
        except Exception as exc:  # noqa: BLE001 — one video's fault
            if on_error is None:
                raise
            on_error(vid, exc)
            continue
        frames = _decoded(index.root / rel, backend) if decode else _skipped(n)
        yield VideoJob(video_id=vid, n_frames=n, frames=frames, boxes=session,
                       gt=gt if detector.cfg.needs_gt else None)


def failure_reason(exc: BaseException) -> str:
    """One line naming the error class and message (stored in the failed row)."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


def run_shard(spec: ShardSpec) -> Dict[str, Any]:
    """Predict every video of ``spec`` and commit each one atomically; return timing counters."""
    from wflwv.boxes import create_box_source
    from wflwv.harness.cache import RunDir

    t0 = time.perf_counter()
    index = get_index(spec.index_dir)
    run = RunDir.load(spec.run_dir)
    detector = get_detector(spec.model, dict(spec.options), spec.weights, spec.device, spec.dtype)
    setup_s = time.perf_counter() - t0
    stats = BatchStats()
    commit_s = [0.0]

    def failed(video_id: str, exc: BaseException) -> None:
        if isinstance(exc, OSError):   # the disk or permissions, not this video: stop the run (issue 12)
            raise exc
        run.commit_failure(video_id, failure_reason(exc))

    def done(pred: VideoPrediction) -> None:
        fi = pred.frame_index
        if not np.array_equal(fi, np.arange(len(fi))):
            failed(pred.video_id, FrameCountError(
                f"video {pred.video_id!r}: decoded frame indices are not 0..T-1 (got {fi[:5].tolist()}...); "
                f"the decoder skipped frames"))
            return
        t = time.perf_counter()
        run.commit_video(pred.video_id, fi, pred.landmarks, track=pred.track)
        commit_s[0] += time.perf_counter() - t

    progress = None
    if spec.progress:
        from tqdm import tqdm

        progress = tqdm(total=len(spec.video_ids), desc=f"{spec.model} videos", unit="video", leave=False)
    try:
        source = create_box_source(spec.box_source)
        if hasattr(detector, "set_box_convention"):
            detector.set_box_convention(source.convention)
        on_error = failed if spec.keep_going else None
        jobs = build_jobs(index, list(spec.video_ids), detector, source, spec.decode, spec.backend, on_error)
        run_video_parallel(detector, jobs, spec.batch_size, on_video_done=done, stats=stats,
                           progress=progress, on_video_failed=on_error)
    finally:
        if progress is not None:
            progress.close()
    return {"videos": stats.videos, "failed": stats.failed, "frames": stats.frames, "calls": stats.calls,
            "max_batch": stats.max_batch, "decode_s": stats.decode_s, "detect_s": stats.detect_s, "boxes_s": stats.boxes_s,
            "commit_s": commit_s[0], "setup_s": setup_s,
            "total_s": time.perf_counter() - t0}
