"""Motion calibration of the synthetic demo preset: per-frame landmark motion in IOD units.

Statistic (per clip): median over frames of the mean over points of ||L[t] - L[t-1]|| / IOD_t, with
IOD = outer eye corners 60/72. Talking-head footage moves slowly; the hard half is harder mainly
through pose, degradations and occlusion, and only moderately faster (with rare bursts).
"""

from __future__ import annotations

import numpy as np
import pytest

from wflwv.datasets.synthetic.builder import FPS_CYCLE, plan_difficulties
from wflwv.datasets.synthetic.generator import ClipSpec, make_clip
from wflwv.datasets.synthetic.presets import resolve


def _motion(lm: np.ndarray) -> np.ndarray:
    iod = np.linalg.norm(lm[:, 60] - lm[:, 72], axis=1)
    return np.linalg.norm(np.diff(lm, axis=0), axis=2).mean(axis=1) / iod[1:]


@pytest.fixture(scope="module")
def demo_motion():
    c = resolve("demo")
    out = {"easy": [], "hard": []}
    for i, p in enumerate(plan_difficulties(int(c["videos"]), int(c["seed"]))):
        clip = make_clip(ClipSpec(seed=int(c["seed"]), index=i, difficulty=p["difficulty"],
                                  n_frames=int(c["frames"]), fps=FPS_CYCLE[i % len(FPS_CYCLE)],
                                  width=int(c["width"]), height=int(c["height"])))
        out[p["subset"]].append(_motion(clip.landmarks))
    return out


def test_demo_easy_clips_move_like_talking_heads(demo_motion):
    med = np.array([np.median(m) for m in demo_motion["easy"]])
    assert len(med) == 10
    assert (med >= 0.004).all() and (med <= 0.02).all(), med
    assert 0.006 <= np.median(med) <= 0.015, med
    # no easy clip ever jumps a tenth of an IOD in one frame
    assert max(m.max() for m in demo_motion["easy"]) < 0.05


def test_demo_hard_clips_are_moderately_faster_with_bursts(demo_motion):
    easy = np.array([np.median(m) for m in demo_motion["easy"]])
    med = np.array([np.median(m) for m in demo_motion["hard"]])
    assert (med >= 0.01).all() and (med <= 0.05).all(), med
    assert 0.015 <= np.median(med) <= 0.045, med
    assert np.median(med) > 1.5 * np.median(easy)
    # occasional fast bursts: some frame of some hard clip moves > 6 % IOD, none > 20 %
    peak = max(m.max() for m in demo_motion["hard"])
    assert 0.06 < peak < 0.20, peak


def test_hard_pose_range_is_wider():
    from wflwv.datasets.synthetic.motion import MotionSpec

    e, h = MotionSpec.from_difficulty(0.2), MotionSpec.from_difficulty(0.8)
    assert h.yaw > e.yaw and h.roll > e.roll and h.burst_rate > e.burst_rate
    # translation amplitude is in face widths and stays a fraction of the face
    assert 0 < e.trans < h.trans < 0.5
