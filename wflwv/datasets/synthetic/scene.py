"""Seeded textures: a moving, cluttered background and a skin texture that moves with the face."""

from __future__ import annotations

import cv2
import numpy as np


def noise_field(rng: np.random.Generator, h: int, w: int, octaves=(4, 16, 64)) -> np.ndarray:
    """Multi-octave smooth noise [h, w] float32 in roughly [-1, 1]."""
    out = np.zeros((h, w), np.float32)
    amp = 1.0
    for o in octaves:
        gh, gw = max(2, h // o + 2), max(2, w // o + 2)
        g = rng.standard_normal((gh, gw)).astype(np.float32)
        out += amp * cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC)
        amp *= 0.5
    return out / (np.abs(out).max() + 1e-6)


class Background:
    """A textured room-like backdrop larger than the frame that pans smoothly over time."""

    def __init__(self, rng: np.random.Generator, width: int, height: int, margin: float = 0.15):
        self.w, self.h = width, height
        self.mx, self.my = int(width * margin), int(height * margin)
        H, W = height + 2 * self.my, width + 2 * self.mx
        base = rng.uniform(60, 200, 3)
        tint = rng.uniform(-40, 40, 3)
        n = noise_field(rng, H, W)
        img = base[None, None, :] + n[..., None] * tint[None, None, :] * 1.2
        # furniture-like blocks and a few stripes: straight edges with texture of their own
        for _ in range(int(rng.integers(4, 9))):
            x0, y0 = int(rng.integers(0, W)), int(rng.integers(0, H))
            bw, bh = int(rng.integers(W // 12, W // 3)), int(rng.integers(H // 12, H // 2))
            col = rng.uniform(30, 230, 3)
            img[y0:y0 + bh, x0:x0 + bw] = 0.6 * col + 0.4 * img[y0:y0 + bh, x0:x0 + bw]
        for _ in range(int(rng.integers(1, 4))):
            y = int(rng.integers(0, H))
            img[y:y + int(rng.integers(2, 8)), :] *= rng.uniform(0.5, 0.8)
        img += 10.0 * noise_field(rng, H, W, (2, 4))[..., None]
        self.tex = np.clip(img, 0, 255).astype(np.uint8)
        self.tex = cv2.GaussianBlur(self.tex, (0, 0), 0.8)

    def frame(self, dx: float, dy: float) -> np.ndarray:
        """The [h, w, 3] view shifted by (dx, dy) pixels (sub-pixel, clamped to the margin)."""
        dx = float(np.clip(dx, -self.mx + 1, self.mx - 1))
        dy = float(np.clip(dy, -self.my + 1, self.my - 1))
        M = np.array([[1.0, 0.0, -(self.mx + dx)], [0.0, 1.0, -(self.my + dy)]])
        return cv2.warpAffine(self.tex, M, (self.w, self.h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT)


def skin_texture(rng: np.random.Generator, size: int = 96, strength: float = 0.06) -> np.ndarray:
    """Low-contrast skin texture (float32 around 0) in canonical face space."""
    return (strength * noise_field(rng, size, size, (3, 8, 24))).astype(np.float32)
