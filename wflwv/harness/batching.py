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

Boxes come from the run's box source (:mod:`wflwv.boxes`): each video's session proposes a box
per frame, gets the predicted landmarks back (tracking) and records the track; a frame where
the session finds no face is a missing detection (NaN row) and the detector state restarts at
the next face, as it does at every new track or scene cut.
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
    """One video to predict: a frame iterator plus its box session and GT rows (``[T, ...]``).

    ``boxes`` is a :class:`wflwv.boxes.VideoBoxes` session, or a ``[T, 4]`` array (wrapped into a
    fixed-box session).
    """

    video_id: str
    n_frames: int
    frames: Iterator[Tuple[int, Any]]      # yields (frame_index, RGB image or None)
    boxes: Any = None                      # VideoBoxes session or [T, 4] boxes
    gt: Optional[np.ndarray] = None        # [T, N, 2]; only for needs_gt detectors

    def __post_init__(self) -> None:
        from wflwv.boxes.base import VideoBoxes
        from wflwv.boxes.fixed import FixedBoxes

        if not isinstance(self.boxes, VideoBoxes):
            if self.boxes is None:
                raise ValueError(f"video {self.video_id!r}: a VideoJob needs boxes or a box session")
            self.boxes = FixedBoxes(np.asarray(self.boxes, np.float64), "dataset")


@dataclass
class VideoPrediction:
    """A finished video: frame indices, landmarks (NaN rows = no face) and the box track."""

    video_id: str
    frame_index: np.ndarray                # [T] int64
    landmarks: np.ndarray                  # [T, N, 2]
    track: Any                             # wflwv.boxes.TrackRecord


@dataclass
class _Slot:
    job: VideoJob
    t: int = 0
    state: Any = None
    out: List[Optional[np.ndarray]] = field(default_factory=list)
    index: List[int] = field(default_factory=list)
    restart: bool = False      # the next frame starts a new track: fresh detector state


@dataclass
class BatchStats:
    """Counters filled by :func:`run_video_parallel` (seconds and counts)."""

    decode_s: float = 0.0
    detect_s: float = 0.0
    boxes_s: float = 0.0       # box source: face detection, tracking, cut detection
    frames: int = 0
    calls: int = 0
    videos: int = 0
    max_batch: int = 0
    failed: int = 0


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
            f"{s.t}; nothing was cached for that video. Check the "
            f"weights (--weights) and the crop/box inputs of that frame.")
    return lm


class _VideoFailed(Exception):
    def __init__(self, slot: _Slot, exc: BaseException):
        super().__init__(str(exc))
        self.slot, self.exc = slot, exc


def _close(frames: Any) -> None:
    close = getattr(frames, "close", None)
    if close is not None:
        close()


def run_video_parallel(detector, jobs: Iterable[VideoJob], batch_size: int = 16,
                       on_video_done: Optional[Callable[[VideoPrediction], None]] = None,
                       stats: Optional[BatchStats] = None, progress: Any = None,
                       on_video_failed: Optional[Callable[[str, BaseException], None]] = None
                       ) -> Dict[str, np.ndarray]:
    """Predict every frame of every job; ``on_video_done(VideoPrediction)`` per finished video.

    Returns ``{video_id: landmarks}`` only when ``on_video_done`` is None (otherwise results go
    to the callback and are not kept, so memory does not grow with the number of videos).
    ``progress`` is an optional tqdm-like object updated once per finished video.

    With ``on_video_failed`` a video whose decoding, box source or detector call raises is dropped
    (``on_video_failed(video_id, exception)``) and the other videos go on; a failing batched call
    is retried video by video so only the culprit fails. Without it the first error propagates.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    stats = stats if stats is not None else BatchStats()
    cfg = detector.cfg
    name = cfg.name
    n_points = cfg.num_landmarks if cfg.num_landmarks > 0 else None
    may_miss = bool(getattr(cfg, "may_miss", False))
    results: Dict[str, np.ndarray] = {}
    queue = iter(jobs)
    active: List[_Slot] = []
    exhausted = False

    def fail(slot: _Slot, exc: BaseException) -> None:
        if slot in active:
            active.remove(slot)
        _close(slot.job.frames)   # stop its decoder thread now (never left running at exit)
        if on_video_failed is None:
            for other in active:
                _close(other.job.frames)
            raise exc
        stats.failed += 1
        on_video_failed(slot.job.video_id, exc)
        if progress is not None:
            progress.update(1)

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
        pred = VideoPrediction(job.video_id, idx, lm, job.boxes.result())
        if on_video_done is None:
            results[job.video_id] = lm
        else:
            on_video_done(pred)
        stats.videos += 1
        if progress is not None:
            progress.update(1)

    def call(group, is_fresh: bool):
        slots = [g[0] for g in group]
        frames = [g[2] for g in group]
        boxes = np.stack([g[3] for g in group])
        gt = np.stack([s.job.gt[s.t] for s in slots]) if cfg.needs_gt else None
        keys = [(s.job.video_id, fi) for s, fi, _, _ in group]
        state = None if is_fresh else detector.stack_state([s.state for s in slots])
        t1 = time.perf_counter()
        if is_fresh:
            detector.reset()
        lm, new_state = detector.predict_frames(frames, boxes, state=state, gt=gt, keys=keys)
        stats.detect_s += time.perf_counter() - t1
        lm = _check_output(lm, slots, n_points, name, may_miss)
        stats.calls += 1
        stats.max_batch = max(stats.max_batch, len(slots))
        return lm, detector.split_state(new_state, len(slots))

    def call_or_split(group, is_fresh: bool):
        """Results per group member; a member whose own call fails becomes a _VideoFailed."""
        try:
            lm, states = call(group, is_fresh)
            return list(zip(lm, states))
        except Exception as exc:  # noqa: BLE001 — find the culprit video
            if on_video_failed is None:
                raise
            if len(group) == 1:
                return [_VideoFailed(group[0][0], exc)]
            out = []
            for g in group:
                out.extend(call_or_split([g], is_fresh))
            return out

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
                item = next(slot.job.frames, None)
                if item is None:
                    active.remove(slot)
                    finish(slot)
                    continue
                fi, image = item
                if slot.t >= slot.job.n_frames:
                    raise FrameCountError(f"video {slot.job.video_id!r} decoded to more frames than the "
                                          f"{slot.job.n_frames} its index records; rebuild the index")
            except Exception as exc:  # noqa: BLE001 — decoder / frame-count errors of one video
                fail(slot, exc)
                continue
            ready.append((slot, int(fi), image))
        stats.decode_s += time.perf_counter() - t0
        if not ready:
            continue
        located = []
        t0 = time.perf_counter()
        for slot, fi, image in ready:
            try:
                fb = slot.job.boxes.propose(slot.t, image)
                if not fb.found:  # the box source found no face: a missing detection
                    slot.job.boxes.observe(None)
                    slot.index.append(fi)
                    slot.out.append(None)  # filled with a NaN row of the right size in finish()
                    slot.t += 1
                    slot.state, slot.restart = None, True
                    stats.frames += 1
                    continue
            except Exception as exc:  # noqa: BLE001 — box source errors of one video
                fail(slot, exc)
                continue
            if fb.new_track or fb.cut:
                slot.restart = True
            located.append((slot, fi, image, np.asarray(fb.box, dtype=np.float64)))
        stats.boxes_s += time.perf_counter() - t0
        fresh = [r for r in located if r[0].t == 0 or r[0].restart]
        cont = [r for r in located if not (r[0].t == 0 or r[0].restart)]
        for group, is_fresh in ((fresh, True), (cont, False)):
            if not group:
                continue
            for g, res in zip(group, call_or_split(group, is_fresh)):
                slot, fi, image, _ = g
                if isinstance(res, _VideoFailed):
                    fail(slot, res.exc)
                    continue
                row, st = res
                try:
                    row = _observe(slot, image, row, st, call_or_split)
                except Exception as exc:  # noqa: BLE001
                    fail(slot, exc)
                    continue
                slot.index.append(fi)
                slot.out.append(row)
                slot.t += 1
                stats.frames += 1
    return results


def _observe(slot: _Slot, image: Any, row: np.ndarray, state: Any, call_or_split) -> Optional[np.ndarray]:
    """Hand the landmarks back to the box session; re-detect once when it says the track drifted."""
    found = bool(np.isfinite(row).all())
    sess = slot.job.boxes
    if sess.observe(row if found else None):
        slot.state, slot.restart = (state, False) if found else (None, True)
        return row if found else None
    fb = sess.redetect(image)
    if not fb.found:
        sess.observe(None)
        slot.state, slot.restart = None, True
        return None
    res = call_or_split([(slot, slot.t, image, np.asarray(fb.box, np.float64))], True)[0]
    if isinstance(res, _VideoFailed):
        raise res.exc
    row, state = res
    found = bool(np.isfinite(row).all())
    sess.observe(row if found else None)
    slot.state, slot.restart = (state, False) if found else (None, True)
    return row if found else None
