"""Benchmark: vectorised temporal filters vs a per-scalar Python loop of the same equations.

For each filter, the baseline runs one scalar filter object per coordinate, called once per
sample (plain Python floats, the way the reference implementations are used; Savitzky-Golay: a
per-sample dot product with the same coefficients) on a [150, 98, 2] clip; the vectorised filter runs the
same clip once. Both are timed in the same run (best of ``--repeat``) and their outputs compared.
Targets: vectorised ≥ 100× the scalar loop, outputs within 1e-9 px of it.
Then the vectorised filters are timed on a demo-sized set (20 clips x 60 frames) and a
WFLW-V-sized set (1000 clips x 138 frames, 98 points).

    python benchmarks/filters.py [--repeat 3] [--no-sets]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np
from scipy.signal import savgol_coeffs

sys.path.append(str(Path(__file__).resolve().parent))  # last: benchmarks/ray.py must not shadow ray

from benchtable import Report, Target, best_of  # noqa: E402
from wflwv.filters import create  # noqa: E402

TWO_PI = 2 * math.pi
FPS = 30.0


# ---- per-scalar baselines (same equations, one scalar filter per coordinate) -----------------
class ScalarOneEuro:
    """One coordinate of the casiez current variant (strictly increasing timestamps)."""

    def __init__(self, min_cutoff: float, beta: float, d_cutoff: float):
        self.mc, self.beta, self.dc = min_cutoff, beta, d_cutoff
        self.xhat = self.dxhat = self.last_t = None

    @staticmethod
    def alpha(cutoff: float, rate: float) -> float:
        return 1.0 / (1.0 + (1.0 / (TWO_PI * cutoff)) / (1.0 / rate))

    def step(self, x: float, t: float) -> float:
        if self.xhat is None:
            self.xhat, self.dxhat, self.last_t = x, 0.0, t
            return x
        rate = 1.0 / (t - self.last_t)
        self.last_t = t
        dx = (x - self.xhat) * rate
        ad = self.alpha(self.dc, rate)
        self.dxhat = ad * dx + (1.0 - ad) * self.dxhat
        a = self.alpha(self.mc + self.beta * abs(self.dxhat), rate)
        self.xhat = a * x + (1.0 - a) * self.xhat
        return self.xhat


def scalar_one_euro(x: np.ndarray, t: np.ndarray, p: Dict) -> np.ndarray:
    T, N, _ = x.shape
    y = np.empty_like(x)
    tl = t.tolist()
    for k in range(N):
        for d in range(2):
            f = ScalarOneEuro(p["min_cutoff"], p["beta"], p["d_cutoff"])
            col = x[:, k, d].tolist()
            for i in range(T):
                y[i, k, d] = f.step(col[i], tl[i])
    return y


class ScalarKalman:
    """One coordinate of the CV Kalman filter (own 2x2 covariance, Joseph form)."""

    def __init__(self, q: float, r: float, v0: float):
        self.q, self.r, self.v0 = q, r, v0
        self.pos = None
        self.trace = []            # (prior pos, prior vel, prior P, posterior state and P)

    def step(self, z: float, dt: float) -> float:
        q, r = self.q, self.r
        if self.pos is None:
            self.pos, self.vel, self.p00, self.p01, self.p11 = z, 0.0, r, 0.0, self.v0
        p00, p01, p11 = self.p00, self.p01, self.p11
        dt2 = dt * dt
        pos, vel = self.pos + dt * self.vel, self.vel
        a00 = p00 + dt * p01 + dt * (p01 + dt * p11) + q * (dt2 * dt2 / 4.0)
        a01 = p01 + dt * p11 + q * (dt2 * dt / 2.0)
        a11 = p11 + q * dt2
        s = a00 + r
        kp, kv = a00 / s, a01 / s
        innov = z - pos
        c = 1.0 - kp
        self.trace.append((pos, vel, a00, a01, a11))
        self.pos, self.vel = pos + kp * innov, vel + kv * innov
        self.p00 = c * a00 * c + kp * r * kp
        self.p01 = -c * a00 * kv + c * a01 + kp * r * kv
        self.p11 = kv * a00 * kv - 2.0 * kv * a01 + a11 + kv * r * kv
        self.trace[-1] += (self.pos, self.vel, self.p00, self.p01, self.p11)
        return self.pos

    def smooth(self, dts: List[float]) -> List[float]:
        """RTS pass over the stored trace."""
        tr = self.trace
        out = [0.0] * len(tr)
        sp, sv = tr[-1][5], tr[-1][6]
        out[-1] = sp
        for k in range(len(tr) - 2, -1, -1):
            dt = dts[k + 1]
            pos, vel, p00, p01, p11 = tr[k][5:]
            ppos, pvel, a00, a01, a11 = tr[k + 1][:5]
            b00, b10 = p00 + dt * p01, p01 + dt * p11
            det = a00 * a11 - a01 * a01
            g00 = (b00 * a11 - p01 * a01) / det
            g01 = (p01 * a00 - b00 * a01) / det
            g10 = (b10 * a11 - p11 * a01) / det
            g11 = (p11 * a00 - b10 * a01) / det
            dp, dv = sp - ppos, sv - pvel
            sp, sv = pos + g00 * dp + g01 * dv, vel + g10 * dp + g11 * dv
            out[k] = sp
        return out


def scalar_kalman(x: np.ndarray, t: np.ndarray, p: Dict, smooth: bool = False) -> np.ndarray:
    T, N, _ = x.shape
    d = np.diff(t)
    dts = [float(d[0])] + d.tolist()
    y = np.empty_like(x)
    v0 = 100.0 * p["r"] if p.get("v0") is None else p["v0"]
    for k in range(N):
        for c in range(2):
            f = ScalarKalman(p["q"], p["r"], v0)
            col = x[:, k, c].tolist()
            out = [f.step(col[i], dts[i]) for i in range(T)]
            y[:, k, c] = f.smooth(dts) if smooth else out
    return y


class ScalarEMA:
    """One coordinate of the EMA."""

    def __init__(self, alpha: float):
        self.alpha, self.s = alpha, None

    def step(self, x: float) -> float:
        self.s = x if self.s is None else self.alpha * x + (1.0 - self.alpha) * self.s
        return self.s


def scalar_ema(x: np.ndarray, t: np.ndarray, p: Dict) -> np.ndarray:
    y = np.empty_like(x)
    T, N, _ = x.shape
    for k in range(N):
        for c in range(2):
            f = ScalarEMA(p["alpha"])
            col = x[:, k, c].tolist()
            for i in range(T):
                y[i, k, c] = f.step(col[i])
    return y


def scalar_savgol(x: np.ndarray, t: np.ndarray, p: Dict) -> np.ndarray:
    """Per-coordinate dot products with the same coefficients (interp edges / causal warm-up)."""
    w, po, causal = p["window"], p["polyorder"], p["causal"]
    T, N, _ = x.shape
    m = w // 2
    rows = []   # (start, coefficients) per output frame
    for i in range(T):
        if causal:
            L = min(i + 1, w)
            c = savgol_coeffs(L, min(po, L - 1), pos=L - 1, use="dot") if L > 1 else np.ones(1)
            rows.append((i - L + 1, c.tolist()))
        elif i < m:
            rows.append((0, savgol_coeffs(w, po, pos=i, use="dot").tolist()))
        elif i >= T - m:
            rows.append((T - w, savgol_coeffs(w, po, pos=i - (T - w), use="dot").tolist()))
        else:
            rows.append((i - m, savgol_coeffs(w, po, use="dot").tolist()))
    y = np.empty_like(x)
    for k in range(N):
        for c in range(2):
            col = x[:, k, c].tolist()
            for i, (a, coef) in enumerate(rows):
                acc = 0.0
                for j, cj in enumerate(coef):
                    acc += cj * col[a + j]
                y[i, k, c] = acc
    return y


CASES = [  # (label, spec, scalar baseline, baseline params)
    ("one-euro", "one-euro:beta=0.05,normalize=false", scalar_one_euro,
     dict(min_cutoff=1.0, beta=0.05, d_cutoff=1.0)),
    ("kalman", "kalman:q=20000,r=4,normalize=false", scalar_kalman, dict(q=20000.0, r=4.0)),
    ("kalman-rts", "kalman-rts:q=20000,r=4,normalize=false",
     lambda x, t, p: scalar_kalman(x, t, p, smooth=True), dict(q=20000.0, r=4.0)),
    ("ema", "ema:alpha=0.4", scalar_ema, dict(alpha=0.4)),
    ("savgol", "savgol", scalar_savgol, dict(window=11, polyorder=2, causal=False)),
    ("savgol causal", "savgol:causal=true", scalar_savgol,
     dict(window=11, polyorder=2, causal=True)),
]


def clip(T: int, N: int = 98, seed: int = 0) -> np.ndarray:
    """A noisy moving face track in pixels."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(-100, 100, (1, N, 2))
    k = np.arange(T)[:, None, None]
    return 400 + base + 30 * np.sin(k / 9.0) + rng.normal(0, 1.5, (T, N, 2))


def main() -> None:
    """Run the timings, print the tables, write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-sets", action="store_true", help="skip the dataset-sized timings")
    args = ap.parse_args()
    x, t = clip(150), np.arange(150) / FPS
    rep = Report("filters", "vectorised temporal filters vs a per-scalar Python loop",
                 params={"clip": "[150, 98, 2]", "repeat": args.repeat})
    tab = rep.table(["filter", "vectorised", "scalar loop", "ratio"],
                    title="one clip [150, 98, 2]", baseline="per-scalar loop of the same equations")
    agree = rep.table(["filter", "max abs diff (px)"], title="agreement with the scalar loop")
    for label, spec, scalar, p in CASES:
        f = create(spec)
        tv = best_of(lambda: f(x, t), max(args.repeat, 5))
        ts = best_of(lambda: scalar(x, t, p), args.repeat)
        diff = float(np.abs(f(x, t) - scalar(x, t, p)).max())
        tab.row([label, tv.cell("ms"), ts.cell("ms"), ts.best / tv.best], target=Target(">=", 100, unit="x"),
                value=ts.best / tv.best)
        agree.row([label, diff], target=Target("<=", 1e-9))
    rep.legend("ratio", "scalar-loop time over vectorised time (best runs)")
    if not args.no_sets:
        sets = {"demo 20x60": [clip(60, seed=s) for s in range(20)],
                "WFLW-V 1000x138": [clip(138, seed=s % 50) for s in range(1000)]}
        st = rep.table(["filter (defaults)"] + [f"{k}" for k in sets], title="whole sets (seconds, one run)")
        for spec in ("none", "one-euro:beta=0.05", "kalman", "kalman-rts", "ema", "savgol", "savgol:causal=true"):
            f = create(spec)
            row = []
            for clips in sets.values():
                tt = [np.arange(len(c)) / FPS for c in clips]
                row.append(best_of(lambda: [f(c, ti) for c, ti in zip(clips, tt)], 1))
            st.row([spec] + row)
    rep.finish()


if __name__ == "__main__":
    main()
