"""Crop protocols: how a face box becomes the detector's S×S input, with an exact inverse.

Every protocol maps frame pixels to crop pixels by an axis-aligned affine map ``A`` (2×3,
float64, ``p_crop = A[:, :2] @ p_frame + A[:, 2]``), so predictions in crop pixels return to frame
pixels with :func:`to_frame`. Protocols (box = ``x1 y1 x2 y2`` in frame pixels):

* ``ldeq_square1.2`` — LDEQ (``docs/detectors.md`` (LDEQ)): integer-rounded box, integer centre, square side
  ``1.2·max(x2−x1, y2−y1)``, bilinear ``warpAffine`` to 256, black border.
* ``pipnet_shift0.1`` — PIP-Net demo protocol (``docs/detectors.md`` (PIP-Net)): box widened to 1.2× and shifted
  down by 0.1·h, clipped, cut by integer slicing (exclusive end, kept for parity), resized to 256.
* ``sbr_pad0.2`` — SBR (``docs/detectors.md`` (SBR)): 0.2·w / 0.2·h on each side, floor/ceil, clipped to the image,
  non-square resize to 256 (aspect ratio not preserved).
* ``qlot_pad0.10`` — QLOT (docs/qlot.md): the box is the tight box of the landmarks to centre on
  (GT, or the previous prediction when self-tracking); rounded, padded by ``int(0.10·max side)``,
  squared (even side), replicate-padded where it leaves the frame, Lanczos-4 resize to 224.

Pure numpy + OpenCV: no torch here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, Tuple

import numpy as np


@dataclass(frozen=True)
class CropProtocol:
    """A named crop rule; ``size`` is the side of the square network input in pixels."""

    id: str
    size: int = 256
    summary: str = ""


LDEQ_SQUARE = CropProtocol("ldeq_square1.2", 256, "square 1.2x box, integer centre, warpAffine")
PIPNET_SHIFT = CropProtocol("pipnet_shift0.1", 256, "1.2x box shifted down 0.1h, slice + resize")
SBR_PAD = CropProtocol("sbr_pad0.2", 256, "0.2 per side, clipped, non-square resize")
QLOT_PAD = CropProtocol("qlot_pad0.10", 224, "landmark box + 0.10, square, replicate pad, Lanczos-4")


def _ldeq_matrix(box: np.ndarray, frame_hw: Tuple[int, int], size: int) -> Tuple[np.ndarray, None]:
    # docs/detectors.md (LDEQ crop): int() truncates toward zero after +0.5 (as astype(int32));
    # the centre uses w = x2-x1+1, the side uses x2-x1; the matrix comes from
    # cv2.getAffineTransform on three float32 point pairs (exact to the reference, not 256/S).
    import cv2

    x1, y1, x2, y2 = (int(v + 0.5) for v in box[:4])
    w, h = x2 - x1 + 1, y2 - y1 + 1
    cx, cy = x1 + w // 2, y1 + h // 2
    side = 1.2 * max(x2 - x1, y2 - y1)
    f32 = np.float32
    c1 = f32(cy - side / 2.0)
    t3x = f32(f32(cx) - f32(f32(cy) - c1))
    half = size / 2.0
    src = np.array([[cx, cy], [cx, c1], [t3x, c1]], dtype=np.float32)
    dst = np.array([[half, half], [half, 0.0], [0.0, 0.0]], dtype=np.float32)
    A = cv2.getAffineTransform(src, dst).astype(np.float64)
    return A, None


def _pipnet_matrix(box: np.ndarray, frame_hw: Tuple[int, int], size: int):
    H, W = frame_hw
    xmin, ymin = int(round(box[0])), int(round(box[1]))
    w, h = int(round(box[2] - box[0])), int(round(box[3] - box[1]))
    xmax, ymax = xmin + w - 1, ymin + h - 1
    # official demo: int(w * (det_box_scale - 1) / 2) with (1.2 - 1) = 0.19999999999999996 in
    # float64, so w = 500 gives 49, not int(0.1 * 500) = 50 (parity/pipnet README §3)
    dx, dy = int(w * (1.2 - 1) / 2), int(h * (1.2 - 1) / 2)
    xmin, xmax, ymin, ymax = xmin - dx, xmax + dx, ymin + dy, ymax + dy
    xmin, ymin = max(xmin, 0), max(ymin, 0)
    xmax, ymax = min(xmax, W - 1), min(ymax, H - 1)
    wp, hp = xmax - xmin + 1, ymax - ymin + 1
    if wp < 2 or hp < 2:  # the exclusive-end slice would be empty
        raise ValueError(f"face box {box[:4].tolist()} leaves no PIP-Net crop inside the {W}x{H} "
                         f"frame: check that the box is in frame pixels (x1 y1 x2 y2)")
    A = np.array([[size / wp, 0.0, -xmin * size / wp], [0.0, size / hp, -ymin * size / hp]])
    return A, (ymin, ymax, xmin, xmax)  # slice rows ymin:ymax, cols xmin:xmax (exclusive end)


def _sbr_matrix(box: np.ndarray, frame_hw: Tuple[int, int], size: int):
    H, W = frame_hw
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    ew, eh = 0.2 * (x2 - x1), 0.2 * (y2 - y1)
    cx1, cy1 = int(max(math.floor(x1 - ew), 0)), int(max(math.floor(y1 - eh), 0))
    cx2, cy2 = int(min(math.ceil(x2 + ew), W)), int(min(math.ceil(y2 + eh), H))
    cw, ch = cx2 - cx1, cy2 - cy1
    if cw < 1 or ch < 1:
        raise ValueError(f"face box {box[:4].tolist()} leaves no SBR crop inside the {W}x{H} frame: "
                         f"check that the box is in frame pixels (x1 y1 x2 y2)")
    A = np.array([[size / cw, 0.0, -cx1 * size / cw], [0.0, size / ch, -cy1 * size / ch]])
    return A, (cy1, cy2, cx1, cx2)


def _qlot_matrix(box: np.ndarray, frame_hw: Tuple[int, int], size: int, ratio: float = 0.10):
    # QLOT test crop: integer-rounded landmark box, pad int(ratio·max side) on every side, square
    # side s = max side (+1 if odd), integer centre floor((a+b)/2), window centre ± s/2 (may leave
    # the frame: the caller replicate-pads); labels scale by size/s without a half-pixel shift.
    x0, y0, x1, y1 = (int(v) for v in np.round(np.asarray(box[:4], dtype=np.float64)))
    p = int(max(x1 - x0, y1 - y0) * ratio)
    x0, y0, x1, y1 = x0 - p, y0 - p, x1 + p, y1 + p
    s = max(x1 - x0, y1 - y0)
    s += s % 2
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    wx0, wy0 = cx - s // 2, cy - s // 2
    k = size / s
    A = np.array([[k, 0.0, -wx0 * k], [0.0, k, -wy0 * k]])
    return A, (wy0, wy0 + s, wx0, wx0 + s)


def qlot_cut(frame: np.ndarray, box, size: int = 224, ratio: float = 0.10) -> Tuple[np.ndarray, np.ndarray]:
    """QLOT crop of ``frame`` around ``box`` (the landmarks' tight box): ``(crop, A)``.

    The square window is replicate-padded where it leaves the frame and resized with Lanczos-4.
    """
    import cv2

    box = _check_box(box)
    A, (r0, r1, c0, c1) = _qlot_matrix(box, frame.shape[:2], size, ratio)
    H, W = frame.shape[:2]
    if r1 - r0 > 8 * max(H, W):
        raise ValueError(f"QLOT crop of box {box[:4].tolist()} is {r1 - r0} px wide, over 8x the {W}x{H} frame: "
                         f"check that the box is in frame pixels (x1 y1 x2 y2)")
    top, left = max(0, -r0), max(0, -c0)
    bottom, right = max(0, r1 - H), max(0, c1 - W)
    if top or left or bottom or right:
        frame = cv2.copyMakeBorder(frame, top, bottom, left, right, cv2.BORDER_REPLICATE)
    patch = frame[r0 + top:r1 + top, c0 + left:c1 + left]
    crop = cv2.resize(np.ascontiguousarray(patch), (size, size), interpolation=cv2.INTER_LANCZOS4)
    return crop, A


_MATRIX: Dict[str, Callable] = {
    LDEQ_SQUARE.id: _ldeq_matrix,
    PIPNET_SHIFT.id: _pipnet_matrix,
    SBR_PAD.id: _sbr_matrix,
    QLOT_PAD.id: _qlot_matrix,
}
PROTOCOLS: Dict[str, CropProtocol] = {p.id: p for p in (LDEQ_SQUARE, PIPNET_SHIFT, SBR_PAD, QLOT_PAD)}


def _check_box(box: np.ndarray) -> np.ndarray:
    box = np.asarray(box, dtype=np.float64)
    if box.shape[-1] < 4 or not np.all(np.isfinite(box[:4])):
        raise ValueError(f"face box must hold 4 finite numbers x1 y1 x2 y2, got {box!r}")
    if not (box[2] > box[0] and box[3] > box[1]):
        raise ValueError(f"face box {box[:4].tolist()} is empty: need x2 > x1 and y2 > y1")
    return box


def crop_matrix(protocol: CropProtocol, box, frame_hw: Tuple[int, int]) -> np.ndarray:
    """The 2×3 frame→crop-pixel affine of ``protocol`` for ``box`` in a frame of ``(H, W)``."""
    A, _ = _MATRIX[protocol.id](_check_box(box), frame_hw, protocol.size)
    return A


def cut_crop(frame: np.ndarray, protocol: CropProtocol, box) -> Tuple[np.ndarray, np.ndarray]:
    """Cut the ``size×size`` crop of ``frame`` (H×W×3 uint8) for ``box``; returns ``(crop, A)``."""
    import cv2

    if protocol.id == QLOT_PAD.id:
        return qlot_cut(frame, box, protocol.size)
    box = _check_box(box)
    A, window = _MATRIX[protocol.id](box, frame.shape[:2], protocol.size)
    S = protocol.size
    if window is None:
        crop = cv2.warpAffine(frame, A, (S, S), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    else:
        r0, r1, c0, c1 = window
        patch = frame[r0:r1, c0:c1]
        if patch.size == 0:
            raise ValueError(f"face box {box[:4].tolist()} lies outside the {frame.shape[1]}x"
                             f"{frame.shape[0]} frame")
        if protocol.id == SBR_PAD.id:  # SBR resizes with PIL (antialiased bilinear), as released
            from PIL import Image

            crop = np.asarray(Image.fromarray(np.ascontiguousarray(patch)).resize((S, S), Image.BILINEAR))
        else:
            crop = cv2.resize(patch, (S, S), interpolation=cv2.INTER_LINEAR)
    return crop, A


def to_frame(points_crop: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Map ``[..., N, 2]`` crop-pixel points back to frame pixels with the inverse of ``A``."""
    A = np.asarray(A, dtype=np.float64)
    M = np.linalg.inv(A[..., :, :2])
    p = np.asarray(points_crop, dtype=np.float64) - A[..., None, :, 2]
    return np.einsum("...ij,...nj->...ni", M, p)


def to_crop(points_frame: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Map ``[..., N, 2]`` frame-pixel points into crop pixels with ``A``."""
    A = np.asarray(A, dtype=np.float64)
    p = np.asarray(points_frame, dtype=np.float64)
    return np.einsum("...ij,...nj->...ni", A[..., :, :2], p) + A[..., None, :, 2]
