"""Vectorised per-video checks: landmark bounds, box sanity, box-vs-landmark statistics."""

from __future__ import annotations

from typing import Dict

import numpy as np


def outside_distance(lmk0: np.ndarray, width: int, height: int) -> np.ndarray:
    """Per frame, the largest distance (px) any landmark lies outside ``[0, W] × [0, H]`` ([T])."""
    x, y = lmk0[..., 0], lmk0[..., 1]
    dx = np.maximum(np.maximum(-x, x - width), 0.0)
    dy = np.maximum(np.maximum(-y, y - height), 0.0)
    return np.max(np.maximum(dx, dy), axis=-1)


def face_size(lmk: np.ndarray) -> float:
    """Robust face size of a video (px): median over frames of the larger 5–95 % landmark extent.

    Percentiles and the median ignore a few wild points, so one landmark at x = -1e6 does not
    inflate the margin it is checked against (docs/verification.md).
    """
    lm = np.asarray(lmk, np.float64)
    lm = lm[np.isfinite(lm).all(axis=(1, 2))]
    if not len(lm):
        return float("nan")
    lo, hi = np.percentile(lm, 5, axis=1), np.percentile(lm, 95, axis=1)
    return float(np.median(np.max(hi - lo, axis=1)))


def bad_boxes(bbox: np.ndarray, width: int, height: int) -> np.ndarray:
    """Boolean [T]: box non-finite, ``x2 <= x1`` / ``y2 <= y1``, or entirely outside the frame."""
    b = np.asarray(bbox, np.float64)
    finite = np.isfinite(b).all(axis=1)
    with np.errstate(invalid="ignore"):
        ordered = (b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])
        overlaps = (b[:, 2] > 0) & (b[:, 3] > 0) & (b[:, 0] < width) & (b[:, 1] < height)
    return ~(finite & ordered & overlaps)


def box_vs_landmarks(bbox: np.ndarray, lmk: np.ndarray) -> Dict[str, np.ndarray]:
    """Per-frame IoU with the landmark box, fraction of landmarks inside, side / landmark side.

    These tell users whether the boxes were derived from the landmarks (docs/datasets.md §1.5).
    """
    b = np.asarray(bbox, np.float64)
    lo, hi = lmk.min(axis=1), lmk.max(axis=1)
    ix = np.clip(np.minimum(b[:, 2], hi[:, 0]) - np.maximum(b[:, 0], lo[:, 0]), 0, None)
    iy = np.clip(np.minimum(b[:, 3], hi[:, 1]) - np.maximum(b[:, 1], lo[:, 1]), 0, None)
    inter = ix * iy
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    area_l = (hi[:, 0] - lo[:, 0]) * (hi[:, 1] - lo[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = inter / (area_b + area_l - inter)
        inside = ((lmk[..., 0] >= b[:, None, 0]) & (lmk[..., 0] <= b[:, None, 2])
                  & (lmk[..., 1] >= b[:, None, 1]) & (lmk[..., 1] <= b[:, None, 3])).mean(axis=1)
        side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        ratio = side / np.maximum(hi[:, 0] - lo[:, 0], hi[:, 1] - lo[:, 1])
    return {"bbox_iou_lmk": iou.astype(np.float32), "bbox_lmk_inside": inside.astype(np.float32),
            "bbox_side_ratio": ratio.astype(np.float32)}
