"""Drawing of the procedural face (and the body around it) into a BGR uint8 frame.

Everything is drawn with anti-aliased, sub-pixel (``shift=4``) OpenCV polygons so that sub-pixel
landmark motion shows up in the pixels. The jaw and brows have soft, untextured edges: a point's
position *along* such an edge is not marked by any image feature, which gives the small per-frame
ambiguity that real per-frame detectors turn into flicker.
"""

from __future__ import annotations

from typing import Optional, Sequence

import cv2
import numpy as np

from wflwv.datasets.synthetic.faces import (BROW_L, BROW_R, CONTOUR, EYE_L, EYE_R, LIP_IN, LIP_OUT,
                                            NOSTRILS, PUPIL_L, PUPIL_R, Expression, Identity, Pose,
                                            contour_curve, plane_affine, project)

_SHIFT = 4
_ONE = 1 << _SHIFT


def _fx(p: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(p, np.float64) * _ONE).astype(np.int32)


def fill(img: np.ndarray, polys: Sequence[np.ndarray], color) -> None:
    """Fill pixel-space polygons (each [K, 2] float) with ``color``, anti-aliased, in place."""
    cv2.fillPoly(img, [_fx(p) for p in polys], tuple(int(c) for c in color), cv2.LINE_AA, _SHIFT)


def line(img: np.ndarray, pts: np.ndarray, color, width: float, closed: bool = False) -> None:
    """Draw an anti-aliased polyline through pixel-space points ``pts`` [K, 2]."""
    th = max(1, int(round(width)))
    cv2.polylines(img, [_fx(pts)], closed, tuple(int(c) for c in color), th, cv2.LINE_AA, _SHIFT)


def _roi(img_shape, pts: np.ndarray, pad: int = 3):
    h, w = img_shape[:2]
    x0 = int(max(0, np.floor(pts[:, 0].min()) - pad))
    y0 = int(max(0, np.floor(pts[:, 1].min()) - pad))
    x1 = int(min(w, np.ceil(pts[:, 0].max()) + pad + 1))
    y1 = int(min(h, np.ceil(pts[:, 1].max()) + pad + 1))
    return x0, y0, x1, y1


def mask_of(shape_hw, polys: Sequence[np.ndarray], offset=(0, 0)) -> np.ndarray:
    """Anti-aliased coverage mask (float32 in [0, 1]) of ``polys`` in an array of ``shape_hw``."""
    m = np.zeros(shape_hw, np.uint8)
    off = np.array(offset, np.float64)
    cv2.fillPoly(m, [_fx(p - off) for p in polys], 255, cv2.LINE_AA, _SHIFT)
    return m.astype(np.float32) * (1.0 / 255.0)


def blend(img: np.ndarray, polys: Sequence[np.ndarray], colour_img_fn, clip: Optional[Sequence] = None) -> None:
    """Blend a per-pixel colour (``colour_img_fn(x0, y0, x1, y1) -> [h, w, 3]``) inside ``polys``.

    With ``clip`` the coverage is intersected with the coverage of the ``clip`` polygons.
    """
    allp = np.concatenate([np.asarray(p, np.float64) for p in polys])
    x0, y0, x1, y1 = _roi(img.shape, allp)
    if x1 <= x0 or y1 <= y0:
        return
    hw = (y1 - y0, x1 - x0)
    m = mask_of(hw, polys, (x0, y0))
    if clip is not None:
        m = np.minimum(m, mask_of(hw, clip, (x0, y0)))
    col = np.asarray(colour_img_fn(x0, y0, x1, y1), np.float32)
    roi = img[y0:y1, x0:x1].astype(np.float32)
    m3 = m[..., None]
    img[y0:y1, x0:x1] = np.clip(roi + m3 * (col - roi) + 0.5, 0, 255).astype(np.uint8)


def _arc(cx, cy, rx, ry, a0, a1, n=24, z=0.0) -> np.ndarray:
    a = np.linspace(a0, a1, n)
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a), np.full(n, z)], axis=1)


def head_outline(idt: Identity, ex: Expression) -> np.ndarray:
    """Canonical [K, 3] outline of the whole head: jaw curve plus a forehead arc over the top."""
    jaw = contour_curve(idt, ex, 97)
    top = idt.contour_top
    fore = _arc(0.0, top, idt.jaw_a, 0.62, 0.0, -np.pi, 33, z=-0.2)[1:-1]
    return np.concatenate([jaw, fore])  # jaw: left->chin->right; arc: right->top->left


def draw_person(img: np.ndarray, idt: Identity, ex: Expression, pose: Pose, lm: np.ndarray,
                light: np.ndarray, skin_tex: Optional[np.ndarray] = None) -> None:
    """Draw body, head and facial features for landmarks ``lm`` [98, 2] (pixels) in place.

    ``light`` is a 2-vector (image-plane direction and strength of the key light); ``skin_tex`` an
    optional canonical texture (float32, around 0) mapped onto the face plane.
    """
    s = pose.s
    P = lambda q: project(q, pose)  # noqa: E731 - local shorthand
    a, top = idt.jaw_a, idt.contour_top
    dark_hair = tuple(int(c * 0.8) for c in idt.hair)
    # clothes and neck
    body = np.array([[-1.6, 1.9, -0.4], [-1.25, 1.05, -0.4], [-0.35, 0.82, -0.3], [0.35, 0.82, -0.3],
                     [1.25, 1.05, -0.4], [1.6, 1.9, -0.4]])
    fill(img, [P(body)], idt.clothes)
    neck = np.array([[-0.27, 0.2, -0.3], [0.27, 0.2, -0.3], [0.31, 1.0, -0.3], [-0.31, 1.0, -0.3]])
    fill(img, [P(neck)], tuple(int(c * 0.78) for c in idt.skin))
    # hair behind the head
    if idt.hair_style == 2:
        back = np.concatenate([_arc(0, top, a + 0.1, 0.74, 0, -np.pi, 25, -0.4),
                               [[-a - 0.13, 0.55, -0.4], [a + 0.13, 0.55, -0.4]]])
        fill(img, [P(back)], dark_hair)
    # ears
    for sx in (-1.0, 1.0):
        ear = _arc(sx * (a + 0.015), -0.02, 0.065, 0.13, 0, 2 * np.pi, 16, -0.3)
        fill(img, [P(ear)], tuple(int(c * 0.9) for c in idt.skin))
    # face skin with a smooth key light and a texture that moves with the face
    outline = P(head_outline(idt, ex))
    A = plane_affine(pose)
    lx, ly = float(light[0]), float(light[1])

    def skin_colour(x0, y0, x1, y1):
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        g = 1.0 + (lx * (xx - pose.cx) + ly * (yy - pose.cy)) / max(s, 1.0)
        if skin_tex is not None:
            th, tw = skin_tex.shape
            # canonical [-1.2, 1.2]^2 -> texture pixels, then onto the frame ROI
            T = np.array([[tw / 2.4, 0, tw / 2.0], [0, th / 2.4, th / 2.0], [0, 0, 1.0]])
            A3 = np.vstack([A, [0, 0, 1.0]])
            M = (np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1.0]]) @ A3 @ np.linalg.inv(T))[:2]
            tex = cv2.warpAffine(skin_tex, M, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REFLECT)
            g = g + tex
        return np.clip(g, 0.3, 1.6)[..., None] * np.array(idt.skin, np.float32)

    blend(img, [outline], skin_colour)
    # hair on top (hairline arc)
    if idt.hair_style in (0, 2):
        outer = _arc(0, top, a + 0.05, 0.70, 0.05, -np.pi - 0.05, 25, -0.1)
        inner = _arc(0, top - 0.02, a - 0.02, 0.45, -np.pi + 0.25, -0.25, 21, 0.0)
        fill(img, [P(np.concatenate([outer, inner]))], idt.hair)
    # brows (soft: drawn then lightly blurred by the camera optics downstream)
    fill(img, [lm[BROW_R], lm[BROW_L]], dark_hair)
    # eyes: sclera, iris clipped to the opening, pupil, upper lid line
    for eye, pupil, blink in ((EYE_R, PUPIL_R, ex.blink_r), (EYE_L, PUPIL_L, ex.blink_l)):
        poly = lm[eye]
        if blink < 0.9:
            fill(img, [poly], (225, 228, 232))
            r = 0.5 * idt.eye_h * s * 1.2
            circ = lm[pupil] + r * np.stack([np.cos(np.linspace(0, 2 * np.pi, 20)),
                                             np.sin(np.linspace(0, 2 * np.pi, 20))], 1)
            iris = np.array(idt.iris, np.float32)
            blend(img, [circ], lambda *b: iris, clip=[poly])
            pup = lm[pupil] + 0.45 * (circ - lm[pupil])
            blend(img, [pup], lambda *b: np.float32([20, 20, 25]), clip=[poly])
        line(img, poly[:5], (35, 30, 30), max(1.0, 0.018 * s))
        line(img, poly[[4, 5, 6, 7, 0]], tuple(int(c * 0.6) for c in idt.skin), max(1.0, 0.008 * s))
    # nose: nostril arc and soft side shadow of the bridge
    nose_dark = tuple(int(c * 0.62) for c in idt.skin)
    line(img, lm[NOSTRILS], nose_dark, max(1.0, 0.012 * s))
    for k in (56, 58):
        c = lm[k] + np.array([0.0, 0.004 * s])
        nost = c + 0.018 * s * np.stack([1.3 * np.cos(np.linspace(0, 2 * np.pi, 12)),
                                          0.7 * np.sin(np.linspace(0, 2 * np.pi, 12))], 1)
        fill(img, [nost], tuple(int(v * 0.45) for v in idt.skin))
    # mouth: lips, dark interior when open, lip line
    fill(img, [lm[LIP_OUT]], idt.lip)
    inner = lm[LIP_IN]
    if np.abs(inner[[5, 6, 7], 1] - inner[[3, 2, 1], 1]).max() > 1.0:
        fill(img, [inner], (35, 25, 45))
    line(img, inner[[0, 1, 2, 3, 4]], tuple(int(c * 0.45) for c in idt.lip), max(1.0, 0.01 * s))
    # a faint jaw shadow along the contour (no marks at the landmark positions themselves)
    line(img, lm[CONTOUR][6:27], tuple(int(c * 0.8) for c in idt.skin), max(1.0, 0.01 * s))
