"""Draw frames of any built index with its GT landmarks and boxes (library of ``wflwv render``).

Frames are decoded with :func:`wflwv.io.video.iter_frames` (RGB) and drawn in BGR with OpenCV;
images are written as PNG through :func:`wflwv.io.atomic.atomic_write_bytes`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np


def draw_annotations(img_bgr: np.ndarray, landmarks: Optional[np.ndarray], box: Optional[np.ndarray],
                     radius: float = 1.6) -> np.ndarray:
    """A copy of ``img_bgr`` with landmarks [N, 2] (green dots) and box x1 y1 x2 y2 (yellow) drawn."""
    import cv2

    out = img_bgr.copy()
    if box is not None and np.isfinite(box).all():
        p = np.round(np.asarray(box[:4], np.float64) * 16).astype(np.int32)
        cv2.rectangle(out, (int(p[0]), int(p[1])), (int(p[2]), int(p[3])), (0, 220, 255), 1, cv2.LINE_AA, 4)
    if landmarks is not None:
        r = max(1, int(round(radius * 16)))
        for x, y in np.asarray(landmarks, np.float64):
            if np.isfinite(x) and np.isfinite(y):
                cv2.circle(out, (int(round(x * 16)), int(round(y * 16))), r, (40, 255, 40), -1, cv2.LINE_AA, 4)
    return out


def render_frames(index, picks: Sequence[Tuple[str, int]], backend: str = "auto",
                  annotate: bool = True) -> List[np.ndarray]:
    """BGR images of the ``(video_id, frame_index)`` picks of ``index``, annotated with its GT."""
    import cv2

    from wflwv.io.video import iter_frames

    wanted: Dict[str, List[int]] = {}
    for vid, k in picks:
        wanted.setdefault(vid, []).append(int(k))
    got: Dict[Tuple[str, int], np.ndarray] = {}
    for vid, ks in wanted.items():
        path = index.video_path(vid)
        n = int(index.video_row(vid)["n_frames"])
        bad = [k for k in ks if not 0 <= k < n]
        if bad:
            raise ValueError(f"video {vid!r} of index {index.path} has {n} frames; frame {bad[0]} does not exist")
        lm = index.landmarks(vid) if annotate else None
        boxes = index.boxes(vid) if annotate else None
        todo = set(ks)
        for fr in iter_frames(path, backend=backend):
            if fr.index in todo:
                bgr = cv2.cvtColor(fr.image, cv2.COLOR_RGB2BGR)
                got[(vid, fr.index)] = draw_annotations(bgr, None if lm is None else lm[fr.index],
                                                        None if boxes is None else boxes[fr.index])
                todo.discard(fr.index)
                if not todo:
                    break
        if todo:
            raise ValueError(f"{path}: frames {sorted(todo)} did not decode (video {vid!r})")
    return [got[(vid, int(k))] for vid, k in picks]


def grid(images: Sequence[np.ndarray], cols: int, pad: int = 4) -> np.ndarray:
    """Tile equally sized BGR images into one image, ``cols`` per row, white padding."""
    h = max(im.shape[0] for im in images)
    w = max(im.shape[1] for im in images)
    rows = (len(images) + cols - 1) // cols
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 255, np.uint8)
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y:y + im.shape[0], x:x + im.shape[1]] = im
    return out


def write_png(path, img_bgr: np.ndarray) -> Path:
    """Encode ``img_bgr`` as PNG and write it atomically."""
    import cv2

    from wflwv.io.atomic import atomic_write_bytes

    ok, buf = cv2.imencode(".png", img_bgr)
    if not ok:
        raise RuntimeError(f"OpenCV could not PNG-encode an image of shape {img_bgr.shape} for {path}")
    return atomic_write_bytes(path, buf.tobytes())
