"""The conformance battery every temporal filter must pass (scikit-learn ``check_estimator`` style).

``check_filter("one-euro")`` (or an instance) runs all checks and raises AssertionError naming
the first failed check. ``filter_checks(f)`` yields ``(check_name, callable)`` pairs for
parametrised tests.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Tuple, Union

import numpy as np

from wflwv.filters import TemporalFilter, create
from wflwv.registry import FILTERS

FPS = 30.0


def sample_track(T: int = 40, N: int = 7, seed: int = 0, scale: float = 120.0) -> np.ndarray:
    """A deterministic noisy moving face track ``[T, N, 2]`` in pixels (float64)."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(-0.5, 0.5, size=(N, 2)) * scale
    k = np.arange(T)[:, None, None]
    motion = np.concatenate([40 * np.sin(k / 7.0), 25 * np.cos(k / 11.0)], axis=2)
    return 300.0 + base[None] + motion + rng.normal(0.0, 1.5, size=(T, N, 2))


def times(T: int, fps: float = FPS) -> np.ndarray:
    """Timestamps ``k / fps`` in seconds."""
    return np.arange(T) / fps


def _same(a: np.ndarray, b: np.ndarray, what: str) -> None:
    if not np.array_equal(a, b, equal_nan=True):
        diff = np.nanmax(np.abs(a - b)) if a.shape == b.shape else "shape"
        raise AssertionError(f"{what}: outputs differ (max |diff| {diff})")


def _check_shape_dtype(f: TemporalFilter) -> None:
    x = sample_track().astype(np.float32)
    y = f(x, times(len(x)))
    assert isinstance(y, np.ndarray) and y.dtype == np.float64, f"dtype {getattr(y, 'dtype', y)}"
    assert y.shape == x.shape, f"shape {y.shape} != {x.shape}"
    assert np.isfinite(y).all(), "non-finite output on a complete track"


def _check_no_mutation(f: TemporalFilter) -> None:
    x = sample_track()
    keep = x.copy()
    x.flags.writeable = False
    f(x, times(len(x)))
    _same(x, keep, "input mutated")


def _check_constant(f: TemporalFilter) -> None:
    x = np.broadcast_to(sample_track(T=1), (30, 7, 2)).copy()
    y = f(x, times(30))
    np.testing.assert_allclose(y, x, rtol=1e-12, atol=1e-9,
                               err_msg="constant input must come back unchanged")


def _check_deterministic_and_fresh(f: TemporalFilter) -> None:
    x, t = sample_track(), times(40)
    y1 = f(x, t)
    f(sample_track(seed=5) * 3.0, t)          # a different call in between
    _same(f(x, t), y1, "second call (state must be fresh per call)")
    _same(type(f)(**f.get_params())(x, t), y1, "fresh instance with the same params")
    if f.name in FILTERS and FILTERS.get(f.name) is type(f):   # registered: id round-trips
        g = create(f.id)
        _same(g(x, t), y1, f"create({f.id!r})")
        assert g.id == f.id, f"id does not round-trip: {g.id} != {f.id}"


def _check_causality(f: TemporalFilter) -> None:
    x, t = sample_track(), times(40)
    y = f(x, t)
    k = 25
    x2 = x.copy()
    x2[k:] += 17.0
    y2 = f(x2, t)
    if f.causal:
        _same(y2[:k], y[:k], f"causal filter changed frames < {k} when frames >= {k} changed")
    else:
        assert not np.array_equal(y2[:k], y[:k]), \
            "causal=False but the output never looks ahead; set causal=True"
    assert not np.array_equal(y2[k:], y[k:]), "output ignores its input"


def _check_missing(f: TemporalFilter) -> None:
    x, t = sample_track(), times(40)
    x[10] = np.nan                              # a missing frame
    x[20:22, 3] = np.nan                        # one landmark missing on two frames
    y = f(x, t)
    through = bool(getattr(f, "predict_through_gaps", False))
    if not through:
        assert np.isnan(y[10]).all(), "a missing frame must give NaN (no extrapolation)"
        assert np.isnan(y[20:22, 3]).all(), "a missing landmark must give NaN"
    had = np.isfinite(x)
    if getattr(f, "partial_missing", "per_coord") == "drop_frame":
        had &= had.all(axis=(1, 2))[:, None, None]
    assert np.isfinite(y[had]).all(), "NaN output for a coordinate that had input"
    valid = np.ones(40, bool)
    valid[30] = False
    y3 = f(sample_track(), t, valid)
    if not through:
        assert np.isnan(y3[30]).all(), "valid=False must give NaN"
    if not f.bridges_gaps:                      # resets: post-gap output = a fresh run
        for a, b in ((11, 20), (22, 40)):      # landmark 3's segments after its gaps
            np.testing.assert_allclose(y[a:b, 3], f(x[a:b], t[a:b])[:, 3], rtol=1e-12,
                                       atol=1e-9, err_msg="filter must reset after a gap")


def _check_short(f: TemporalFilter) -> None:
    x = sample_track(T=2)
    for T in (1, 2):
        y = f(x[:T], times(T))
        assert y.shape == (T, 7, 2) and np.isfinite(y).all(), f"T={T} output invalid"
        if T == 1 or f.causal:
            np.testing.assert_allclose(y[0], x[0], rtol=1e-12, atol=1e-9,
                                       err_msg=f"T={T}: first sample must pass through")
    assert f(x[:0], times(0)).shape == (0, 7, 2), "T=0 must return an empty track"


def _check_step_and_reset(f: TemporalFilter) -> None:
    if not f.causal:
        return
    x, t = sample_track(T=15), times(15)
    f.reset()
    ys = np.stack([f.step(x[i], t[i]) for i in range(len(x))])
    _same(ys, f(x, t), "step loop vs smooth")
    f.reset()
    _same(f.step(x[0], t[0]), ys[0], "reset() must restore the initial behaviour")
    f.reset()


def _check_irregular_and_bad_input(f: TemporalFilter) -> None:
    x = sample_track()
    t = np.cumsum(np.random.default_rng(1).uniform(0.01, 0.06, size=40))
    assert np.isfinite(f(x, t)).all(), "irregular timestamps"
    for bad in (x[0], x[..., :1], np.full((4, 3, 2), np.inf)):
        try:
            f(bad, times(len(bad)))
        except ValueError:
            continue
        raise AssertionError(f"shape {bad.shape} / inf input did not raise ValueError")


def _check_attributes(f: TemporalFilter) -> None:
    assert isinstance(f.causal, bool) and isinstance(f.id, str) and f.id.startswith(f.name)
    assert f.units in ("face_norm", "px") and isinstance(f.variant, str) and f.variant
    assert f.latency_frames is None or f.latency_frames >= 0
    assert (f.latency_frames == 0) == f.causal, "latency_frames must be 0 iff causal"
    params = f.get_params()
    assert type(f)(**params).get_params() == params, "__init__ must store params unchanged"


CHECKS: Tuple[Tuple[str, Callable[[TemporalFilter], None]], ...] = (
    ("attributes", _check_attributes),
    ("shape_dtype", _check_shape_dtype),
    ("no_mutation", _check_no_mutation),
    ("constant", _check_constant),
    ("deterministic_fresh_state", _check_deterministic_and_fresh),
    ("causality", _check_causality),
    ("missing", _check_missing),
    ("short_tracks", _check_short),
    ("step_reset", _check_step_and_reset),
    ("irregular_and_bad_input", _check_irregular_and_bad_input),
)


def filter_checks(f: Union[str, TemporalFilter]) -> Iterator[Tuple[str, Callable[[], None]]]:
    """``(name, zero-argument check)`` pairs for one filter (name, spec or instance)."""
    inst = create(f) if isinstance(f, str) else f
    for name, check in CHECKS:
        yield name, (lambda c=check: c(inst))


def check_filter(f: Union[str, TemporalFilter, Any]) -> None:
    """Run every conformance check; AssertionError names the failing check and filter."""
    inst = create(f) if isinstance(f, str) else f
    for name, check in CHECKS:
        try:
            check(inst)
        except AssertionError as err:
            raise AssertionError(f"check_filter({inst.id}): {name} failed: {err}") from err
