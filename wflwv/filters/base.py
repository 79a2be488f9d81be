"""Temporal-filter base class: parameters, input checks, missing data, segments, normalisation.

Every filter is a callable ``f(x[T, N, 2], t[T] | None, valid[T] | None) -> y[T, N, 2]`` (float64)
with fresh state per call that never mutates ``x``. Missing data (``docs/filters.md`` §1, ``docs/metrics.md``
§7):

- A NaN coordinate, or a whole frame with ``valid[t] = False``, is "no measurement".
- Coordinates are grouped by their pattern of observed frames; each group is filtered on its own,
  so a landmark that is NaN on one frame never turns the other landmarks of that frame into NaN.
- Most filters **reset** after a gap: each maximal run of observed frames is a fresh segment, and
  the output on missing frames is NaN (never an extrapolation).
- Filters with ``bridges_gaps = True`` (the Kalman filters) instead predict through gaps without an
  update, as the parity vectors define; their output on missing frames is NaN unless
  ``predict_through_gaps=True``.
- Scene cuts are explicit: :func:`apply_segments` runs a filter independently per segment.

Coordinate normalisation (``normalize=True``, units ``face_norm``): coordinates are divided by a
per-segment constant ``s_ref = sqrt(w * h)`` of the landmark bounding box — the box at the
segment's first frame for causal filters, the segment median for offline ones — and multiplied
back afterwards. Linear filters (EMA, Savitzky-Golay, identity) are scale-equivariant and skip it.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np



def check_number(who: str, key: str, value: Any, *, low: Optional[float] = None,
                 low_open: bool = False, high: Optional[float] = None, high_open: bool = False,
                 integer: bool = False, example: str = "") -> None:
    """Raise a ValueError naming ``who``/``key`` unless ``value`` is a real number in range."""
    ok_type = isinstance(value, (int, np.integer)) if integer else isinstance(
        value, (int, float, np.integer, np.floating))
    if isinstance(value, (bool, np.bool_)) or not ok_type:
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{who}: {key} must be {kind}, got {value!r} ({type(value).__name__})"
                         + (f"; e.g. {key}={example}" if example else ""))
    v = float(value)
    bad = not math.isfinite(v)
    if low is not None:
        bad |= v <= low if low_open else v < low
    if high is not None:
        bad |= v >= high if high_open else v > high
    if bad:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        rng = f"{lo or '(-inf'}, {hi or 'inf)'}"
        raise ValueError(f"{who}: {key} must lie in {rng}, got {value!r}"
                         + (f"; e.g. {key}={example}" if example else ""))


def check_choice(who: str, key: str, value: Any, choices: Sequence[str]) -> None:
    """Raise a ValueError unless ``value`` is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{who}: {key} must be one of {list(choices)}, got {value!r}")


def check_bool(who: str, key: str, value: Any) -> None:
    """Raise a ValueError unless ``value`` is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{who}: {key} must be true or false, got {value!r}")


def _fmt(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


class TemporalFilter:
    """Base class; subclasses set the class attributes and implement :meth:`_filter_segment`."""

    name: str = ""                 # registry name
    causal: bool = True
    variant: str = ""
    shareable: bool = False        # one instance may serve several tracks (state is per call)
    bridges_gaps: bool = False     # predict through missing frames instead of resetting
    normalizes: bool = False       # has a ``normalize`` parameter (face-size units)
    float_params: Tuple[str, ...] = ()   # params printed as floats in :attr:`id`

    # ---- scikit-learn style parameters -------------------------------------------------------
    @classmethod
    def _param_names(cls) -> List[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values()
                      if p.name != "self" and p.kind == p.KEYWORD_ONLY)

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        """The constructor parameters as a dict (scikit-learn convention)."""
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params: Any) -> "TemporalFilter":
        """Set constructor parameters; unknown names raise ValueError. Returns ``self``."""
        names = self._param_names()
        for key, value in params.items():
            if key not in names:
                raise ValueError(f"{self.name}: unknown parameter {key!r}; valid: {names}")
            setattr(self, key, value)
        return self

    def validate(self) -> "TemporalFilter":
        """Check parameter types and ranges (ValueError naming the parameter); returns ``self``."""
        self._validate()
        return self

    def _validate(self) -> None:  # pragma: no cover - overridden
        pass

    def _id_params(self) -> Dict[str, Any]:
        return {k: v for k, v in self.get_params().items() if v is not None}

    @property
    def id(self) -> str:
        """Stable identifier with all (non-None) params, e.g. ``one-euro:beta=0.05,...``.

        It is a valid spec for :func:`wflwv.filters.create`, so it round-trips.
        """
        self.validate()
        parts = []
        for key, value in sorted(self._id_params().items()):
            if key in self.float_params and isinstance(value, (int, np.integer)) \
                    and not isinstance(value, bool):
                value = float(value)
            parts.append(f"{key}={_fmt(value)}")
        return self.name + (":" + ",".join(parts) if parts else "")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    @property
    def units(self) -> str:
        """``face_norm`` when coordinates are normalised by the face size, else ``px``."""
        return "face_norm" if self.normalizes and getattr(self, "normalize", False) else "px"

    @property
    def latency_frames(self) -> Optional[int]:
        """Frames of look-ahead: 0 for causal filters (None = the whole segment)."""
        return 0

    # ---- offline API -------------------------------------------------------------------------
    def __call__(self, x: Any, t: Any = None, valid: Any = None) -> np.ndarray:
        """Filter one track ``x[T, N, 2]`` with timestamps ``t[T]`` (seconds); see :meth:`smooth`."""
        return self.smooth(x, t, valid)

    def smooth(self, x: Any, t: Any = None, valid: Any = None) -> np.ndarray:
        """Filter a whole track with fresh state; returns float64 ``[T, N, 2]``.

        ``valid[T]`` (optional) marks frames without a detection; NaN coordinates count as missing.
        """
        self.validate()
        X, tt, obs, shape = check_track(x, t, valid, who=self.name)
        T, M = X.shape
        Y = np.full((T, M), np.nan)
        if T == 0:
            return Y.reshape(shape)
        norm = self.normalizes and bool(getattr(self, "normalize", False))
        through = bool(getattr(self, "predict_through_gaps", False))
        for cols, mask in _groups(obs):
            for a, b in _runs(mask, self.bridges_gaps):
                seg_obs = mask[a:b]
                xs = X[a:b][:, cols] if cols is not None else X[a:b]
                ts = None if tt is None else tt[a:b]
                s = self._ref_scale(X, a, b, seg_obs) if norm else 1.0
                if s != 1.0:
                    xs = xs / s
                ys = self._filter_segment(xs, ts, seg_obs)
                if s != 1.0:
                    ys = ys * s
                if self.bridges_gaps and not through:
                    ys[~seg_obs] = np.nan
                if cols is None:
                    Y[a:b] = ys
                else:
                    Y[a:b, cols] = ys
        return Y.reshape(shape)

    def _ref_scale(self, X: np.ndarray, a: int, b: int, obs: np.ndarray) -> float:
        """``s_ref``: box size at frame ``a`` (causal) or the median over observed frames."""
        frames = np.array([a]) if self.causal else a + np.flatnonzero(obs)
        s = float(np.median(_face_scale(X[frames])))
        start = a
        if not (math.isfinite(s) and s > 0):
            raise ValueError(
                f"{self.name}: the landmark box at frame {start} has zero area, so it cannot set "
                f"the face size for normalize=True; pass normalize=false (pixel units) or drop "
                f"degenerate frames")
        return s

    def _filter_segment(self, x: np.ndarray, t: Optional[np.ndarray],
                        obs: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        """Filter one segment ``x[n, M]`` (obs[0] is True); returns ``[n, M]`` float64."""
        raise NotImplementedError

    # ---- online API --------------------------------------------------------------------------
    def reset(self) -> None:
        """Clear the online state kept by :meth:`step`."""
        self.history_x_ = []
        self.history_t_ = []

    def step(self, p_t: Any, t_s: Optional[float] = None) -> np.ndarray:
        """Filter one frame ``p_t[N, 2]`` online (causal filters only); returns ``[N, 2]``.

        Exact by construction: it re-runs :meth:`smooth` over the frames since :meth:`reset`, so a
        step costs O(frames so far). Use :meth:`smooth` for whole tracks.
        """
        if not self.causal:
            raise NotImplementedError(
                f"{self.name} is offline (causal=False): call smooth() on the whole segment")
        if not hasattr(self, "history_x_"):
            self.reset()
        if self.history_t_ and (t_s is None) != (self.history_t_[-1] is None):
            raise ValueError(f"{self.name}.step: mix of frames with and without timestamps "
                             f"(frame {len(self.history_t_)}); pass t_s on every frame or never")
        self.history_x_.append(np.array(p_t, dtype=np.float64))
        self.history_t_.append(t_s)
        t = None if t_s is None else np.asarray(self.history_t_, dtype=np.float64)
        return self.smooth(np.stack(self.history_x_), t)[-1]


def check_track(x: Any, t: Any, valid: Any, who: str = "filter"
                ) -> Tuple[np.ndarray, Optional[np.ndarray], np.ndarray, Tuple[int, ...]]:
    """Validate one track; returns ``(X[T, M] float64 copy, t, observed[T, M], shape)``."""
    arr = np.array(x, dtype=np.float64, copy=True)
    if arr.ndim != 3 or arr.shape[2] != 2:
        raise ValueError(f"{who}: expected one track of landmarks shaped [T, N, 2], "
                         f"got shape {arr.shape}; filter each video separately")
    T = arr.shape[0]
    if np.isinf(arr).any():
        frame = int(np.argwhere(np.isinf(arr))[0, 0])
        raise ValueError(f"{who}: landmarks contain inf at frame {frame}; mark missing "
                         f"landmarks with NaN instead")
    tt = None
    if t is not None:
        tt = np.asarray(t, dtype=np.float64)
        if tt.shape != (T,):
            raise ValueError(f"{who}: timestamps must have shape [{T}] (one per frame), "
                             f"got {tt.shape}")
        if not np.isfinite(tt).all():
            frame = int(np.argwhere(~np.isfinite(tt))[0, 0])
            raise ValueError(f"{who}: timestamp of frame {frame} is {tt[frame]}; pass "
                             f"idx / fps when PTS are missing")
    M = 2 * arr.shape[1]
    obs = np.isfinite(arr).reshape(T, M)
    if valid is not None:
        v = np.asarray(valid)
        if v.shape != (T,) or v.dtype != bool:
            raise ValueError(f"{who}: valid must be a bool array of shape [{T}], "
                             f"got {v.dtype} {v.shape}")
        obs &= v[:, None]
    return arr.reshape(T, M), tt, obs, arr.shape


def _face_scale(X: np.ndarray) -> np.ndarray:
    """Per-frame ``sqrt(w * h)`` of the box of the finite landmarks (NaN when none)."""
    P = X.reshape(X.shape[0], -1, 2)
    fin = np.isfinite(P).all(axis=2)
    if fin.all():
        wh = P.max(axis=1) - P.min(axis=1)
        return np.sqrt(wh[:, 0] * wh[:, 1])
    lo = np.where(fin[..., None], P, np.inf).min(axis=1)
    hi = np.where(fin[..., None], P, -np.inf).max(axis=1)
    with np.errstate(invalid="ignore"):
        wh = hi - lo
        return np.sqrt(wh[:, 0] * wh[:, 1])


def _groups(obs: np.ndarray) -> List[Tuple[Optional[np.ndarray], np.ndarray]]:
    """Columns that share one pattern of observed frames: ``[(cols or None=all, mask[T])]``."""
    if obs.all():
        return [(None, np.ones(obs.shape[0], bool))]
    patterns, inverse = np.unique(obs.T, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    out = []
    for g, pat in enumerate(patterns):
        if pat.any():
            out.append((np.flatnonzero(inverse == g), pat))
    return out


def _runs(mask: np.ndarray, bridge: bool) -> List[Tuple[int, int]]:
    """Segments ``[a, b)``: maximal runs of True, or (bridge) first True to the end."""
    if mask.all():
        return [(0, mask.shape[0])]
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return []
    if bridge:
        return [(int(idx[0]), mask.shape[0])]
    d = np.diff(mask.astype(np.int8))
    starts = list(np.flatnonzero(d == 1) + 1)
    stops = list(np.flatnonzero(d == -1) + 1)
    if mask[0]:
        starts.insert(0, 0)
    if mask[-1]:
        stops.append(mask.shape[0])
    return [(int(a), int(b)) for a, b in zip(starts, stops)]


def apply_segments(f: Any, x: Any, t: Any = None, breaks: Any = None,
                   valid: Any = None) -> np.ndarray:
    """Run filter ``f`` independently on each segment; ``breaks[T]`` True marks segment starts.

    Use it for scene cuts and track losses: the filter restarts (fresh state, new ``s_ref``) at
    every break. ``breaks[0]`` is implied. Returns float64 ``[T, N, 2]``.
    """
    arr = np.asarray(x)
    T = arr.shape[0] if arr.ndim else 0
    if breaks is None:
        return f(x, t) if valid is None else f(x, t, valid)
    br = np.asarray(breaks)
    if br.shape != (T,) or br.dtype != bool:
        raise ValueError(f"apply_segments: breaks must be a bool array of shape [{T}] "
                         f"(True at the first frame of each segment), got {br.dtype} {br.shape}")
    starts = sorted(set([0] + np.flatnonzero(br).tolist())) if T else []
    bounds = list(zip(starts, starts[1:] + [T]))
    tt = None if t is None else np.asarray(t, dtype=np.float64)
    vv = None if valid is None else np.asarray(valid)
    parts = []
    for a, b in bounds:
        args = (arr[a:b], None if tt is None else tt[a:b])
        parts.append(np.asarray(f(*args) if vv is None else f(*args, vv[a:b]), dtype=np.float64))
    if not parts:
        return np.array(arr, dtype=np.float64)
    return np.concatenate(parts, axis=0)
