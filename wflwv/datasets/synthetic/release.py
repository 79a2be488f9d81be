"""Writers of the three release layouts the real builders read (docs/datasets.md §1.4, §2.1, §3.2).

* ``wflw-v``: ``videos/<ID>.mp4`` (mp4v, as the official re-encode), ``landmarks/<ID>.npy``
  (T, 98, 2) float32 0-based pixels, ``bboxes/<ID>.npy`` (T, 4) float32, ``easy_video_IDs.txt`` /
  ``hard_video_IDs.txt`` and ``download_ranges.txt`` (easy then hard, window ``0 T-1``).
* ``300vw``: ``<id>/vid.avi`` (XVID) and ``<id>/annot/000001.pts`` … (68 points, **1-based** as in
  the real release, written with :func:`wflwv.schemes.write_pts`), ``categories.csv``
  (``video_id,category``) and ``unreliable_frames.csv`` (``video_id,frame_1b``: frames where the
  occluder hides at least a third of the face).
* ``ytc``: flat ``NNNN_NN_NNN_<first>_<last>.avi`` (FMP4, unlabelled), plus the hidden GT under
  ``groundtruth/<stem>.npy`` for users who want to check GT-free metrics.

Every file goes through :mod:`wflwv.io.atomic` (videos: temp name + rename).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

import numpy as np

from wflwv.io.atomic import atomic_write_bytes, atomic_write_text

LAYOUTS = ("wflw-v", "300vw", "ytc")
_ID_ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"))


class ReleaseError(RuntimeError):
    """A release that cannot be written (codec unavailable, short write, bad request)."""


def write_video(path: Path, frames: Iterable[np.ndarray], fps: float, fourcc: str) -> int:
    """Encode BGR uint8 ``frames`` to ``path`` with OpenCV (temp file + rename); return the count."""
    import cv2

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    writer, n = None, 0
    try:
        for img in frames:
            if writer is None:
                h, w = img.shape[:2]
                writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*fourcc), float(fps), (w, h))
                if not writer.isOpened():
                    raise ReleaseError(f"OpenCV cannot open a {fourcc} writer for {path} ({w}x{h} @ {fps} fps); "
                                       f"install an opencv-python(-headless) wheel with FFmpeg support")
            writer.write(img)
            n += 1
        if writer is None:
            raise ReleaseError(f"no frames to write to {path}")
        writer.release()
        writer = None
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise ReleaseError(f"OpenCV wrote nothing to {path} ({fourcc}); the codec is unavailable")
        os.replace(tmp, path)
    finally:
        if writer is not None:
            writer.release()
        if tmp.exists():
            tmp.unlink()
    return n


def save_npy(path: Path, array: np.ndarray) -> Path:
    """``np.save`` to ``path`` atomically (no pickle)."""
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return atomic_write_bytes(path, buf.getvalue())


def wflw_v_ids(rng: np.random.Generator, n: int, dash_at: Tuple[int, ...] = (0,)) -> List[str]:
    """``n`` unique YouTube-like 11-character IDs; those at positions ``dash_at`` start with '-'."""
    out: List[str] = []
    seen = set()
    while len(out) < n:
        s = "".join(rng.choice(_ID_ALPHABET, 11))
        k = len(out)
        if k in dash_at:
            s = "-" + s[1:]
        elif s.startswith("-"):
            s = "x" + s[1:]
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


class ReleaseWriter:
    """Collects clips into one release layout under ``root``; :meth:`finish` writes the lists."""

    def __init__(self, root: Path, layout: str, rng: np.random.Generator, n_easy: int, n_hard: int):
        if layout not in LAYOUTS:
            raise ReleaseError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
        if layout == "300vw" and n_easy + n_hard > 999:
            raise ReleaseError(f"the 300vw layout has 3-digit IDs: at most 999 videos, asked {n_easy + n_hard}")
        self.root, self.layout = Path(root), layout
        self.root.mkdir(parents=True, exist_ok=True)
        self.subsets: Dict[str, List[str]] = {"easy": [], "hard": []}
        self.lengths: Dict[str, int] = {}
        self.categories: List[Tuple[str, str]] = []
        self.unreliable: List[Tuple[str, int]] = []
        n = n_easy + n_hard
        if layout == "wflw-v":
            dash = tuple(sorted({0, n_easy})) if n_hard else (0,)
            self._ids = wflw_v_ids(rng, n, dash)
        elif layout == "300vw":
            self._ids = [f"{k + 1:03d}" for k in range(n)]
        else:
            self._ids = [f"{k + 1:04d}_{1 if k < n_easy else 2:02d}_{k + 1:03d}_synthetic_face{k:03d}"
                         for k in range(n)]
        self._next = 0

    def add(self, clip, subset: str, category: str = "") -> str:
        """Write one clip (video + annotations) as the next ID of ``subset``; return its ID."""
        vid = self._ids[self._next]
        self._next += 1
        lm = np.asarray(clip.landmarks, np.float64)
        T = lm.shape[0]
        fps = float(clip.spec.fps)
        if self.layout == "wflw-v":
            if lm.shape[1] != 98:
                raise ReleaseError(f"the wflw-v layout needs 98-point landmarks, clip {vid} has {lm.shape[1]}; "
                                   f"use --layout 300vw for 68-point sources")
            n = write_video(self.root / "videos" / f"{vid}.mp4", clip.frames(), fps, "mp4v")
            save_npy(self.root / "landmarks" / f"{vid}.npy", lm.astype(np.float32))
            save_npy(self.root / "bboxes" / f"{vid}.npy", np.asarray(clip.boxes, np.float32))
        elif self.layout == "300vw":
            from wflwv.schemes import to_ibug68, write_pts

            pts = lm if lm.shape[1] == 68 else to_ibug68(lm)
            n = write_video(self.root / vid / "vid.avi", clip.frames(), fps, "XVID")
            for i in range(T):
                write_pts(self.root / vid / "annot" / f"{i + 1:06d}.pts", pts[i] + 1.0, decimals=3)
            self.categories.append((vid, category or ("A" if subset == "easy" else "C")))
            occ = np.asarray(clip.occluded).mean(axis=1)
            self.unreliable += [(vid, int(i) + 1) for i in np.flatnonzero(occ >= 1.0 / 3.0)]
        else:
            n = write_video(self.root / f"{vid}.avi", clip.frames(), fps, "FMP4")
            save_npy(self.root / "groundtruth" / f"{vid}.npy", lm.astype(np.float32))
        if n != T:
            raise ReleaseError(f"{vid}: wrote {n} frames but the clip has {T} annotations")
        self.subsets[subset].append(vid)
        self.lengths[vid] = T
        return vid

    def finish(self) -> Dict[str, str]:
        """Write the split / category lists; return ``{file: role}`` of what was written."""
        out: Dict[str, str] = {}
        if self.layout == "wflw-v":
            for subset, fname in (("easy", "easy_video_IDs.txt"), ("hard", "hard_video_IDs.txt")):
                atomic_write_text(self.root / fname, "".join(f"{v}\n" for v in self.subsets[subset]))
                out[fname] = f"{subset} split list"
            order = self.subsets["easy"] + self.subsets["hard"]
            atomic_write_text(self.root / "download_ranges.txt",
                              "".join(f"{v} 0 {self.lengths[v] - 1}\n" for v in order))
            out["download_ranges.txt"] = "frame windows (0-based, inclusive)"
        elif self.layout == "300vw":
            atomic_write_text(self.root / "categories.csv",
                              "video_id,category\n" + "".join(f"{v},{c}\n" for v, c in self.categories))
            atomic_write_text(self.root / "unreliable_frames.csv",
                              "video_id,frame_1b\n" + "".join(f"{v},{f}\n" for v, f in self.unreliable))
            out["categories.csv"] = "video categories"
            out["unreliable_frames.csv"] = "occluded frames"
        return out
