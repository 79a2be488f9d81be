"""Per-clip capture degradations: defocus and motion blur, illumination ramps, sensor noise,
JPEG-style compression and a moving partial occluder.

:class:`DegradeSpec` turns a difficulty in [0, 1] into concrete, seeded settings; the functions
apply them to one BGR uint8 frame. All randomness comes from the caller's generator.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Dict, Optional

import cv2
import numpy as np


@dataclass(frozen=True)
class DegradeSpec:
    """Concrete degradation settings of one clip."""

    defocus_sigma: float      # px, Gaussian optics blur
    exposure: float           # fraction of the frame interval the shutter is open (motion blur)
    noise_sigma: float        # grey levels, Gaussian sensor noise
    jpeg_quality: int         # 100 = none; lower = stronger block compression before the codec
    gain0: float              # illumination gain at the first frame
    gain1: float              # ... and at the last frame
    grad: float               # strength of the illumination gradient across the frame
    grad_turn: float          # radians the gradient direction turns over the clip
    occlusion: bool           # a moving occluder crosses the face
    occ_size: float           # occluder half-size in face widths
    occ_start: float          # fraction of the clip where the occluder enters
    occ_end: float            # ... and where it has left
    occ_angle: float          # direction of travel (radians)
    occ_colour: tuple         # BGR

    @classmethod
    def from_difficulty(cls, d: float, rng: np.random.Generator) -> "DegradeSpec":
        """Seeded settings whose strength grows with ``d`` (0 = clean studio, 1 = hard)."""
        d = float(np.clip(d, 0.0, 1.0))
        u = rng.uniform
        ramp = (0.05 + 0.45 * d) * u(0.5, 1.0)
        g_mid = u(0.85, 1.1)
        sign = 1.0 if u() < 0.5 else -1.0
        start = u(0.1, 0.5)
        return cls(
            defocus_sigma=0.5 + 1.3 * d * u(0.3, 1.0),
            exposure=0.15 + 0.75 * d * u(0.4, 1.0),
            noise_sigma=1.0 + 7.0 * d * u(0.5, 1.0),
            jpeg_quality=int(round(96 - 66 * d * u(0.6, 1.0))),
            gain0=g_mid - sign * ramp / 2, gain1=g_mid + sign * ramp / 2,
            grad=(0.05 + 0.45 * d) * u(0.3, 1.0), grad_turn=u(-1.0, 1.0) * (0.3 + 2.0 * d),
            occlusion=bool(u() < 0.15 + 0.85 * d), occ_size=u(0.18, 0.22 + 0.22 * d),
            occ_start=start, occ_end=min(1.0, start + u(0.3, 0.6)), occ_angle=u(0, 2 * np.pi),
            occ_colour=tuple(int(c) for c in rng.uniform(20, 235, 3)),
        )

    def as_dict(self) -> Dict[str, object]:
        """Plain-JSON view for the generator record."""
        return asdict(self)


def motion_blur(img: np.ndarray, velocity: np.ndarray, exposure: float) -> np.ndarray:
    """Blur along ``velocity`` (px/frame) over ``exposure`` of the frame interval (line kernel)."""
    v = np.asarray(velocity, np.float64) * exposure
    length = float(np.hypot(*v))
    if length < 0.75:
        return img
    k = int(np.ceil(length)) | 1
    k = min(k, 31)
    kern = np.zeros((k, k), np.float32)
    c = (k - 1) / 2.0
    direction = v / length
    for a in np.linspace(-0.5, 0.5, 4 * k + 1):
        x, y = c + a * length * direction[0], c + a * length * direction[1]
        xi, yi = int(round(min(max(x, 0), k - 1))), int(round(min(max(y, 0), k - 1)))
        kern[yi, xi] += 1.0
    kern /= kern.sum()
    return cv2.filter2D(img, -1, kern, borderType=cv2.BORDER_REFLECT)


def defocus(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian optics blur of ``sigma`` pixels (no-op below 0.3)."""
    if sigma < 0.3:
        return img
    return cv2.GaussianBlur(img, (0, 0), sigma)


class Illumination:
    """Global gain ramp times a turning linear gradient, precomputed grids for one frame size."""

    def __init__(self, spec: DegradeSpec, width: int, height: int, n_frames: int):
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        self.x = (xx - width / 2) / max(width, height)
        self.y = (yy - height / 2) / max(width, height)
        self.spec, self.n = spec, max(n_frames - 1, 1)
        self.theta0 = float(np.arctan2(0.3, 1.0))

    def gain(self, i: int) -> np.ndarray:
        """Per-pixel gain [H, W] float32 for frame ``i``."""
        u = i / self.n
        g = self.spec.gain0 + (self.spec.gain1 - self.spec.gain0) * (0.5 - 0.5 * np.cos(np.pi * u))
        th = self.theta0 + self.spec.grad_turn * u
        k = g * self.spec.grad
        return cv2.addWeighted(self.x, k * np.cos(th), self.y, k * np.sin(th), g)


class Sensor:
    """Gain then additive Gaussian noise; noise comes from a per-clip bank sampled at random
    offsets each frame (statistically i.i.d. between frames, ~10x cheaper than fresh normals)."""

    PAD = 64

    def __init__(self, sigma: float, width: int, height: int, rng: np.random.Generator):
        self.sigma, self.w, self.h, self.rng = float(sigma), width, height, rng
        self.bank = rng.standard_normal((height + self.PAD, width + self.PAD, 3), dtype=np.float32)

    def __call__(self, img: np.ndarray, gain: np.ndarray) -> np.ndarray:
        """``img`` (uint8 BGR) times ``gain`` [H, W] plus noise, rounded back to uint8."""
        f = cv2.multiply(img, cv2.merge([gain, gain, gain]), dtype=cv2.CV_32F)
        if self.sigma > 0:
            ox, oy = (int(v) for v in self.rng.integers(0, self.PAD, 2))
            f = cv2.scaleAdd(np.ascontiguousarray(self.bank[oy:oy + self.h, ox:ox + self.w]),
                             self.sigma, f)
        f += 0.5
        np.clip(f, 0, 255, out=f)
        return f.astype(np.uint8)


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """JPEG round-trip at ``quality`` (skipped at >= 100): block and ringing artefacts."""
    if quality >= 100:
        return img
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError(f"OpenCV could not JPEG-encode a {img.shape} frame at quality {quality}")
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


class Occluder:
    """A rounded bar that sweeps across the face between two fractions of the clip."""

    def __init__(self, spec: DegradeSpec, n_frames: int, rng: np.random.Generator):
        self.spec, self.n = spec, max(n_frames - 1, 1)
        self.aspect = rng.uniform(1.5, 3.5)
        self.tilt = rng.uniform(0, np.pi)

    def polygon(self, i: int, centre: np.ndarray, face_px: float) -> Optional[np.ndarray]:
        """Occluder outline [K, 2] in pixels for frame ``i`` (None when off-screen for the face)."""
        sp = self.spec
        if not sp.occlusion:
            return None
        u = i / self.n
        if not sp.occ_start <= u <= sp.occ_end:
            return None
        v = (u - sp.occ_start) / max(sp.occ_end - sp.occ_start, 1e-6)
        d = (2.2 * v - 1.1) * face_px
        c = np.asarray(centre, np.float64) + d * np.array([np.cos(sp.occ_angle), np.sin(sp.occ_angle)])
        a = np.linspace(0, 2 * np.pi, 28, endpoint=False)
        r = sp.occ_size * face_px
        pts = np.stack([self.aspect * r * np.cos(a), r * np.sin(a)], 1)
        ct, st = np.cos(self.tilt), np.sin(self.tilt)
        return pts @ np.array([[ct, st], [-st, ct]]) + c


def points_inside(poly: Optional[np.ndarray], pts: np.ndarray) -> np.ndarray:
    """Boolean [N]: which points lie inside ``poly`` (all False when ``poly`` is None)."""
    if poly is None:
        return np.zeros(len(pts), bool)
    c = poly.astype(np.float32).reshape(-1, 1, 2)
    return np.array([cv2.pointPolygonTest(c, (float(x), float(y)), False) >= 0 for x, y in pts])
