"""Smooth, seeded head motion and expression tracks for one clip.

Every track is a sum of a few random low-frequency sinusoids (smooth by construction, bounded by
its amplitude) or, for blinks and quick head turns/nods, raised-cosine events at random times.
``difficulty`` in [0, 1] scales amplitudes (pose range) more than speed.

Calibration (talking-head footage such as WFLW-V moves slowly): translations are in face widths
and the sinusoid band stays below ~0.6 Hz, so the median per-frame landmark motion is ~0.5–2 % of
the inter-ocular distance (IOD) on easy clips and ~1.5–5 % on hard ones. Hard clips also get
occasional "bursts" (a quick yaw turn or nod that returns, 0.5–1 s long) that peak near
10–15 % IOD per frame. ``tests/test_synthetic_motion.py`` pins these ranges on the demo preset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict

import numpy as np


def smooth_track(rng: np.random.Generator, t: np.ndarray, amplitude: float, f_lo: float, f_hi: float,
                 k: int = 3) -> np.ndarray:
    """A smooth zero-centred signal over times ``t`` (s) with ``max |x| <= amplitude``."""
    f = rng.uniform(f_lo, f_hi, k)
    ph = rng.uniform(0, 2 * np.pi, k)
    w = rng.uniform(0.4, 1.0, k)
    x = (w[None, :] * np.sin(2 * np.pi * f[None, :] * t[:, None] + ph[None, :])).sum(1)
    return amplitude * x / w.sum()


def blink_track(rng: np.random.Generator, t: np.ndarray, rate_hz: float, dur_s: float) -> np.ndarray:
    """Eye closure in [0, 1]: raised-cosine blinks at Poisson times with mean ``rate_hz``."""
    out = np.zeros_like(t)
    if len(t) == 0:
        return out
    span = t[-1] + dur_s
    n = rng.poisson(rate_hz * span) + (1 if rate_hz > 0 else 0)
    for c in rng.uniform(-dur_s / 2, span, n):
        d = dur_s * rng.uniform(0.8, 1.3)
        u = (t - c) / d
        inside = np.abs(u) < 0.5
        out[inside] = np.maximum(out[inside], 0.5 * (1 + np.cos(2 * np.pi * u[inside])))
    return out


def burst_track(rng: np.random.Generator, t: np.ndarray, rate_hz: float, amplitude: float,
                dur_lo: float = 0.4, dur_hi: float = 0.8) -> np.ndarray:
    """Quick there-and-back excursions (head turn / nod) at Poisson times, ``|x| <= amplitude``.

    Each burst is a signed raised-cosine pulse of 0.5–1 s; overlapping pulses are combined through
    ``tanh`` so the track stays smooth and bounded. Always draws the same number of random values
    for a given count, so determinism only depends on the seed.
    """
    out = np.zeros_like(t)
    if len(t) == 0 or rate_hz <= 0 or amplitude <= 0:
        return out
    span = t[-1] + dur_hi
    n = rng.poisson(rate_hz * span)
    for _ in range(n):
        c = rng.uniform(-dur_hi / 2, span)
        d = rng.uniform(dur_lo, dur_hi)
        a = rng.uniform(0.6, 1.0) * (1.0 if rng.uniform() < 0.5 else -1.0)
        u = (t - c) / d
        inside = np.abs(u) < 0.5
        out[inside] += a * 0.5 * (1 + np.cos(2 * np.pi * u[inside]))
    return amplitude * np.tanh(out)


@dataclass(frozen=True)
class MotionSpec:
    """Amplitudes (translation in face widths, zoom fraction, angles in radians) and bands (Hz)."""

    trans: float
    zoom: float
    roll: float
    yaw: float
    pitch: float
    f_hi: float
    talk: float
    blink_rate: float
    burst_rate: float
    burst_yaw: float
    burst_pitch: float
    burst_trans: float

    @classmethod
    def from_difficulty(cls, d: float) -> "MotionSpec":
        """Linear ramps from calm (d=0) to lively (d=1): wider pose ranges, moderately faster."""
        d = float(np.clip(d, 0.0, 1.0))
        return cls(trans=0.15 + 0.25 * d, zoom=0.03 + 0.07 * d, roll=np.radians(3 + 15 * d),
                   yaw=np.radians(10 + 28 * d), pitch=np.radians(4 + 8 * d), f_hi=0.4 + 0.15 * d,
                   talk=0.25 + 0.65 * d, blink_rate=0.25 + 0.35 * d,
                   burst_rate=0.1 + 0.5 * d, burst_yaw=np.radians(8 + 20 * d),
                   burst_pitch=np.radians(3 + 6 * d), burst_trans=0.05 + 0.15 * d)


def clip_tracks(rng: np.random.Generator, n_frames: int, fps: float, width: int, height: int,
                face_px: float, difficulty: float) -> Dict[str, np.ndarray]:
    """Per-frame pose and expression tracks ([T] float64 each) for one clip.

    ``face_px`` is the nominal face width in pixels; translations are bounded so that the face
    (at the largest zoom and any roll) stays inside the frame.
    """
    spec = MotionSpec.from_difficulty(difficulty)
    t = np.arange(n_frames, dtype=np.float64) / fps
    lo, hi = 0.1, spec.f_hi
    zoom = 1.0 + smooth_track(rng, t, spec.zoom, lo, hi)
    s = face_px * zoom
    # face extent about its centre: ~[-0.65, +0.75] s horizontally (roll/yaw) and [-0.72, 0.75] s
    # vertically; keep a 4% margin to the frame edges at the largest scale
    reach_x, reach_y = 0.78 * s.max(), 0.80 * s.max()
    room_x = max(0.0, width / 2 - reach_x - 0.04 * width)
    room_y = max(0.0, height / 2 - reach_y - 0.04 * height)
    ax = min(spec.trans * face_px, room_x)
    ay = min(0.6 * spec.trans * face_px, room_y)
    bx = min(spec.burst_trans * face_px, room_x - ax)
    cx = width / 2 + rng.uniform(-0.3, 0.3) * (room_x - ax - bx) + smooth_track(rng, t, ax, lo, hi)
    cy = height / 2 + 0.03 * height + smooth_track(rng, t, ay, lo, hi)
    cy = np.clip(cy, reach_y + 2, height - reach_y - 2) if room_y > 0 else np.full_like(t, height / 2)
    yaw0 = rng.uniform(-0.4, 0.4) * spec.yaw
    roll0 = rng.uniform(-0.3, 0.3) * spec.roll
    yaw_room = max(0.0, spec.yaw - abs(yaw0) - spec.burst_yaw)
    tracks = {
        "time_s": t,
        "s": s,
        "cx": cx,
        "cy": cy,
        "yaw": yaw0 + smooth_track(rng, t, yaw_room, lo, hi),
        "pitch": smooth_track(rng, t, spec.pitch, lo, hi),
        "roll": roll0 + smooth_track(rng, t, spec.roll - abs(roll0), lo, hi),
        "mouth": np.clip(smooth_track(rng, t, 1.0, 0.8, 2.0 + 1.0 * difficulty, 4) * 1.6 * spec.talk
                         - 0.15, 0.0, 1.0),
        "smile": np.clip(0.3 + smooth_track(rng, t, 0.6, 0.05, 0.3), -0.2, 1.0),
        "brow": smooth_track(rng, t, 0.8, 0.1, 0.6),
        "gaze_x": smooth_track(rng, t, 0.8, 0.1, 0.8),
        "gaze_y": smooth_track(rng, t, 0.5, 0.1, 0.8),
    }
    blink = blink_track(rng, t, spec.blink_rate, 0.22)
    tracks["blink_r"] = blink
    tracks["blink_l"] = np.clip(blink + 0.05 * smooth_track(rng, t, 1.0, 0.5, 1.5), 0.0, 1.0)
    # quick turns and nods (hard clips): drawn last so the calm tracks above keep their streams
    tracks["yaw"] = tracks["yaw"] + burst_track(rng, t, spec.burst_rate, spec.burst_yaw)
    tracks["pitch"] = tracks["pitch"] + burst_track(rng, t, 0.5 * spec.burst_rate, spec.burst_pitch)
    tracks["cx"] = tracks["cx"] + burst_track(rng, t, 0.5 * spec.burst_rate, bx)
    return tracks
