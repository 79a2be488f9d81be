"""One procedural clip: seeded tracks → exact 98-point GT, boxes, and a lazily rendered frame stream.

The GT is computed from the face model alone (no pixels involved), so landmark and box arrays are
byte-identical for a given ``(seed, index)`` whatever the OpenCV build. Frames are rendered on
demand by :meth:`SyntheticClip.frames` so a clip never sits in memory as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterator

import numpy as np

from wflwv.datasets.synthetic.degrade import DegradeSpec, Illumination, Occluder, points_inside
from wflwv.datasets.synthetic.faces import Expression, Identity, Pose, landmarks3d, project
from wflwv.datasets.synthetic.motion import clip_tracks, smooth_track

_EXPR = ("mouth", "smile", "blink_r", "blink_l", "brow", "gaze_x", "gaze_y")


@dataclass(frozen=True)
class ClipSpec:
    """What to generate: seed and position, difficulty in [0, 1], length, rate and frame size."""

    seed: int
    index: int
    difficulty: float
    n_frames: int = 60
    fps: float = 25.0
    width: int = 480
    height: int = 360


def tight_box(lm: np.ndarray) -> np.ndarray:
    """[T, 4] x1 y1 x2 y2 extent of landmarks [T, N, 2]."""
    return np.concatenate([lm.min(axis=1), lm.max(axis=1)], axis=1)


def tracker_boxes(lm: np.ndarray, rng: np.random.Generator, times: np.ndarray, jitter: float,
                  width: int, height: int) -> np.ndarray:
    """Face boxes like a tracker's: landmark extent + 8 % margin, smooth jitter, integer, in frame."""
    b = tight_box(lm)
    w = (b[:, 2] - b[:, 0])[:, None]
    h = (b[:, 3] - b[:, 1])[:, None]
    wob = np.stack([smooth_track(rng, times, jitter, 0.2, 1.5) for _ in range(4)], axis=1)
    box = b + np.concatenate([-w, -h, w, h], axis=1) * (0.08 + wob)
    box = np.round(box)
    box[:, [0, 2]] = np.clip(box[:, [0, 2]], 0, width - 1)
    box[:, [1, 3]] = np.clip(box[:, [1, 3]], 0, height - 1)
    return box


@dataclass
class SyntheticClip:
    """A generated clip: GT ``landmarks`` [T, 98, 2] (0-based px), ``boxes`` [T, 4], frame renderer."""

    spec: ClipSpec
    landmarks: np.ndarray
    boxes: np.ndarray
    occluded: np.ndarray
    record: Dict[str, Any] = field(default_factory=dict)
    _state: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def times(self) -> np.ndarray:
        """Presentation times [T] in seconds."""
        return np.arange(self.spec.n_frames) / float(self.spec.fps)

    def frames(self) -> Iterator[np.ndarray]:
        """Render the clip's BGR uint8 frames [H, W, 3] in order (deterministic)."""
        from wflwv.datasets.synthetic import degrade as dg
        from wflwv.datasets.synthetic.draw import draw_person, fill

        st, sp = self._state, self.spec
        sensor = dg.Sensor(st["degrade"].noise_sigma, sp.width, sp.height,
                           np.random.default_rng(st["noise_seed"]))
        illum = Illumination(st["degrade"], sp.width, sp.height, sp.n_frames)
        occ = st["occluder"]
        lm = self.landmarks
        centre = lm.mean(axis=1)
        vel = np.gradient(centre, axis=0) if len(centre) > 1 else np.zeros_like(centre)
        ds: DegradeSpec = st["degrade"]
        for i in range(sp.n_frames):
            img = st["background"].frame(st["pan_x"][i], st["pan_y"][i])
            draw_person(img, st["identity"], st["expr"][i], st["pose"][i], lm[i], st["light"][i],
                        st["skin_tex"])
            poly = occ.polygon(i, centre[i], st["pose"][i].s)
            if poly is not None:
                fill(img, [poly], ds.occ_colour)
            img = dg.defocus(img, ds.defocus_sigma)
            img = dg.motion_blur(img, vel[i], ds.exposure)
            img = sensor(img, illum.gain(i))
            yield dg.jpeg(img, ds.jpeg_quality)


def make_clip(spec: ClipSpec) -> SyntheticClip:
    """Generate the tracks, GT and boxes of clip ``spec`` (frames are rendered lazily)."""
    from wflwv.datasets.synthetic.scene import Background, skin_texture

    ss = np.random.SeedSequence([int(spec.seed), int(spec.index), 20240401])
    r_id, r_mot, r_deg, r_scene, r_noise, r_box = (np.random.default_rng(s) for s in ss.spawn(6))
    T, W, H, d = spec.n_frames, spec.width, spec.height, float(spec.difficulty)
    idt = Identity.sample(r_id)
    face_px = H * (0.40 - 0.13 * d) * r_id.uniform(0.9, 1.05)
    tr = clip_tracks(r_mot, T, spec.fps, W, H, face_px, d)
    poses = [Pose(yaw=tr["yaw"][i], pitch=tr["pitch"][i], roll=tr["roll"][i], s=tr["s"][i],
                  cx=tr["cx"][i], cy=tr["cy"][i]) for i in range(T)]
    exprs = [Expression(**{k: float(tr[k][i]) for k in _EXPR}) for i in range(T)]
    lm = np.stack([project(landmarks3d(idt, e), p) for e, p in zip(exprs, poses)])
    if not np.isfinite(lm).all() or lm[..., 0].min() < 0 or lm[..., 1].min() < 0 \
            or lm[..., 0].max() > W - 1 or lm[..., 1].max() > H - 1:
        raise RuntimeError(f"synthetic clip {spec}: landmarks left the {W}x{H} frame; this is a "
                           "generator bug (report it with the seed and index)")
    boxes = tracker_boxes(lm, r_box, tr["time_s"], 0.01 + 0.03 * d, W, H)
    ds = DegradeSpec.from_difficulty(d, r_deg)
    occ = Occluder(ds, T, r_deg)
    occluded = np.stack([points_inside(occ.polygon(i, lm[i].mean(0), poses[i].s), lm[i])
                         for i in range(T)])
    light_dir = r_scene.uniform(0, 2 * np.pi)
    light = np.stack([np.cos(light_dir + 0.5 * smooth_track(r_scene, tr["time_s"], 1.0, 0.05, 0.3)),
                      np.sin(light_dir + 0.5 * smooth_track(r_scene, tr["time_s"], 1.0, 0.05, 0.3))],
                     1) * (0.12 + 0.2 * d)
    bg = Background(r_scene, W, H)
    pan_amp = 0.5 * min(bg.mx, bg.my) * (0.3 + 0.7 * d)
    state = {
        "identity": idt, "pose": poses, "expr": exprs, "degrade": ds, "occluder": occ,
        "background": bg, "skin_tex": skin_texture(r_scene), "light": light,
        "pan_x": smooth_track(r_scene, tr["time_s"], pan_amp, 0.05, 0.5),
        "pan_y": smooth_track(r_scene, tr["time_s"], 0.5 * pan_amp, 0.05, 0.5),
        "noise_seed": r_noise.integers(0, 2 ** 63),
    }
    record = {"index": spec.index, "difficulty": round(d, 6), "n_frames": T, "fps": spec.fps,
              "width": W, "height": H, "face_px": round(float(face_px), 3),
              "identity": idt.as_dict(), "degrade": ds.as_dict(),
              "occluded_frames": int(occluded.any(axis=1).sum())}
    return SyntheticClip(spec, lm.astype(np.float64), boxes, occluded, record, state)
