"""Draw a run's predictions over its video: raw detector output, filtered tracks and the GT.

Library of ``wflwv render RUN_DIR``. The raw landmarks come from the run cache, the filtered ones
are recomputed from them exactly as scoring does (:func:`wflwv.harness.scoring.apply_filter`:
fresh filter state per video and per segment, the index timestamps), the GT from the index when it
has one (none on a GT-free index). Frames are decoded with
:func:`wflwv.io.video.iter_frames`; images are drawn in BGR with OpenCV. Colours (BGR): GT green,
raw red, filters blue / orange / magenta / cyan in order. A legend sits in the top-left corner.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

GT_COLOUR = (40, 255, 40)
RAW_COLOUR = (40, 40, 255)
FILTER_COLOURS = ((255, 120, 0), (0, 160, 255), (255, 0, 255), (255, 255, 0))


@dataclass
class RunTracks:
    """Everything drawn for one video of a run."""

    video_id: str
    video_path: Path
    n_frames: int
    raw: np.ndarray                                             # [T, N, 2], NaN where no face
    filtered: Dict[str, np.ndarray] = field(default_factory=dict)   # filter id -> [T, N', 2]
    gt: Optional[np.ndarray] = None                             # [T, M, 2] or None
    fps: float = 25.0


def parse_frames(spec: Optional[str], n_frames: int) -> List[int]:
    """Frame indices of ``spec``: ``START:STOP[:STEP]`` (a Python slice), ``A,B,C`` or one index.

    ``None`` gives the middle frame. Indices outside ``0..n_frames-1`` raise ValueError.
    """
    if spec is None or not str(spec).strip():
        return [n_frames // 2]
    s = str(spec).strip()
    try:
        if ":" in s:
            parts = [int(p) if p.strip() else None for p in s.split(":")]
            if len(parts) > 3:
                raise ValueError
            frames = list(range(n_frames))[slice(*parts)]
        else:
            frames = [int(p) for p in s.split(",") if p.strip()]
    except ValueError:
        raise ValueError(f"--frames {spec!r}: use START:STOP:STEP (e.g. 0:60:10), a list 3,7,9 or one index") from None
    bad = [k for k in frames if not 0 <= k < n_frames]
    if bad or not frames:
        raise ValueError(f"--frames {spec!r}: the video has {n_frames} frames (0..{n_frames - 1}); "
                         f"{'frame ' + str(bad[0]) + ' does not exist' if bad else 'no frame selected'}")
    return frames


def load_run_tracks(run_dir, video_id: str, filters: Optional[Sequence[str]] = None,
                    index_dir: Optional[str] = None) -> RunTracks:
    """Raw, filtered (``filters``; default: the run's) and GT tracks of ``video_id`` in ``run_dir``."""
    import json

    from wflwv.filters import create
    from wflwv.harness.scoring import apply_filter, build_ragged
    from wflwv.harness.tune import _load_run

    run, index = _load_run(Path(run_dir), index_dir)
    ids = index.video_ids()
    if video_id not in ids:
        near = [v for v in ids if video_id in v][:5]
        raise ValueError(f"video {video_id!r} is not in index {index.path}"
                         + (f"; did you mean {', '.join(near)}?" if near else f" ({len(ids)} videos)"))
    if not run.done([video_id]):
        raise ValueError(f"run {run.path} has no cached predictions for video {video_id!r}; "
                         f"run `wflwv evaluate` on it first")
    raw = np.asarray(run.load_videos([video_id])[video_id], np.float64)
    if filters is None:
        summary = Path(run_dir) / "summary.json"
        specs = [f["id"] for f in json.loads(summary.read_text())["filters"]] if summary.is_file() else ["none"]
        filters = [s for s in specs if s != "none"]
    # the same segments (new tracks, cuts, gaps) and timestamps as scoring; points stay unmapped
    scheme = run.config.get("key_fields", {}).get("landmark_scheme") or "gt"
    rg = build_ragged(index, [video_id], {video_id: raw}, scheme, exclude_unreliable=False,
                      tracks=run.load_tracks([video_id]))
    rg.pred = raw
    out = RunTracks(video_id=video_id, video_path=index.video_path(video_id), n_frames=len(raw), raw=raw,
                    gt=index.landmarks(video_id), fps=float(index.video_row(video_id).get("fps") or 25.0))
    for spec in filters:
        f = create(spec)
        if getattr(f, "id", spec) != "none":
            out.filtered[getattr(f, "id", spec)] = apply_filter(f, rg)
    return out


def _dots(img: np.ndarray, pts: Optional[np.ndarray], colour, radius: float) -> None:
    import cv2

    if pts is None:
        return
    r = max(1, int(round(radius * 16)))
    for x, y in np.asarray(pts, np.float64):
        if np.isfinite(x) and np.isfinite(y):
            cv2.circle(img, (int(round(x * 16)), int(round(y * 16))), r, colour, -1, cv2.LINE_AA, 4)


def draw_frame(img_bgr: np.ndarray, tracks: RunTracks, k: int, radius: float = 1.6,
               legend: bool = True) -> np.ndarray:
    """A copy of frame ``k`` with GT, filtered and raw landmarks drawn (raw on top) and a legend."""
    import cv2

    out = img_bgr.copy()
    _dots(out, None if tracks.gt is None else tracks.gt[k], GT_COLOUR, radius)
    for i, (_, y) in enumerate(tracks.filtered.items()):
        _dots(out, y[k], FILTER_COLOURS[i % len(FILTER_COLOURS)], radius)
    _dots(out, tracks.raw[k], RAW_COLOUR, radius)
    if legend:
        items = ([("GT", GT_COLOUR)] if tracks.gt is not None else []) + [("raw", RAW_COLOUR)] + [
            (fid.partition(":")[0], FILTER_COLOURS[i % len(FILTER_COLOURS)])
            for i, fid in enumerate(tracks.filtered)]
        scale = max(0.35, out.shape[0] / 600.0)
        step = int(24 * scale) + 2
        width = int(max(len(n) for n, _ in items) * 19 * scale) + 60 * scale
        box = out[:step * len(items) + step // 2, :min(out.shape[1], int(width))]
        box[:] = (box.astype(np.float32) * 0.35).astype(np.uint8)     # darken behind the legend
        for j, (name, colour) in enumerate(items):
            cv2.putText(out, f"{name}  #{k}" if j == 0 else name, (4, step * (j + 1)), cv2.FONT_HERSHEY_SIMPLEX,
                        scale, colour, 1, cv2.LINE_AA)
    return out


def decode(path: Path, frames: Sequence[int], backend: str = "auto") -> Dict[int, np.ndarray]:
    """BGR images of the given frame indices of ``path`` (decoded once, in order)."""
    import cv2

    from wflwv.io.video import iter_frames

    todo, got = set(frames), {}
    for fr in iter_frames(path, backend=backend):
        if fr.index in todo:
            got[fr.index] = cv2.cvtColor(fr.image, cv2.COLOR_RGB2BGR)
            todo.discard(fr.index)
            if not todo:
                break
    if todo:
        raise ValueError(f"{path}: frames {sorted(todo)[:5]} did not decode")
    return got


def render_png(tracks: RunTracks, frames: Sequence[int], out, cols: Optional[int] = None,
               backend: str = "auto") -> Path:
    """One PNG grid of ``frames`` with the overlays; returns the path written."""
    from wflwv.datasets.synthetic.preview import grid, write_png

    imgs = decode(tracks.video_path, frames, backend)
    drawn = [draw_frame(imgs[k], tracks, k) for k in frames]
    return write_png(Path(out), grid(drawn, cols or min(len(drawn), 4)))


def render_mp4(tracks: RunTracks, frames: Sequence[int], out, fps: Optional[float] = None,
               backend: str = "auto") -> Tuple[Path, int]:
    """An MP4 (``mp4v``) of ``frames`` with the overlays, written atomically; ``(path, n_frames)``."""
    import cv2

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    imgs = decode(tracks.video_path, frames, backend)
    h, w = imgs[frames[0]].shape[:2]
    tmp = out.with_name(f".tmp-{os.getpid()}-{out.name}")
    vw = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), float(fps or tracks.fps), (w, h))
    try:
        if not vw.isOpened():
            raise ValueError(f"OpenCV cannot write MP4 (mp4v) to {out}; check the folder or write a PNG instead")
        for k in frames:
            vw.write(draw_frame(imgs[k], tracks, k))
        vw.release()
        os.replace(tmp, out)
    except BaseException:
        vw.release()
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return out, len(frames)


__all__ = ["RunTracks", "draw_frame", "load_run_tracks", "parse_frames", "render_mp4", "render_png"]
