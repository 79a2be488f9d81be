"""Procedural 98-point (WFLW order) face model: identity, expression, pose, projection.

Canonical face space: x right, y down, the face is about 1 unit wide (jaw half-width ``a`` ~ 0.5)
and its centre sits near the nose bridge; ``z`` points towards the camera. A pose is a weak
perspective camera: yaw about the vertical axis (the "yaw-like squash"), pitch, in-plane roll,
scale ``s`` (pixels per face unit) and a translation to frame pixels (0-based, pixel centres at
integer coordinates, as in :meth:`wflwv.datasets.index.Index.landmarks`).

WFLW-98 order used here (0-based): contour 0-32 (image left to right over the chin), brows
33-41 / 42-50, nose bridge 51-54, nostrils 55-59, eyes 60-67 / 68-75 (outer corners 60, 72),
outer lip 76-87, inner lip 88-95, pupils 96, 97. Drawing lives in :mod:`.draw`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Dict

import numpy as np

N_POINTS = 98
CONTOUR = np.arange(0, 33)
BROW_R, BROW_L = np.arange(33, 42), np.arange(42, 51)
NOSE_BRIDGE, NOSTRILS = np.arange(51, 55), np.arange(55, 60)
EYE_R, EYE_L = np.arange(60, 68), np.arange(68, 76)
LIP_OUT, LIP_IN = np.arange(76, 88), np.arange(88, 96)
PUPIL_R, PUPIL_L = 96, 97

# Mirror of the image-left brow/eye (33..41, 60..67) onto the image-right ones (WFLW permutation).
_BROW_MIRROR = [37, 36, 35, 34, 33, 41, 40, 39, 38]          # source of 42..50
_EYE_MIRROR = [64, 63, 62, 61, 60, 67, 66, 65]              # source of 68..75


@dataclass(frozen=True)
class Identity:
    """Per-clip face shape and colours (BGR uint8 triples)."""

    jaw_a: float
    jaw_b: float
    jaw_p: float
    contour_top: float
    eye_dx: float
    eye_y: float
    eye_w: float
    eye_h: float
    brow_gap: float
    brow_thick: float
    brow_arch: float
    nose_y: float
    nose_w: float
    mouth_y: float
    mouth_w: float
    lip_h: float
    skin: tuple
    hair: tuple
    lip: tuple
    iris: tuple
    clothes: tuple
    hair_style: int

    @classmethod
    def sample(cls, rng: np.random.Generator) -> "Identity":
        """Draw a random but plausible identity from ``rng``."""
        u = rng.uniform
        tone = u(0.25, 1.0)
        skin = _bgr(np.array([120, 150, 200]) * (0.45 + 0.55 * tone) + rng.normal(0, 8, 3))
        hair_level = u(0.1, 0.8)
        hair = _bgr(np.array([40, 55, 75]) * (0.4 + 2.2 * hair_level) + rng.normal(0, 6, 3))
        lip = _bgr(np.array(skin, float) * np.array([0.7, 0.62, 0.95]))
        iris = _bgr(rng.choice([[40, 60, 90], [120, 90, 50], [70, 110, 80], [30, 40, 50]]) + rng.normal(0, 8, 3))
        clothes = _bgr(rng.uniform(30, 220, 3))
        return cls(
            jaw_a=u(0.46, 0.54), jaw_b=u(0.70, 0.80), jaw_p=u(0.55, 0.95), contour_top=u(-0.19, -0.12),
            eye_dx=u(0.20, 0.25), eye_y=u(-0.22, -0.17), eye_w=u(0.095, 0.12), eye_h=u(0.045, 0.065),
            brow_gap=u(0.10, 0.15), brow_thick=u(0.035, 0.06), brow_arch=u(0.02, 0.05),
            nose_y=u(0.12, 0.18), nose_w=u(0.08, 0.11), mouth_y=u(0.34, 0.40), mouth_w=u(0.15, 0.21),
            lip_h=u(0.03, 0.05), skin=skin, hair=hair, lip=lip, iris=iris, clothes=clothes,
            hair_style=int(rng.integers(0, 3)),
        )

    def as_dict(self) -> Dict[str, object]:
        """Plain-JSON view (for the release's generator record)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _bgr(v) -> tuple:
    return tuple(int(c) for c in np.clip(np.round(np.asarray(v, float)), 0, 255))


@dataclass(frozen=True)
class Expression:
    """Per-frame expression: mouth opening, smile, per-eye closure (0 open .. 1 shut), brow raise, gaze."""

    mouth: float = 0.0
    smile: float = 0.0
    blink_r: float = 0.0
    blink_l: float = 0.0
    brow: float = 0.0
    gaze_x: float = 0.0
    gaze_y: float = 0.0


@dataclass(frozen=True)
class Pose:
    """Weak-perspective pose: angles in radians, ``s`` pixels per face unit, centre in frame pixels."""

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    s: float = 100.0
    cx: float = 0.0
    cy: float = 0.0


def _resample(curve: np.ndarray, n: int) -> np.ndarray:
    """``n`` points equally spaced by arc length along a dense polyline ``curve`` [M, D]."""
    seg = np.linalg.norm(np.diff(curve[:, :2], axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    targets = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(targets, s, curve[:, d]) for d in range(curve.shape[1])], axis=1)


def jaw_drop(idt: Identity, ex: Expression) -> float:
    """Vertical chin displacement (face units) caused by opening the mouth."""
    return 0.11 * float(np.clip(ex.mouth, 0.0, 1.0))


def contour_curve(idt: Identity, ex: Expression, m: int = 241) -> np.ndarray:
    """Dense jaw curve [m, 3] from image-left temple over the chin to image-right temple."""
    u = np.linspace(0.0, 1.0, m)
    sn = np.sin(np.pi * u)
    x = -idt.jaw_a * np.cos(np.pi * u)
    y = idt.contour_top + idt.jaw_b * sn ** idt.jaw_p + jaw_drop(idt, ex) * sn ** 4
    z = -0.34 + 0.30 * sn
    return np.stack([x, y, z], axis=1)


def _side_points(idt: Identity, ex: Expression, blink: float) -> np.ndarray:
    """Brow (9) and eye (8) points of the image-left side, [17, 3], WFLW order 33..41, 60..67."""
    out = np.zeros((17, 3))
    # brow: 33 outer .. 37 inner on top, 38..41 bottom from inner to outer
    outer, inner = -(idt.eye_dx + idt.eye_w + 0.05), -(idt.eye_dx - idt.eye_w - 0.01)
    base = idt.eye_y - idt.eye_h - idt.brow_gap - 0.045 * ex.brow
    t_top = np.linspace(0.0, 1.0, 5)
    xt = outer + t_top * (inner - outer)
    yt = base - idt.brow_arch * np.sin(np.pi * (0.15 + 0.85 * t_top)) + 0.012 * (1 - t_top)
    t_bot = np.array([0.8, 0.6, 0.4, 0.2])
    xb = outer + t_bot * (inner - outer)
    yb = (base - idt.brow_arch * np.sin(np.pi * (0.15 + 0.85 * t_bot)) + 0.012 * (1 - t_bot)
          + idt.brow_thick * (1.0 - 0.35 * np.abs(t_bot - 0.5)))
    out[0:5, 0], out[0:5, 1] = xt, yt
    out[5:9, 0], out[5:9, 1] = xb, yb
    out[0:9, 2] = 0.02 + 0.08 * (1 - np.abs(np.r_[t_top, t_bot] - 0.6))
    # eye: 60 outer, 61-63 upper (outer->inner), 64 inner, 65-67 lower (inner->outer)
    c = float(np.clip(blink, 0.0, 1.0))
    e_out, e_in = -(idt.eye_dx + idt.eye_w), -(idt.eye_dx - idt.eye_w)
    yc = idt.eye_y
    h_lo = 0.62 * idt.eye_h
    t = np.array([0.25, 0.5, 0.75])
    sn = np.sin(np.pi * t)
    up_open = yc - idt.eye_h * sn - 0.006
    up_shut = yc + 0.55 * h_lo * sn
    out[9] = [e_out, yc + 0.004, 0.0]
    out[10:13, 0] = e_out + t * (e_in - e_out)
    out[10:13, 1] = (1 - c) * up_open + c * up_shut
    out[13] = [e_in, yc + 0.006, 0.02]
    tl = t[::-1]
    out[14:17, 0] = e_out + tl * (e_in - e_out)
    out[14:17, 1] = yc + h_lo * np.sin(np.pi * tl) - 0.15 * c * h_lo * np.sin(np.pi * tl)
    out[10:17, 2] = 0.04
    return out


def _mirror(p: np.ndarray) -> np.ndarray:
    q = p.copy()
    q[..., 0] = -q[..., 0]
    return q


def landmarks3d(idt: Identity, ex: Expression) -> np.ndarray:
    """The 98 canonical landmarks [98, 3] (x, y, z in face units) for identity and expression."""
    P = np.zeros((N_POINTS, 3))
    P[CONTOUR] = _resample(contour_curve(idt, ex), 33)
    right = _side_points(idt, ex, ex.blink_r)
    left = _mirror(_side_points(idt, ex, ex.blink_l))
    P[BROW_R], P[EYE_R] = right[:9], right[9:]
    # image-right side: mirrored image-left geometry, reordered by the WFLW mirror permutation
    src_left = np.zeros((N_POINTS, 3))
    src_left[BROW_R], src_left[EYE_R] = left[:9], left[9:]
    P[BROW_L] = src_left[_BROW_MIRROR]
    P[EYE_L] = src_left[_EYE_MIRROR]
    # pupils: eye centres plus gaze (stay inside the eye opening)
    for idx, eye in ((PUPIL_R, EYE_R), (PUPIL_L, EYE_L)):
        ctr = 0.5 * (P[eye[0]] + P[eye[4]])
        P[idx] = ctr + np.array([0.45 * idt.eye_w * ex.gaze_x, 0.25 * idt.eye_h * ex.gaze_y, 0.01])
    # nose
    top, tip = idt.eye_y - 0.02, idt.nose_y - 0.07
    P[NOSE_BRIDGE, 1] = np.linspace(top, tip, 4)
    P[NOSE_BRIDGE, 2] = np.linspace(0.12, 0.40, 4)
    nw = idt.nose_w
    P[NOSTRILS, 0] = np.array([-1.0, -0.5, 0.0, 0.5, 1.0]) * nw
    P[NOSTRILS, 1] = idt.nose_y + np.array([-0.025, 0.0, 0.012, 0.0, -0.025])
    P[NOSTRILS, 2] = np.array([0.16, 0.24, 0.30, 0.24, 0.16])
    # mouth
    o = float(np.clip(ex.mouth, 0.0, 1.0))
    sm = float(ex.smile)
    my, mw, lh = idt.mouth_y, idt.mouth_w * (1 + 0.12 * sm), idt.lip_h
    gap = 0.12 * o
    drop = jaw_drop(idt, ex) * 0.45
    corner_y = my - 0.025 * sm + 0.35 * gap
    xs5 = np.array([-0.62, -0.28, 0.0, 0.28, 0.62])
    P[76] = [-mw, corner_y, 0.10]
    P[82] = [mw, corner_y, 0.10]
    P[77:82, 0] = xs5 * mw
    P[77:82, 1] = my - lh * np.array([0.75, 1.0, 0.82, 1.0, 0.75]) - 0.01 * sm
    P[83:88, 0] = -xs5 * mw
    low_in = my + gap + drop
    P[83:88, 1] = low_in + 1.15 * lh * np.array([0.72, 0.95, 1.0, 0.95, 0.72])
    P[88] = [-0.86 * mw, corner_y, 0.12]
    P[92] = [0.86 * mw, corner_y, 0.12]
    P[89:92, 0] = np.array([-0.45, 0.0, 0.45]) * mw
    P[89:92, 1] = my - 0.004 - 0.1 * gap
    P[93:96, 0] = np.array([0.45, 0.0, -0.45]) * mw
    P[93:96, 1] = my + np.array([0.85, 1.0, 0.85]) * (gap + drop) + 0.002
    P[76:96, 2] = np.where(np.abs(P[76:96, 0]) > 0.7 * mw, 0.12, 0.2)
    return P


def rotation(pose: Pose) -> np.ndarray:
    """3×3 rotation (yaw about y, then pitch about x, then roll in the image plane)."""
    cy_, sy_ = np.cos(pose.yaw), np.sin(pose.yaw)
    cp, sp = np.cos(pose.pitch), np.sin(pose.pitch)
    cr, sr = np.cos(pose.roll), np.sin(pose.roll)
    Ry = np.array([[cy_, 0, sy_], [0, 1, 0], [-sy_, 0, cy_]])
    Rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    Rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return Rz @ Rx @ Ry


def project(points: np.ndarray, pose: Pose) -> np.ndarray:
    """Project canonical points [..., 3] to frame pixels [..., 2] under ``pose`` (float64)."""
    q = np.asarray(points, np.float64) @ rotation(pose).T
    return q[..., :2] * pose.s + np.array([pose.cx, pose.cy])


def plane_affine(pose: Pose, z: float = 0.0) -> np.ndarray:
    """2×3 affine mapping canonical (x, y) at depth ``z`` to frame pixels under ``pose``."""
    R = rotation(pose)
    A = np.zeros((2, 3))
    A[:, :2] = R[:2, :2] * pose.s
    A[:, 2] = R[:2, 2] * z * pose.s + np.array([pose.cx, pose.cy])
    return A
