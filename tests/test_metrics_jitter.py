"""GT-free jitter D1/D2 (metrics.md §6): analytic expectations, segments, normalisers, errors."""

from __future__ import annotations

import numpy as np
import pytest

from wflwv.metrics import jitter


def static_face(T, size=1.0, seed=0):
    rng = np.random.default_rng(seed)
    tpl = rng.uniform(-0.5, 0.5, size=(98, 2))
    tpl[[0, 1], 0], tpl[[2, 3], 1] = (-0.5, 0.5), (-0.5, 0.5)
    tpl[60], tpl[72] = (-0.3, -0.1), (0.3, -0.1)
    return np.repeat((100.0 + size * tpl)[None], T, axis=0)


def test_static_noise_expectations_px():
    sigma = 0.8
    p = static_face(3000, 150) + np.random.default_rng(1).normal(0, sigma, size=(3000, 98, 2))
    r = jitter(p, normalizer="px")
    assert r["d1"][0] == pytest.approx(sigma * np.sqrt(np.pi), rel=0.01)
    assert r["d1rms"][0] == pytest.approx(2 * sigma, rel=0.01)
    assert r["d2"][0] == pytest.approx(sigma * np.sqrt(3 * np.pi), rel=0.01)
    assert r["d2rms"][0] == pytest.approx(np.sqrt(12) * sigma, rel=0.01)
    assert r["n_d1"][0] == 2999 and r["n_d2"][0] == 2998


def test_static_noise_face_size_normaliser():
    sigma, S = 0.5, 300.0
    p = static_face(2000, S) + np.random.default_rng(2).normal(0, sigma, size=(2000, 98, 2))
    r = jitter(p, normalizer="fs")
    assert r["d2"][0] == pytest.approx(sigma * np.sqrt(3 * np.pi) / S, rel=0.02)
    assert r["d1rms"][0] == pytest.approx(2 * sigma / S, rel=0.02)
    ioc = jitter(p, normalizer="ioc", pair=(60, 72))
    assert ioc["d2"][0] == pytest.approx(sigma * np.sqrt(3 * np.pi) / (0.6 * S), rel=0.02)


def test_constant_velocity_has_zero_d2():
    T = 40
    p = static_face(T, 200.0) + np.arange(T)[:, None, None] * np.array([3.0, 4.0])
    r = jitter(p, normalizer="fs")
    assert r["d1"][0] == pytest.approx(5.0 / 200.0, rel=1e-12)
    assert r["d1rms"][0] == pytest.approx(5.0 / 200.0, rel=1e-12)
    assert r["d2"][0] == pytest.approx(0.0, abs=1e-12) and r["d2rms"][0] == pytest.approx(0.0, abs=1e-12)


def test_segments_offsets_and_skips():
    T = [10, 1, 2, 8]
    off = np.concatenate([[0], np.cumsum(T)])
    F = int(off[-1])
    rng = np.random.default_rng(4)
    p = static_face(F, 100.0) + rng.normal(0, 1, size=(F, 98, 2))
    r = jitter(p, off, normalizer="px")
    assert r["n_d1"].tolist() == [9, 0, 1, 7] and r["n_d2"].tolist() == [8, 0, 0, 6]
    assert r["skipped_d1"].tolist() == [False, True, False, False] and np.isnan(r["d2"][2])
    one = jitter(p[off[3]:off[4]], normalizer="px")               # per-video = single-video call
    assert r["d2"][3] == pytest.approx(one["d2"][0], rel=1e-12)
    # an invalid (NaN) frame and a cut split video 0 into segments [0:3], [4:7], [7:10]
    valid = np.ones(F, bool)
    valid[3] = False
    brk = np.zeros(F, bool)
    brk[7] = True
    q = p.copy()
    q[3] = np.nan
    r2 = jitter(q, off, normalizer="px", valid=valid, breaks=brk)
    assert r2["n_d1"][0] == 2 + 2 + 2 and r2["n_d2"][0] == 1 + 1 + 1
    parts = [jitter(p[a:b], normalizer="px") for a, b in ((0, 3), (4, 7), (7, 10))]
    d1 = sum(x["d1"][0] * x["n_d1"][0] for x in parts) / 6
    assert r2["d1"][0] == pytest.approx(d1, rel=1e-12)
    d2rms = np.sqrt(sum(x["d2rms"][0] ** 2 * x["n_d2"][0] for x in parts) / 3)
    assert r2["d2rms"][0] == pytest.approx(d2rms, rel=1e-12)


def test_jitter_errors():
    p = static_face(6, 100.0)
    q = p.copy()
    q[4, 2, 0] = np.nan
    with pytest.raises(ValueError, match="video 1, frame 1"):
        jitter(q, [0, 3, 6])
    z = p.copy()
    z[2, :, 1] = 7.0                                                # zero-height box
    with pytest.raises(ValueError, match="fs normaliser.*video 0, frame 2"):
        jitter(z)
    with pytest.raises(ValueError, match="unknown jitter normalizer"):
        jitter(p, normalizer="box")
