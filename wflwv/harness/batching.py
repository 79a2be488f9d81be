"""Video-parallel batching: frame t of up to B videos per detector call.

Videos join the batch when a slot frees up and leave when their last frame is predicted, so
videos of different lengths share batches freely. The state protocol of
:mod:`wflwv.detectors.base` is followed exactly:

* one state slice per video (``Detector.split_state``), re-stacked for the next call
  (``Detector.stack_state``);
* videos at their first frame (fresh, ``state=None``) and continuing videos go to **separate**
  ``predict_frames`` calls — never a mix in one call;
* ``Detector.reset()`` is called before every call that starts videos.

Every result is checked: shape ``[b, N, 2]`` and finite, else :class:`DetectorOutputError`
naming the video and frame. Decoding and inference times are accumulated separately.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np


class DetectorOutputError(ValueError):
    """A detector returned NaN/inf or a wrongly shaped result."""


class FrameCountError(ValueError):
    """A video decoded to a different number of frames than its index records."""


@dataclass
class VideoJob:
    """One video to predict: a frame iterator plus its boxes / GT rows (``[T, ...]``)."""

    video_id: str
    n_frames: int
    frames: Iterator[Tuple[int, Any]]      # yields (frame_index, RGB image or None)
    boxes: Optional[np.ndarray] = None     # [T, 4]; None -> per-frame face detector
    gt: Optional[np.ndarray] = None        # [T, N, 2]; only for needs_gt detectors
    face_detector: Optional[Callable[[np.ndarray], np.ndarray]] = None


@dataclass
class _Slot:
    job: VideoJob
    t: int = 0
    state: Any = None
    out: List[np.ndarray] = field(default_factory=list)
    index: List[int] = field(default_factory=list)
    restart: bool = False      # the previous frame had no face box: start fresh (state reset)


@dataclass
class BatchStats:
    """Counters filled by :func:`run_video_parallel` (seconds and counts)."""

    decode_s: float = 0.0
    detect_s: float = 0.0
    frames: int = 0
    calls: int = 0
    videos: int = 0
    max_batch: int = 0


def _check_output(lm: np.ndarray, slots: List[_Slot], n_points: Optional[int], name: str,
                  may_miss: bool = False) -> np.ndarray:
    lm = np.asarray(lm, dtype=np.float64)
    if lm.ndim != 3 or lm.shape[0] != len(slots) or lm.shape[2] != 2 or (
            n_points is not None and lm.shape[1] != n_points):
        raise DetectorOutputError(f"detector {name!r} returned landmarks of shape {lm.shape}; expected "
                                  f"[{len(slots)}, {n_points if n_points is not None else 'N'}, 2]")
    bad = ~np.isfinite(lm).all(axis=(1, 2))
    if may_miss:  # an all-NaN row is the documented "no face on this frame" marker
        bad &= ~np.isnan(lm).all(axis=(1, 2))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        s = slots[i]
        raise DetectorOutputError(
            f"detector {name!r} returned NaN/inf landmarks for video {s.job.video_id!r} frame "
            f"{s.index[-1] if s.index else s.t}; nothing was cached for that video. Check the "
            f"weights (--weights) and the crop/box inputs of that frame.")
    return lm


def run_video_parallel(detector, jobs: Iterable[VideoJob], batch_size: int = 16,
                       on_video_done: Optional[Callable[[str, np.ndarray, np.ndarray], None]] = None,
                       stats: Optional[BatchStats] = None, progress: Any = None) -> Dict[str, np.ndarray]:
    """Predict every frame of every job; ``on_video_done(video_id, frame_index[T], lm[T,N,2])``.

    Returns ``{video_id: landmarks}`` only when ``on_video_done`` is None (otherwise results go
    to the callback and are not kept, so memory does not grow with the number of videos).
    ``progress`` is an optional tqdm-like object updated once per finished video.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    stats = stats if stats is not None else BatchStats()
    cfg = detector.cfg
    name = cfg.name
    n_points = cfg.num_landmarks if cfg.num_landmarks > 0 else None
    results: Dict[str, np.ndarray] = {}
    queue = iter(jobs)
    active: List[_Slot] = []
    exhausted = False

    def finish(slot: _Slot) -> None:
        job = slot.job
        if slot.t != job.n_frames:
            raise FrameCountError(
                f"video {job.video_id!r} decoded to {slot.t} frames but the index records "
                f"{job.n_frames}; the file changed or the decoder differs from the builder's — "
                f"rebuild the index or pass the decoder backend the index was built with")
        rows = [r for r in slot.out if r is not None]
        n = rows[0].shape[0] if rows else (n_points or (job.gt.shape[1] if job.gt is not None else 0))
        if not rows and slot.out and n == 0:
            raise DetectorOutputError(f"no face was found on any frame of video {job.video_id!r} and "
                                      f"detector {name!r} does not declare its landmark count")
        lm = np.stack([np.full((n, 2), np.nan) if r is None else r for r in slot.out]) if slot.out \
            else np.zeros((0, 0, 2))
        idx = np.asarray(slot.index, dtype=np.int64)
        stats.videos += 1
        if on_video_done is None:
            results[job.video_id] = lm
        else:
            on_video_done(job.video_id, idx, lm)
        if progress is not None:
            progress.update(1)

    while True:
        while not exhausted and len(active) < batch_size:
            try:
                active.append(_Slot(next(queue)))
            except StopIteration:
                exhausted = True
        if not active:
            break
        ready: List[Tuple[_Slot, int, Any]] = []
        t0 = time.perf_counter()
        for slot in list(active):
            try:
                fi, image = next(slot.job.frames)
            except StopIteration:
                active.remove(slot)
                finish(slot)
                continue
            if slot.t >= slot.job.n_frames:
                raise FrameCountError(f"video {slot.job.video_id!r} decoded to more frames than the "
                                      f"{slot.job.n_frames} its index records; rebuild the index")
            ready.append((slot, int(fi), image))
        stats.decode_s += time.perf_counter() - t0
        if not ready:
            continue
        located = []
        for slot, fi, image in ready:
            if slot.job.boxes is not None:
                box = np.asarray(slot.job.boxes[slot.t], dtype=np.float64)
            else:
                box = np.asarray(slot.job.face_detector(image), dtype=np.float64)
            if not np.isfinite(box).all():  # the box source found no face: a missing detection
                slot.index.append(fi)
                slot.out.append(None)  # filled with a NaN row of the right size in finish()
                slot.t += 1
                slot.state, slot.restart = None, True
                stats.frames += 1
                continue
            located.append((slot, fi, image, box))
        fresh = [r for r in located if r[0].t == 0 or r[0].restart]
        cont = [r for r in located if not (r[0].t == 0 or r[0].restart)]
        for group, is_fresh in ((fresh, True), (cont, False)):
            if not group:
                continue
            slots = [g[0] for g in group]
            frames = [g[2] for g in group]
            boxes = [g[3] for g in group]
            gt = None
            if cfg.needs_gt:
                gt = np.stack([s.job.gt[s.t] for s in slots])
            keys = [(s.job.video_id, fi) for s, fi, _, _ in group]
            state = None if is_fresh else detector.stack_state([s.state for s in slots])
            t1 = time.perf_counter()
            if is_fresh:
                detector.reset()
            lm, new_state = detector.predict_frames(frames, np.stack(boxes), state=state, gt=gt, keys=keys)
            stats.detect_s += time.perf_counter() - t1
            for slot, (_, fi, _, _) in zip(slots, group):
                slot.index.append(fi)
                slot.restart = False
            lm = _check_output(lm, slots, n_points, name, bool(getattr(detector.cfg, "may_miss", False)))
            for slot, st, row in zip(slots, detector.split_state(new_state, len(slots)), lm):
                slot.state = st
                slot.out.append(row)
                slot.t += 1
            stats.calls += 1
            stats.frames += len(slots)
            stats.max_batch = max(stats.max_batch, len(slots))
    return results
