"""One-Euro filter (Casiez, Roussel, Vogel, CHI 2012), casiez current variant, vectorised.

Per frame, for every coordinate at once (``docs/filters.md`` §2)::

    rate  = 1 / (t_i - t_{i-1})                 (configured ``freq`` without timestamps)
    alpha(fc) = 1 / (1 + (1 / (2 pi fc)) / (1 / rate))
    dx    = (x_i - xhat_{i-1}) * rate           (derivative vs the previous FILTERED value)
    dxhat = alpha(d_cutoff) * dx + (1 - alpha(d_cutoff)) * dxhat_{i-1}
    fc    = min_cutoff + beta * |dxhat|
    xhat  = alpha(fc) * x_i + (1 - alpha(fc)) * xhat_{i-1}      (first sample passes through)

``derivative="raw"`` selects the ``oneeuro.raw_derivative`` variant (previous RAW value: old C++,
MediaPipe). Timestamps must increase strictly; the reference Python class's quirks (a first
timestamp of 0.0 is "falsy" and keeps the configured freq for the next interval; a non-increasing
timestamp keeps the old rate but replaces the stored time) are reproduced only with
``casiez_timestamp_quirks=True``, which the conformance test uses.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from wflwv.filters.base import TemporalFilter, check_bool, check_choice, check_number

TWO_PI = 2 * math.pi


class OneEuro(TemporalFilter):
    """Causal One-Euro filter over ``[T, N, 2]``; ``normalize=True`` works in face-size units."""

    name = "one-euro"
    causal = True
    normalizes = True
    float_params = ("freq", "min_cutoff", "beta", "d_cutoff")

    def __init__(self, *, freq: Optional[float] = None, min_cutoff: float = 1.0,
                 beta: float = 0.0, d_cutoff: float = 1.0, normalize: bool = True,
                 derivative: str = "filtered", casiez_timestamp_quirks: bool = False):
        self.freq = freq
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self.normalize = normalize
        self.derivative = derivative
        self.casiez_timestamp_quirks = casiez_timestamp_quirks

    @property
    def variant(self) -> str:  # type: ignore[override]
        """``oneeuro.casiez2023`` (default) or ``oneeuro.raw_derivative``."""
        return "oneeuro.casiez2023" if self.derivative == "filtered" else "oneeuro.raw_derivative"

    def _validate(self) -> None:
        who = self.name
        if self.freq is not None:
            check_number(who, "freq", self.freq, low=0, low_open=True, example="30")
        check_number(who, "min_cutoff", self.min_cutoff, low=0, low_open=True, example="1.0")
        check_number(who, "beta", self.beta, low=0, example="0.05")
        check_number(who, "d_cutoff", self.d_cutoff, low=0, low_open=True, example="1.0")
        check_bool(who, "normalize", self.normalize)
        check_choice(who, "derivative", self.derivative, ("filtered", "raw"))
        check_bool(who, "casiez_timestamp_quirks", self.casiez_timestamp_quirks)

    def _rates(self, t: Optional[np.ndarray], n: int) -> np.ndarray:
        """Sampling rate (Hz) used at each sample; entry 0 is unused (pass-through)."""
        freq = None if self.freq is None else float(self.freq)
        if t is None:
            if freq is None:
                raise ValueError(f"{self.name}: no timestamps and no freq; pass t (seconds) or "
                                 f"freq=<fps>")
            return np.full(n, freq)
        if self.casiez_timestamp_quirks:
            if freq is None:
                d = np.diff(t)
                d = d[d > 0]
                if d.size == 0:
                    raise ValueError(f"{self.name}: freq is needed (no increasing timestamps)")
                freq = 1.0 / float(np.median(d))
            rates = np.empty(n)
            last = None
            for i, ti in enumerate(t.tolist()):      # reference rule, Python truthiness
                if last and ti and ti > last:
                    freq = 1.0 / (ti - last)
                last = ti
                rates[i] = freq
            return rates
        d = np.diff(t)
        if (d <= 0).any():
            k = int(np.flatnonzero(d <= 0)[0]) + 1
            raise ValueError(
                f"{self.name}: timestamps must increase strictly, but frame {k} has t={t[k]!r} "
                f"after t={t[k - 1]!r}; pass idx / fps timestamps for this video")
        rates = np.empty(n)
        rates[0] = np.nan if freq is None else freq
        rates[1:] = 1.0 / d
        return rates

    def _filter_segment(self, x: np.ndarray, t: Optional[np.ndarray],
                        obs: np.ndarray) -> np.ndarray:
        n, M = x.shape
        rates = self._rates(t, n)
        y = np.empty((n, M))
        y[0] = x[0]
        if n == 1:
            return y
        mc, beta = float(self.min_cutoff), float(self.beta)
        tau_d = 1.0 / (TWO_PI * float(self.d_cutoff))
        te = 1.0 / rates
        ad_all = 1.0 / (1.0 + tau_d / te)
        raw = self.derivative == "raw"
        # Algebraically the reference update: alpha(fc) = 1 / (1 + (1/(2 pi fc)) / te) equals
        # 2 pi fc / (2 pi fc + rate), and a x + (1 - a) xhat equals xhat + a (x - xhat). The
        # rearranged form needs half the array operations; it agrees with the reference to a few
        # ulp (the parity tests hold it to 1e-12).
        xhat = y[0]                         # a view: each step writes row i of y
        dxhat = np.zeros(M)
        prev = x[0]
        diff = np.empty(M)
        tmp = np.empty(M)
        a = np.empty(M)
        if beta == 0.0:                     # constant cutoff: alpha depends on the rate only
            a_all = 1.0 / (1.0 + (1.0 / (TWO_PI * mc)) / te)
        for i in range(1, n):
            xi = x[i]
            np.subtract(xi, xhat, out=diff)
            if beta == 0.0:
                ai = a_all[i]
                np.multiply(diff, ai, out=tmp)
                np.add(xhat, tmp, out=y[i])     # xhat + a (x - xhat)
            else:
                r = rates[i]
                ad = ad_all[i]
                # dxhat = ad*dx + (1-ad)*dxhat with dx = (x - ref)*rate
                if raw:
                    np.subtract(xi, prev, out=tmp)
                    tmp *= ad * r
                else:
                    np.multiply(diff, ad * r, out=tmp)
                dxhat *= 1.0 - ad
                dxhat += tmp
                # alpha(fc) = w / (w + rate) with w = 2 pi fc = 2 pi (mc + beta |dxhat|)
                np.abs(dxhat, out=a)
                a *= TWO_PI * beta
                a += TWO_PI * mc
                np.add(a, r, out=tmp)
                a /= tmp
                a *= diff
                np.add(xhat, a, out=y[i])       # xhat + alpha (x - xhat)
            xhat = y[i]
            prev = xi
        return y

    def equivalent_ema_alpha(self, fps: float) -> float:
        """The EMA alpha that One-Euro with ``beta=0`` applies at a constant ``fps``."""
        return 1.0 / (1.0 + (1.0 / (TWO_PI * float(self.min_cutoff))) / (1.0 / fps))


def one_euro_scalar(x: Any, t: Any = None, **params: Any) -> np.ndarray:
    """Filter a 1-D signal (convenience wrapper: one coordinate through :class:`OneEuro`)."""
    xs = np.asarray(x, dtype=np.float64).reshape(-1, 1, 1)
    f = OneEuro(normalize=False, **params)
    return f(np.repeat(xs, 2, axis=2), t)[:, 0, 0]
