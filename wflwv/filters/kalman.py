"""Constant-velocity Kalman filter and RTS smoother with one shared 2x2 covariance recursion.

Model per coordinate (``docs/filters.md`` §3): state ``[pos, vel]``,
``F = [[1, dt], [0, 1]]``, ``H = [1, 0]``, ``Q = q [[dt^4/4, dt^3/2], [dt^3/2, dt^2]]``, ``R = r``,
``s_0 = [z_0, 0]``, ``P_0 = diag(r, v0)``. The loop starts at frame 0 (predict, then update with
``z_0``); updates use the Joseph form. Every coordinate of a group shares F, Q, R, P_0 and its
observed frames, so P and the gain K are computed once per frame (Python floats) and applied to
all coordinates at once.

Missing frames (NaN or ``valid=False``): predict without update; the output there is NaN unless
``predict_through_gaps=True`` (then it is the prediction, or the RTS interpolation). Landmarks
missing on some frames only are handled per group of coordinates (``partial_missing="per_coord"``,
default) or by treating the whole frame as missing (``"drop_frame"``).

``dt`` comes from the timestamps (``dt_0`` = the first interval); without timestamps,
``dt = 1 / freq``. Default ``q``/``r`` are in face-normalised units (``normalize=True``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

import numpy as np

from wflwv.filters.base import TemporalFilter, check_bool, check_choice, check_number, check_track


@dataclass
class KalmanResult:
    """Forward (and optionally RTS) outputs for ``z[T, ...]``; covariances are shared."""

    prior_pos: Optional[np.ndarray]      # None with keep=False
    prior_vel: Optional[np.ndarray]
    filtered_pos: np.ndarray
    filtered_vel: Optional[np.ndarray]
    P_prior: np.ndarray          # [T, 2, 2]
    P_filtered: np.ndarray       # [T, 2, 2]
    gain: np.ndarray             # [T, 2] (0 on missing frames)
    smoothed_pos: Optional[np.ndarray] = None
    smoothed_vel: Optional[np.ndarray] = None
    P_smoothed: Optional[np.ndarray] = None
    smoother_gain: Optional[np.ndarray] = None   # [T, 2, 2], last row zero


def _covariances(dts: np.ndarray, observed: np.ndarray, q: float, r: float, v0: float):
    """The shared 2x2 recursion; returns P_prior, P_post as [T, 3] (p00, p01, p11) and K [T, 2]."""
    n = dts.shape[0]
    prior = np.empty((n, 3))
    post = np.empty((n, 3))
    gain = np.zeros((n, 2))
    p00, p01, p11 = r, 0.0, v0
    for i, (dt, ob) in enumerate(zip(dts.tolist(), observed.tolist())):
        dt2 = dt * dt
        a00 = p00 + dt * p01 + dt * (p01 + dt * p11) + q * (dt2 * dt2 / 4.0)
        a01 = p01 + dt * p11 + q * (dt2 * dt / 2.0)
        a11 = p11 + q * dt2
        prior[i] = (a00, a01, a11)
        if ob:
            s = a00 + r
            kp, kv = a00 / s, a01 / s
            c = 1.0 - kp
            p00 = c * a00 * c + kp * r * kp
            p01 = -c * a00 * kv + c * a01 + kp * r * kv
            p11 = kv * a00 * kv - 2.0 * kv * a01 + a11 + kv * r * kv
            gain[i] = (kp, kv)
        else:
            p00, p01, p11 = a00, a01, a11
        post[i] = (p00, p01, p11)
    return prior, post, gain


def _full(p: np.ndarray) -> np.ndarray:
    out = np.empty((p.shape[0], 2, 2))
    out[:, 0, 0], out[:, 0, 1], out[:, 1, 0], out[:, 1, 1] = p[:, 0], p[:, 1], p[:, 1], p[:, 2]
    return out


def kalman_cv(z: Any, dts: Any, q: float, r: float, v0: float, observed: Any = None,
              smooth: bool = False, keep: bool = True) -> KalmanResult:
    """Run the CV Kalman filter (and RTS smoother) on ``z[T, ...]`` with intervals ``dts[T]``.

    ``observed[T]`` marks frames with a measurement; frame 0 must be observed (it sets s_0).
    Values in ``z`` on unobserved frames are ignored. ``keep=False`` skips storing the priors
    (and velocities) when only the positions are needed.
    """
    Z = np.asarray(z, dtype=np.float64)
    shape = Z.shape
    n = shape[0]
    Z = Z.reshape(n, -1)
    dts = np.asarray(dts, dtype=np.float64)
    obs = np.ones(n, bool) if observed is None else np.asarray(observed, bool)
    if n == 0 or not obs[0]:
        raise ValueError("kalman_cv: frame 0 must be observed (it initialises the state)")
    prior_p, post_p, gain = _covariances(dts, obs, float(q), float(r), float(v0))
    keep = keep or smooth
    M = Z.shape[1]
    fpos = np.empty((n, M))
    ppos = pvel = fvel = None
    if keep:
        ppos, pvel, fvel = np.empty((n, M)), np.empty((n, M)), np.empty((n, M))
    pos, vel = Z[0], np.zeros(M)
    innov, tmp = np.empty(M), np.empty(M)
    for i, (dt, ob, (kp, kv)) in enumerate(zip(dts.tolist(), obs.tolist(), gain.tolist())):
        p = fpos[i]                                   # writes row i in place
        np.multiply(vel, dt, out=tmp)
        np.add(pos, tmp, out=p)                       # prior: pos + dt vel
        if keep:
            ppos[i] = p
            pvel[i] = vel
        if ob:
            np.subtract(Z[i], p, out=innov)
            np.multiply(innov, kp, out=tmp)
            p += tmp
            np.multiply(innov, kv, out=tmp)
            vel = vel + tmp
        if keep:
            fvel[i] = vel
        pos = p
    res = KalmanResult(None if ppos is None else ppos.reshape(shape),
                       None if pvel is None else pvel.reshape(shape), fpos.reshape(shape),
                       None if fvel is None else fvel.reshape(shape), _full(prior_p),
                       _full(post_p), gain)
    if smooth:
        _rts(res, fpos, fvel, ppos, pvel, prior_p, post_p, dts, shape)
    return res


def _rts(res: KalmanResult, fpos, fvel, ppos, pvel, prior_p, post_p, dts, shape) -> None:
    n = fpos.shape[0]
    spos, svel = fpos.copy(), fvel.copy()
    Ps = post_p.copy()                     # smoothed covariance as (p00, p01, p11)
    G = np.zeros((n, 2, 2))
    dp, dv, tmp = np.empty(fpos.shape[1]), np.empty(fpos.shape[1]), np.empty(fpos.shape[1])
    post, prior, dtl = post_p.tolist(), prior_p.tolist(), dts.tolist()
    s00, s01, s11 = post[n - 1]
    for k in range(n - 2, -1, -1):
        dt = dtl[k + 1]
        p00, p01, p11 = post[k]
        a00, a01, a11 = prior[k + 1]
        b00, b10 = p00 + dt * p01, p01 + dt * p11      # P_k F^T = [[b00, p01], [b10, p11]]
        det = a00 * a11 - a01 * a01
        g00 = (b00 * a11 - p01 * a01) / det
        g01 = (p01 * a00 - b00 * a01) / det
        g10 = (b10 * a11 - p11 * a01) / det
        g11 = (p11 * a00 - b10 * a01) / det
        G[k] = ((g00, g01), (g10, g11))
        np.subtract(spos[k + 1], ppos[k + 1], out=dp)
        np.subtract(svel[k + 1], pvel[k + 1], out=dv)
        np.multiply(dp, g00, out=tmp)
        spos[k] += tmp
        np.multiply(dv, g01, out=tmp)
        spos[k] += tmp
        np.multiply(dp, g10, out=tmp)
        svel[k] += tmp
        np.multiply(dv, g11, out=tmp)
        svel[k] += tmp
        # P_k + G (Ps_{k+1} - P_prior_{k+1}) G^T with D symmetric
        d00, d01, d11 = s00 - a00, s01 - a01, s11 - a11
        e00, e01 = g00 * d00 + g01 * d01, g00 * d01 + g01 * d11
        e10, e11 = g10 * d00 + g11 * d01, g10 * d01 + g11 * d11
        s00 = p00 + e00 * g00 + e01 * g01
        s01 = p01 + e00 * g10 + e01 * g11
        s11 = p11 + e10 * g10 + e11 * g11
        Ps[k] = (s00, s01, s11)
    res.smoothed_pos, res.smoothed_vel = spos.reshape(shape), svel.reshape(shape)
    res.P_smoothed, res.smoother_gain = _full(Ps), G


class KalmanCV(TemporalFilter):
    """Causal constant-velocity Kalman filter (forward pass) over ``[T, N, 2]``."""

    name = "kalman"
    causal = True
    variant = "kalman.cv"
    bridges_gaps = True
    normalizes = True
    float_params = ("q", "r", "v0", "freq")
    _smooth = False

    def __init__(self, *, q: float = 0.5, r: float = 1e-4, v0: Optional[float] = None,
                 freq: Optional[float] = None, normalize: bool = True,
                 predict_through_gaps: bool = False, partial_missing: str = "per_coord"):
        self.q = q
        self.r = r
        self.v0 = v0
        self.freq = freq
        self.normalize = normalize
        self.predict_through_gaps = predict_through_gaps
        self.partial_missing = partial_missing

    def _validate(self) -> None:
        who = self.name
        check_number(who, "q", self.q, low=0, low_open=True, example="0.5")
        check_number(who, "r", self.r, low=0, low_open=True, example="1e-4")
        if self.v0 is not None:
            check_number(who, "v0", self.v0, low=0, low_open=True, example="0.01")
        if self.freq is not None:
            check_number(who, "freq", self.freq, low=0, low_open=True, example="30")
        check_bool(who, "normalize", self.normalize)
        check_bool(who, "predict_through_gaps", self.predict_through_gaps)
        check_choice(who, "partial_missing", self.partial_missing, ("per_coord", "drop_frame"))

    @property
    def velocity_prior(self) -> float:
        """``v0`` (P_0[1, 1]); default 100 * r."""
        return 100.0 * float(self.r) if self.v0 is None else float(self.v0)

    def smooth(self, x: Any, t: Any = None, valid: Any = None) -> np.ndarray:
        """Filter a track; ``partial_missing="drop_frame"`` drops frames with any NaN first."""
        if self.partial_missing == "drop_frame":
            self.validate()
            X, _, obs, shape = check_track(x, t, valid, who=self.name)
            full = obs.all(axis=1)
            if not full.all():
                X[~full] = np.nan
                return super().smooth(X.reshape(shape), t, valid)
        return super().smooth(x, t, valid)

    def _dts(self, t: Optional[np.ndarray], n: int) -> np.ndarray:
        if t is None:
            if self.freq is None:
                raise ValueError(f"{self.name}: no timestamps and no freq; pass t (seconds) or "
                                 f"freq=<fps>")
            return np.full(n, 1.0 / float(self.freq))
        d = np.diff(t)
        if (d <= 0).any():
            k = int(np.flatnonzero(d <= 0)[0]) + 1
            raise ValueError(
                f"{self.name}: timestamps must increase strictly, but frame {k} has t={t[k]!r} "
                f"after t={t[k - 1]!r}; pass idx / fps timestamps for this video")
        dts = np.empty(n)
        dts[1:] = d
        dts[0] = d[0] if n > 1 else (1.0 / float(self.freq) if self.freq else 0.0)
        return dts

    def _filter_segment(self, x: np.ndarray, t: Optional[np.ndarray],
                        obs: np.ndarray) -> np.ndarray:
        res = kalman_cv(x, self._dts(t, x.shape[0]), self.q, self.r, self.velocity_prior,
                        obs, smooth=self._smooth, keep=False)
        return res.smoothed_pos if self._smooth else res.filtered_pos

    def steady_state(self, fps: float, n: int = 2000) -> Dict[str, float]:
        """Steady-state gains at a constant ``fps``: ``{k_p, k_v, alpha, beta}`` (α–β form)."""
        _, _, gain = _covariances(np.full(n, 1.0 / fps), np.ones(n, bool), float(self.q),
                                  float(self.r), self.velocity_prior)
        kp, kv = gain[-1]
        return {"k_p": float(kp), "k_v": float(kv), "alpha": float(kp), "beta": float(kv / fps)}


class KalmanRTS(KalmanCV):
    """Offline CV Kalman + Rauch-Tung-Striebel smoother (non-causal, latency = whole segment)."""

    name = "kalman-rts"
    causal = False
    variant = "kalman.cv_rts"
    _smooth = True

    @property
    def latency_frames(self) -> Optional[int]:
        """None: the smoother looks at the whole segment."""
        return None
