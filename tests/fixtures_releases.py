"""Tiny dataset releases in each exact layout (cv2.VideoWriter clips + npy / pts / mat files).

Every clip has distinct frames (a moving bar and the frame number as a grey level) so duplicate
frames would be visible. Codecs: 'mp4v' in .mp4, 'MJPG' in .avi (both round-trip exactly in frame
count with opencv and decord; tests check that).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, List, Optional

import cv2
import numpy as np

from wflwv.io.pts import write_pts

W, H = 160, 120


def write_clip(path: Path, n: int, w: int = W, h: int = H, fps: float = 25.0) -> Path:
    """Write an ``n``-frame clip with distinct frames ('mp4v' for .mp4, 'MJPG' otherwise)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fourcc = cv2.VideoWriter_fourcc(*("mp4v" if path.suffix == ".mp4" else "MJPG"))
    vw = cv2.VideoWriter(str(path), fourcc, fps, (w, h))
    assert vw.isOpened(), f"cannot write {path}"
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(n):
        img = np.zeros((h, w, 3), np.uint8)
        img[..., 0] = (xx * 255 // w).astype(np.uint8)
        img[..., 1] = (20 + 200 * i // max(n, 1))
        x0 = (i * 7) % (w - 20)
        img[:, x0:x0 + 16, 2] = 255
        vw.write(img)
    vw.release()
    return path


def face_landmarks(n_frames: int, n_points: int, w: int = W, h: int = H, seed: int = 0) -> np.ndarray:
    """Plausible landmarks ``[T, N, 2]`` inside a ``w × h`` frame (an ellipse that drifts slowly)."""
    rng = np.random.default_rng(seed)
    ang = np.linspace(0, 2 * np.pi, n_points, endpoint=False)
    base = np.stack([w / 2 + 0.25 * w * np.cos(ang), h / 2 + 0.3 * h * np.sin(ang)], axis=1)
    drift = np.cumsum(rng.normal(0, 0.3, (n_frames, 1, 2)), axis=0)
    return base[None] + drift


def make_wflw_v(root: Path, easy: List[str], hard: List[str], n: int = 8, faults: Iterable[str] = (),
                fault_id: Optional[str] = None, lengths: Optional[Dict[str, int]] = None) -> Path:
    """A WFLW-V release with custom split lists; ``faults`` break the video ``fault_id``.

    Faults: missing_video, missing_landmarks, count_mismatch, outside, bad_box, unknown_id,
    overlap (an ID in both lists), duplicate_line.
    """
    root = Path(root)
    faults = set(faults)
    fault_id = fault_id or (easy + hard)[0]
    for d in ("videos", "landmarks", "bboxes"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for k, vid in enumerate(easy + hard):
        T = (lengths or {}).get(vid, n + k % 3)
        if not (vid == fault_id and "missing_video" in faults):
            write_clip(root / "videos" / f"{vid}.mp4", T)
        lmk = face_landmarks(T, 98, seed=k)
        if vid == fault_id and "count_mismatch" in faults:
            lmk = face_landmarks(T + 2, 98, seed=k)
        if vid == fault_id and "outside" in faults:
            lmk = lmk * 3.0
        box = np.concatenate([lmk.min(1) - 4, lmk.max(1) + 4, np.ones((len(lmk), 1))], axis=1)
        if vid == fault_id and "bad_box" in faults:
            box[2, [0, 2]] = box[2, [2, 0]]
        if not (vid == fault_id and "missing_landmarks" in faults):
            np.save(root / "landmarks" / f"{vid}.npy", lmk.astype(np.float32))
        np.save(root / "bboxes" / f"{vid}.npy", box.astype(np.float32))
    if "unknown_id" in faults:
        write_clip(root / "videos" / "zzUnknown__.mp4", n)
    e, h = list(easy), list(hard)
    if "overlap" in faults:
        h.append(e[0])
    if "duplicate_line" in faults:
        e.append(e[0])
    (root / "easy_video_IDs.txt").write_text("\n".join(e) + "\n")
    (root / "hard_video_IDs.txt").write_text("\n".join(h) + "\n")
    return root


def make_300vw(root: Path, categories: Dict[str, str], n: int = 6, faults: Iterable[str] = (),
               fault_id: Optional[str] = None, unreliable: Optional[Dict[str, List[int]]] = None,
               lf_ids: Iterable[str] = ()) -> Path:
    """A 300-VW release (``<id>/vid.avi`` + ``annot/%06d.pts`` CRLF, ``categories.csv``, ``extra/``).

    Faults: count_mismatch (one .pts too many), stem_gap (000002 missing), bad_pts (67 points),
    outside, unknown_dir (a folder 'abc').
    """
    root = Path(root)
    faults = set(faults)
    fault_id = fault_id or sorted(categories)[0]
    for k, (vid, cat) in enumerate(sorted(categories.items())):
        write_clip(root / vid / "vid.avi", n)
        T = n + (1 if vid == fault_id and "count_mismatch" in faults else 0)
        lmk = face_landmarks(T, 68, seed=k) + 1.0  # 1-based
        if vid == fault_id and "outside" in faults:
            lmk = lmk * 3.0
        annot = root / vid / "annot"
        annot.mkdir(parents=True, exist_ok=True)
        for i in range(T):
            if vid == fault_id and "stem_gap" in faults and i == 1:
                continue
            xy = lmk[i][:67] if (vid == fault_id and "bad_pts" in faults and i == 0) else lmk[i]
            write_pts(annot / f"{i + 1:06d}.pts", xy, decimals=3, crlf=vid not in set(lf_ids))
    (root / "categories.csv").write_text("video_id,category\n" + "".join(
        f"{v},{c}\n" for v, c in sorted(categories.items())))
    if unreliable:
        from scipy.io import savemat

        (root / "extra").mkdir(exist_ok=True)
        for vid, frames in unreliable.items():
            savemat(root / "extra" / f"{vid}.mat", {"error": np.asarray(frames, np.float64).reshape(-1, 1)})
    if "unknown_dir" in faults:
        (root / "abc").mkdir()
    return root


def make_ytc(root: Path, names: List[str], n: int = 7) -> Path:
    """A flat YTC folder of MJPG ``.avi`` clips named ``NNNN_NN_NNN_<first>_<last>.avi``."""
    for name in names:
        write_clip(Path(root) / f"{name}.avi", n)
    return Path(root)
