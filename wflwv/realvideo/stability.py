"""GT-free stability (``metrics.md`` §6–7) of cached clip predictions, with filters on or off.

A **segment** is a maximal run of frames that all have a face, with no scene cut and no new track
inside. D1 (mean ‖p_t − p_{t−1}‖ / s_t) and D2 (mean ‖p_{t+1} − 2p_t + p_{t−1}‖ / s_t, the primary
GT-free metric) and their RMS variants use only differences whose frames lie in one segment;
``s_t`` is the model's own predicted eye-corner distance (``ioc``) or the landmark-box face size
(``fs``) at frame t. Per-clip values pool all valid differences of the clip; a clip without any
valid difference is skipped and counted. Filters run per segment (fresh state at every break).
The measures themselves are :func:`wflwv.metrics.jitter.jitter` (segments passed as ``breaks`` /
``offsets``); this module only decides the segments and applies the filters.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np



def segment_breaks(found: np.ndarray, cut: np.ndarray, new_track: np.ndarray) -> np.ndarray:
    """``[T]`` bool: True at the first frame of each segment (found, after a gap, cut or new track)."""
    found = np.asarray(found, bool)
    prev = np.concatenate([[False], found[:-1]])
    return found & (~prev | np.asarray(cut, bool) | np.asarray(new_track, bool))


def segments(found: np.ndarray, breaks: np.ndarray) -> List[Tuple[int, int]]:
    """``[(start, stop), …]`` half-open runs of found frames split at ``breaks``."""
    found = np.asarray(found, bool)
    out, a = [], None
    for t in range(len(found)):
        if a is not None and (not found[t] or breaks[t]):
            out.append((a, t))
            a = None
        if found[t] and a is None:
            a = t
    if a is not None:
        out.append((a, len(found)))
    return out


def _jitter(x: np.ndarray, kind: str, pair: Tuple[int, int], offsets=None, valid=None,
            breaks=None) -> Dict[str, np.ndarray]:
    from wflwv.metrics.jitter import jitter

    return jitter(x, offsets=offsets, normalizer=kind, pair=pair, valid=valid, breaks=breaks)


def _row(j: Dict[str, np.ndarray], i: int, kind: str) -> Dict[str, float]:
    return {f"D1_{kind}": float(j["d1"][i]), f"D2_{kind}": float(j["d2"][i]),
            f"D1rms_{kind}": float(j["d1rms"][i]), f"D2rms_{kind}": float(j["d2rms"][i])}


def apply_filter(spec: str, pred: np.ndarray, t: np.ndarray, found: np.ndarray,
                 breaks: np.ndarray) -> np.ndarray:
    """Filter ``pred`` per segment with the filter ``spec`` (``"none"`` returns it unchanged)."""
    if spec in ("none", "", None):
        return pred
    from wflwv.filters import apply_segments, create

    x = np.where(np.asarray(found, bool)[:, None, None], pred, np.nan)
    return apply_segments(create(spec), x, t, breaks=np.asarray(breaks, bool) | ~found)


def clip_stability(res: Dict[str, Any], filters: Sequence[str] = ("none",),
                   pair: Tuple[int, int] = (36, 45), kinds: Sequence[str] = ("ioc", "fs")
                   ) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """``(segment_rows, clip_rows)`` for one cached clip and each filter in ``filters``."""
    found, pred = res["found"].astype(bool), res["pred"]
    breaks = segment_breaks(found, res["cut"], res["new_track"])
    segs = segments(found, breaks)
    T = len(found)
    t = _timestamps(res.get("time_s"), T)
    seg_rows: List[Dict[str, Any]] = []
    clip_rows: List[Dict[str, Any]] = []
    offs = np.cumsum([0] + [b - a for a, b in segs])
    for spec in filters:
        x = apply_filter(spec, pred, t, found, breaks)
        xs = np.concatenate([x[a:b] for a, b in segs]) if segs else np.zeros((0,) + x.shape[1:])
        per_seg = {k: _jitter(xs, k, pair, offsets=offs) for k in kinds} if segs else {}
        for j, (a, b) in enumerate(segs):
            row: Dict[str, Any] = {"filter": spec, "segment": j, "start": a, "stop": b,
                                   "n_frames": b - a}
            for k in kinds:
                row.update(_row(per_seg[k], j, k))
            seg_rows.append(row)
        crow: Dict[str, Any] = {"filter": spec, "n_frames": T, "n_found": int(found.sum()),
                                "coverage": float(found.mean()) if T else 0.0,
                                "n_segments": len(segs), "n_cuts": int(res["cut"].sum()),
                                "n_diffs": 0, "scored": False}
        if segs:
            xv = np.where(found[:, None, None], x, 0.0)     # invalid rows are never read
            for k in kinds:
                jc = _jitter(xv, k, pair, valid=found, breaks=breaks)
                crow.update(_row(jc, 0, k))
            crow["n_diffs"] = int(jc["n_d1"][0]) * x.shape[1]
            crow["scored"] = bool(jc["n_d2"][0] > 0)
        else:
            crow.update({f"{m}_{k}": float("nan") for k in kinds for m in ("D1", "D2", "D1rms", "D2rms")})
        clip_rows.append(crow)
    return seg_rows, clip_rows


def _timestamps(t: Optional[np.ndarray], T: int) -> Optional[np.ndarray]:
    """Decoder times when strictly increasing, else None (filters then use frame indices)."""
    if t is None or len(t) != T or T < 2:
        return None
    t = np.asarray(t, np.float64)
    return t if np.all(np.isfinite(t)) and np.all(np.diff(t) > 0) else None
