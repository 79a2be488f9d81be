"""Per-video and aggregate columns of the lag-aware GT-free protocol (``docs/gt_free_protocol.md``).

For one chunk of concatenated videos, :func:`make_reference` builds what every filter is compared
with (the zero-lag reference of the raw detections, and the GT when the index has it);
:func:`video_stability` scores one filtered track against it and :func:`aggregate_stability`
turns the per-video terms of any set of videos into the result-row columns:

* ``jitter_d1``, ``jitter_d2`` — D1 / D2 of the filtered track (:func:`wflwv.metrics.jitter.jitter`,
  face-size normaliser), in percent of the face size, macro mean over videos.
* ``lag_frames`` — the delay the filter adds: ``tau(filtered) - tau(raw)``, both fitted against
  the GT on labelled data and against the zero-lag reference on GT-free data (pooled over the
  videos). Exactly 0 for ``none``; positive = late.
* ``lag_ms`` — ``lag_frames`` times the median frame interval of the videos (from the index
  timestamps).
* ``lag_ref_frames`` — the same delay fitted against the zero-lag reference, on every row (on a
  labelled index it is the GT-free estimate that ``lag_frames`` validates).
* ``ref_dist`` — mean distance of the filtered track to the zero-lag reference, percent of the
  reference face size (macro mean over videos).
* ``lag_censored`` — a fit hit ``+-max_lag``: the lag may be larger than reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

import numpy as np

from wflwv.metrics.lag import (DEFAULT_MAX_LAG, DEFAULT_SIGMA, delay_terms, frame_interval_s, ref_distance,
                               solve_delay, zero_lag_reference)

STABILITY_COLUMNS = ("jitter_d1", "jitter_d2", "lag_frames", "lag_ms", "lag_ref_frames", "ref_dist",
                     "lag_censored")
_TERMS = ("ref_P", "ref_Q", "raw_ref_P", "raw_ref_Q", "gt_P", "gt_Q", "raw_gt_P", "raw_gt_Q")


@dataclass
class Reference:
    """What every filtered track of one chunk is compared with (shared by all filters)."""

    raw: np.ndarray                   # [F, N, 2] unfiltered detections (NaN where no face)
    ref: np.ndarray                   # [F, N, 2] zero-lag reference of ``raw``
    offsets: np.ndarray               # [V + 1]
    valid: np.ndarray                 # [F] frames that count
    breaks: Optional[np.ndarray]      # [F] frames that start a segment (cuts, new tracks)
    dt: np.ndarray                    # [V] median frame interval, seconds
    gt: Optional[np.ndarray] = None   # [F, N, 2] or None (GT-free index)
    raw_terms: Optional[Dict[str, np.ndarray]] = None
    max_lag: int = DEFAULT_MAX_LAG


def make_reference(raw: np.ndarray, offsets: np.ndarray, valid: np.ndarray, times: np.ndarray,
                   breaks: Optional[np.ndarray] = None, gt: Optional[np.ndarray] = None,
                   sigma: float = DEFAULT_SIGMA, max_lag: int = DEFAULT_MAX_LAG) -> Reference:
    """The zero-lag reference of ``raw`` plus the raw track's own delay terms (against it and the GT)."""
    valid = np.asarray(valid, bool)
    raw0 = np.where(valid[:, None, None], raw, 0.0)
    ref = zero_lag_reference(raw0, offsets, valid, breaks, sigma)
    r = Reference(raw=raw0, ref=np.where(valid[:, None, None], ref, 0.0), offsets=np.asarray(offsets),
                  valid=valid, breaks=breaks, dt=frame_interval_s(times, offsets, valid, breaks),
                  gt=None if gt is None else np.where(valid[:, None, None], gt, 0.0), max_lag=int(max_lag))
    r.raw_terms = _terms(r, r.raw)
    return r


def _terms(r: Reference, x: np.ndarray) -> Dict[str, np.ndarray]:
    out = {}
    for name, target in (("ref", r.ref), ("gt", r.gt)):
        if target is None:
            continue
        t = delay_terms(x, target, r.offsets, r.valid, r.breaks, r.max_lag)
        out[f"{name}_P"], out[f"{name}_Q"] = t["P"], t["Q"]
    return out


def video_stability(r: Reference, filtered: np.ndarray) -> Dict[str, np.ndarray]:
    """Per-video columns (``jitter_d1``, ``jitter_d2``, ``ref_dist``, ``lag_frames``, ``lag_ref_frames``)
    plus the delay terms that :func:`aggregate_stability` pools."""
    from wflwv.metrics.jitter import jitter

    x = np.where(r.valid[:, None, None], filtered, 0.0)
    j = jitter(x, r.offsets, normalizer="fs", valid=r.valid, breaks=r.breaks)
    out: Dict[str, np.ndarray] = {"jitter_d1": 100.0 * j["d1"], "jitter_d2": 100.0 * j["d2"],
                                  "ref_dist": ref_distance(x, r.ref, r.offsets, r.valid), "dt_s": r.dt}
    terms = _terms(r, x)
    for name in ("ref", "gt"):
        if f"{name}_P" not in terms:
            continue
        out[f"{name}_P"], out[f"{name}_Q"] = terms[f"{name}_P"], terms[f"{name}_Q"]
        out[f"raw_{name}_P"], out[f"raw_{name}_Q"] = r.raw_terms[f"{name}_P"], r.raw_terms[f"{name}_Q"]
    lag, cens = _lag(out, "ref")
    out["lag_ref_frames"] = lag
    out["lag_frames"], c2 = _lag(out, "gt") if r.gt is not None else (lag, cens)
    out["lag_censored"] = cens | c2
    return out


def _lag(terms: Dict[str, np.ndarray], name: str, rows: Any = slice(None), pooled: bool = False):
    P, Q = terms[f"{name}_P"][rows], terms[f"{name}_Q"][rows]
    P0, Q0 = terms[f"raw_{name}_P"][rows], terms[f"raw_{name}_Q"][rows]
    if pooled:
        P, Q, P0, Q0 = (a.sum(0) for a in (P, Q, P0, Q0))
    a, b = solve_delay(P, Q), solve_delay(P0, Q0)
    return a["lag"] - b["lag"], a["censored"] | b["censored"]


def aggregate_stability(per_video: Dict[str, np.ndarray], videos: np.ndarray) -> Dict[str, Any]:
    """Result-row columns over the video positions ``videos`` (pooled lag, macro jitter / ref_dist)."""
    videos = np.asarray(videos, np.int64)

    def mean(k: str) -> float:
        v = np.asarray(per_video[k], np.float64)[videos]
        v = v[np.isfinite(v)]
        return float(v.mean()) if len(v) else float("nan")

    out: Dict[str, Any] = {"jitter_d1": mean("jitter_d1"), "jitter_d2": mean("jitter_d2"),
                           "ref_dist": mean("ref_dist")}
    if not len(videos):
        out.update(lag_frames=float("nan"), lag_ref_frames=float("nan"), lag_ms=float("nan"), lag_censored=False)
        return out
    lag_ref, cens = _lag(per_video, "ref", videos, pooled=True)
    lag, c2 = _lag(per_video, "gt", videos, pooled=True) if "gt_P" in per_video else (lag_ref, cens)
    dt = np.asarray(per_video["dt_s"], np.float64)[videos]
    dt = float(np.median(dt[np.isfinite(dt)])) if np.isfinite(dt).any() else float("nan")
    out.update(lag_frames=float(lag), lag_ref_frames=float(lag_ref), lag_ms=float(lag) * 1000.0 * dt,
               lag_censored=bool(cens | c2))
    return out


def stability_meta() -> Dict[str, Dict[str, Any]]:
    """Units, direction and aggregation of the result-row columns (``summary.json`` ``metrics``)."""
    def m(units: str, agg: str, normaliser: str = "none") -> Dict[str, Any]:
        return {"id": "gt_free_stability", "version": 1, "higher_is_better": False, "units": units,
                "normaliser": normaliser, "aggregation": agg, "coord_space": "frame_px"}

    return {"jitter_d1": m("percent", "macro_video", "fs (predicted landmark box)"),
            "jitter_d2": m("percent", "macro_video", "fs (predicted landmark box)"),
            "lag_frames": m("frames", "pooled_fit"), "lag_ms": m("ms", "pooled_fit"),
            "lag_ref_frames": m("frames", "pooled_fit"),
            "ref_dist": m("percent", "macro_video", "fs (zero-lag reference landmark box)")}


def video_columns(per_video: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """The 1-D per-video columns (for ``video_metrics.parquet``), without the pooled delay terms."""
    return {k: v for k, v in per_video.items() if k not in _TERMS}


__all__ = ["Reference", "STABILITY_COLUMNS", "aggregate_stability", "make_reference", "stability_meta",
           "video_columns", "video_stability"]
