"""Responsiveness of a landmark track: lag (frames), a zero-lag reference and the distance to it.

The maths of the lag-aware GT-free protocol (``docs/gt_free_protocol.md``). Every function works
on all videos of a split at once (``[F, N, 2]`` arrays plus ``offsets`` ``[V+1]``, as in
:mod:`wflwv.metrics.ragged`) and never looks across a segment boundary: a new video, an invalid
frame or a ``breaks`` frame (cut, new track) starts a segment, exactly as in
:func:`wflwv.metrics.jitter.jitter`.

* :func:`zero_lag_reference` — a centred, symmetric smoother of the raw detections (Gaussian
  weighted local-linear regression inside each segment): zero phase in the interior, unbiased for
  constant-velocity motion up to the segment edges.
* :func:`delay_terms` / :func:`solve_delay` — the delay ``tau`` (frames, sub-frame) that best
  explains a track ``x`` as a delayed copy of a reference ``r``:
  ``tau = argmin_tau sum_t sum_l |x_t,l - r(t - tau)_l|^2 / s_t^2`` with ``r`` linearly
  interpolated between frames and ``tau`` in ``[-max_lag, max_lag]``. The objective is piecewise
  quadratic in ``tau``, so the minimum is exact (no grid search). Positive: ``x`` is late.
  The per-video terms add up, so a pooled lag over any set of videos is :func:`solve_delay` of
  their summed terms (longer and faster-moving videos weigh more; static ones carry no weight).
* :func:`ref_distance` — mean landmark distance of ``x`` to the reference, in percent of the
  reference's face size sqrt(w*h) (an NME-fs against the reference).
* :func:`pareto_rank` — non-dominated sorting on (jitter, |lag|) for the GT-free board.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from wflwv.metrics.ragged import _mask, _points, check_offsets

DEFAULT_MAX_LAG = 10        # frames searched on either side (segments shorter than 2K+1 do not count)
DEFAULT_SIGMA = 2.0         # frames, Gaussian bandwidth of the zero-lag reference


def segment_bounds(offsets: Sequence[int], valid: np.ndarray,
                   breaks: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(video [F], lo [F], hi [F])``: video of each frame and its segment's first / one-past-last row.

    Invalid frames get ``lo = hi = row`` (an empty segment).
    """
    valid = np.asarray(valid, bool)
    F = len(valid)
    off = check_offsets(offsets, F)
    breaks = _mask("breaks", breaks, F, False)
    vid = np.repeat(np.arange(len(off) - 1), np.diff(off))
    rows = np.arange(F)
    trans = valid & (rows > off[vid]) & ~breaks
    trans[1:] &= valid[:-1]
    if F:
        trans[0] = False
    start = valid & ~trans
    seg = np.cumsum(start) - 1
    starts = np.flatnonzero(start)
    lens = np.bincount(seg[valid], minlength=len(starts))
    lo, hi = rows.copy(), rows.copy()
    lo[valid] = starts[seg[valid]]
    hi[valid] = (starts + lens)[seg[valid]]
    return vid, lo, hi


def _prepare(name: str, x: np.ndarray, valid: Optional[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
    p = np.asarray(_points(name, x), dtype=np.float64)
    valid = _mask("valid", valid, len(p), True)
    bad = valid & ~np.isfinite(p).reshape(len(p), -1).all(1)
    if bad.any():
        raise ValueError(f"{name} contains NaN/inf at row {int(np.flatnonzero(bad)[0])}: mark the frame "
                         "invalid (valid=False) or drop it")
    return p, valid


def zero_lag_reference(raw: np.ndarray, offsets: Optional[Sequence[int]] = None,
                       valid: Optional[np.ndarray] = None, breaks: Optional[np.ndarray] = None,
                       sigma: float = DEFAULT_SIGMA) -> np.ndarray:
    """The zero-lag offline reference ``[F, N, 2]`` of raw detections (NaN on invalid frames).

    At frame t: the value at t of a straight line fitted (per coordinate) to the frames of t's
    segment within ``3 * sigma``, weighted by ``exp(-j^2 / (2 sigma^2))`` (j = offset from t).
    Symmetric weights make it a centred Gaussian average in the interior (no delay); near an edge
    the line extrapolates, so constant-velocity motion is reproduced exactly. A one-frame segment
    is its own reference. ``sigma <= 0`` returns the raw track.
    """
    p, valid = _prepare("raw", raw, valid)
    F = len(p)
    off = [0, F] if offsets is None else offsets
    _, lo, hi = segment_bounds(off, valid, breaks)
    out = np.where(valid[:, None, None], p, np.nan)
    if sigma <= 0 or F == 0:
        return out
    H = int(np.ceil(3.0 * sigma))
    D = p.shape[1] * 2
    flat = np.where(valid[:, None], p.reshape(F, D), 0.0)
    pad = np.zeros((F + 2 * H, D))
    pad[H:H + F] = flat
    rows = np.arange(F)
    # the slope term only matters where the window is cut by a segment edge (elsewhere s1 = 0)
    E = np.flatnonzero(valid & ((rows - H < lo) | (rows + H >= hi)))
    s0, s1, s2 = np.zeros(F), np.zeros(F), np.zeros(F)
    y0, y1 = np.zeros((F, D)), np.zeros((F, D))
    tmp = np.empty((F, D))
    for j in range(-H, H + 1):
        ok = valid & (rows + j >= lo) & (rows + j < hi)
        w = np.where(ok, np.exp(-0.5 * (j / sigma) ** 2), 0.0)
        s0 += w
        s1 += w * j
        s2 += w * j * j
        np.multiply(pad[H + j:H + j + F], w[:, None], out=tmp)   # frames t + j, weighted (0 outside)
        y0 += tmp
        if j:
            y1[E] += j * tmp[E]
    det = s0 * s2 - s1 * s1
    line = valid & (det > 1e-9 * np.maximum(s0 * s2, 1e-300))
    with np.errstate(invalid="ignore", divide="ignore"):
        fit = ((s2[:, None] * y0 - s1[:, None] * y1) / det[:, None]).reshape(p.shape)
    return np.where(line[:, None, None], fit, out)


def _face_size(r: np.ndarray) -> np.ndarray:
    w = r[..., 0].max(-1) - r[..., 0].min(-1)
    h = r[..., 1].max(-1) - r[..., 1].min(-1)
    return np.sqrt(w * h)


def delay_terms(x: np.ndarray, ref: np.ndarray, offsets: Optional[Sequence[int]] = None,
                valid: Optional[np.ndarray] = None, breaks: Optional[np.ndarray] = None,
                max_lag: int = DEFAULT_MAX_LAG) -> Dict[str, np.ndarray]:
    """Per-video sufficient statistics of the delay fit of ``x`` against ``ref`` (both ``[F, N, 2]``).

    A frame t counts when frames ``t - max_lag .. t + max_lag`` all lie in t's segment. With
    ``d_n(t) = x_t - ref_{t-n}`` and ``s_t`` the face size of ``ref_t``: ``P[v, n + K] =
    sum_t |d_n|^2 / s_t^2`` (n = -K..K) and ``Q[v, n + K] = sum_t d_n . d_{n+1} / s_t^2``
    (n = -K..K-1). Returns ``P [V, 2K+1]``, ``Q [V, 2K]``, ``n_used [V]``; sums over videos are valid
    terms of the pooled fit (see :func:`solve_delay`).
    """
    K = int(max_lag)
    if K < 1:
        raise ValueError(f"max_lag must be >= 1 frame, got {max_lag!r}")
    xp, valid = _prepare("x", x, valid)
    r = np.asarray(_points("ref", ref), dtype=np.float64)
    if r.shape != xp.shape:
        raise ValueError(f"x {xp.shape} and ref {r.shape} must have the same shape")
    _, rv = _prepare("ref", r, valid)
    F = len(xp)
    off = check_offsets([0, F] if offsets is None else offsets, F)
    V = len(off) - 1
    vid, lo, hi = segment_bounds(off, rv, breaks)
    rows = np.arange(F)
    used = rv & (rows - K >= lo) & (rows + K < hi)
    t = np.flatnonzero(used)
    s = _face_size(r[t])
    bad = ~(np.isfinite(s) & (s > 0))
    if bad.any():
        raise ValueError(f"reference face size is {s[bad][0]!r} at row {int(t[bad][0])}: degenerate landmarks; "
                         "mark the frame invalid")
    w = 1.0 / (s * s)
    D = xp.shape[1] * 2
    X, R = xp.reshape(F, D), r.reshape(F, D)
    # |r_s - r_{s-1}|^2 per frame: with it, Q follows from P (d_n - d_{n+1} = r_{t-n-1} - r_{t-n})
    dr = np.zeros(F)
    if F > 1:
        diff = R[1:] - R[:-1]
        dr[1:] = np.einsum("ij,ij->i", diff, diff)
    P = np.zeros((V, 2 * K + 1))
    DR = np.zeros((V, 2 * K))
    Xt = X[t]
    for i, n in enumerate(range(-K, K + 1)):
        d = Xt - R[t - n]
        P[:, i] = np.bincount(vid[t], w * np.einsum("ij,ij->i", d, d), V)
        if i < 2 * K:
            DR[:, i] = np.bincount(vid[t], w * dr[t - n], V)
    Q = 0.5 * (P[:, :-1] + P[:, 1:] - DR)
    return {"P": P, "Q": Q, "n_used": np.bincount(vid[t], minlength=V).astype(np.int64)}


def solve_delay(P: np.ndarray, Q: np.ndarray) -> Dict[str, np.ndarray]:
    """The exact minimiser ``tau`` (frames) of the piecewise-quadratic delay objective of :func:`delay_terms`.

    ``P [..., 2K+1]``, ``Q [..., 2K]`` (one row per video, or summed rows for a pooled fit).
    On ``[n, n+1]`` the objective is ``A + 2 f B + f^2 C`` (``f = tau - n``, ``A = P_n``,
    ``B = Q_n - P_n``, ``C = P_n - 2 Q_n + P_{n+1}``). Ties go to the integer node, so ``x == ref``
    gives exactly 0 and a pure k-frame delay exactly k. Returns ``lag`` (NaN when nothing moved or
    no frame counted), ``censored`` (the minimum sits on ``+-max_lag``: the true lag may be larger)
    and ``objective`` (its value).
    """
    P = np.asarray(P, np.float64)
    Q = np.asarray(Q, np.float64)
    K = (P.shape[-1] - 1) // 2
    A, A1 = P[..., :-1], P[..., 1:]
    B = Q - A
    C = np.maximum(A - 2.0 * Q + A1, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(C > 0, np.clip(-B / C, 0.0, 1.0), 0.0)
    E = A + 2.0 * f * B + f * f * C
    node = np.argmin(P, axis=-1)
    e_node = np.take_along_axis(P, node[..., None], -1)[..., 0]
    seg = np.argmin(E, axis=-1)
    e_seg = np.take_along_axis(E, seg[..., None], -1)[..., 0]
    f_seg = np.take_along_axis(f, seg[..., None], -1)[..., 0]
    better = e_seg < e_node - 1e-12 * np.maximum(P.max(-1), 1e-300)
    lag = np.where(better, seg - K + f_seg, node - K).astype(np.float64)
    moving = C.sum(-1) > 0
    lag = np.where(moving, lag, np.nan)
    return {"lag": lag, "censored": moving & (np.abs(lag) >= K), "objective": np.minimum(e_seg, e_node)}


def lag_frames(x: np.ndarray, ref: np.ndarray, offsets: Optional[Sequence[int]] = None,
               valid: Optional[np.ndarray] = None, breaks: Optional[np.ndarray] = None,
               max_lag: int = DEFAULT_MAX_LAG) -> np.ndarray:
    """Per-video delay (frames, positive = late) of ``x`` behind ``ref``; NaN where undefined."""
    t = delay_terms(x, ref, offsets, valid, breaks, max_lag)
    return solve_delay(t["P"], t["Q"])["lag"]


def ref_distance(x: np.ndarray, ref: np.ndarray, offsets: Optional[Sequence[int]] = None,
                 valid: Optional[np.ndarray] = None) -> np.ndarray:
    """Per-video mean over valid frames of mean_l |x - ref| / sqrt(w*h of ref), in percent (NaN: no frame)."""
    xp, valid = _prepare("x", x, valid)
    r, valid = _prepare("ref", ref, valid)
    if r.shape != xp.shape:
        raise ValueError(f"x {xp.shape} and ref {r.shape} must have the same shape")
    F = len(xp)
    off = check_offsets([0, F] if offsets is None else offsets, F)
    V = len(off) - 1
    vid = np.repeat(np.arange(V), np.diff(off))
    t = np.flatnonzero(valid)
    s = _face_size(r[t])
    bad = ~(np.isfinite(s) & (s > 0))
    if bad.any():
        raise ValueError(f"reference face size is {s[bad][0]!r} at row {int(t[bad][0])}: mark the frame invalid")
    e = np.sqrt(((xp[t] - r[t]) ** 2).sum(-1)).mean(-1) / s
    n = np.bincount(vid[t], minlength=V)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 100.0 * np.bincount(vid[t], e, V) / n
    out[n == 0] = np.nan
    return out


def frame_interval_s(times: np.ndarray, offsets: Sequence[int], valid: Optional[np.ndarray] = None,
                     breaks: Optional[np.ndarray] = None) -> np.ndarray:
    """Per-video median interval (s) between consecutive frames of one segment (NaN: none)."""
    tm = np.asarray(times, np.float64)
    valid = _mask("valid", valid, len(tm), True) & np.isfinite(tm)
    vid, lo, _ = segment_bounds(offsets, valid, breaks)
    V = len(np.asarray(offsets)) - 1
    rows = np.arange(len(tm))
    step = valid & (rows > lo)
    dt = np.full(len(tm), np.nan)
    dt[1:] = tm[1:] - tm[:-1]
    step &= dt > 0
    out = np.full(V, np.nan)
    for v in np.unique(vid[step]):
        out[v] = float(np.median(dt[step & (vid == v)]))
    return out


def pareto_rank(jitter: Sequence[float], lag: Sequence[float]) -> np.ndarray:
    """Non-dominated sorting on (jitter, |lag|), both lower-is-better: 0 = the front, 1 = next, ...

    Row a dominates b when it is no worse on both and better on one. A NaN in either makes the
    row unrankable (-1).
    """
    j = np.asarray(jitter, np.float64)
    g = np.abs(np.asarray(lag, np.float64))
    rank = np.full(len(j), -1, np.int64)
    left = np.isfinite(j) & np.isfinite(g)
    level = 0
    while left.any():
        idx = np.flatnonzero(left)
        jj, gg = j[idx], g[idx]
        dom = ((jj[None, :] <= jj[:, None]) & (gg[None, :] <= gg[:, None])
               & ((jj[None, :] < jj[:, None]) | (gg[None, :] < gg[:, None])))
        front = idx[~dom.any(1)]
        rank[front] = level
        left[front] = False
        level += 1
    return rank


__all__ = ["DEFAULT_MAX_LAG", "DEFAULT_SIGMA", "delay_terms", "frame_interval_s", "lag_frames",
           "pareto_rank", "ref_distance", "segment_bounds", "solve_delay", "zero_lag_reference"]
