"""GT-free stability (``metrics.md`` §6–7) of cached clip predictions, with filters on or off.

A **segment** is a maximal run of frames that all have a face, with no scene cut and no new track
inside. D1 (mean ‖p_t − p_{t−1}‖ / s_t) and D2 (mean ‖p_{t+1} − 2p_t + p_{t−1}‖ / s_t, the primary
GT-free metric) and their RMS variants use only differences whose frames lie in one segment;
``s_t`` is the model's own predicted eye-corner distance (``ioc``) or the landmark-box face size
(``fs``) at frame t. Per-clip values pool all valid differences of the clip; a clip without any
valid difference is skipped and counted. Filters run per segment (fresh state at every break).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

JITTER_IMPL = "wflwv.realvideo.stability@1"


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


def normaliser(x: np.ndarray, kind: str, pair: Tuple[int, int]) -> np.ndarray:
    """Per-frame ``s_t`` for ``[T, N, 2]`` points: ``ioc`` (distance of ``pair``) or ``fs``."""
    if kind == "ioc":
        s = np.linalg.norm(x[:, pair[0]] - x[:, pair[1]], axis=-1)
    elif kind == "fs":
        ext = x.max(axis=1) - x.min(axis=1)
        s = np.sqrt(ext[:, 0] * ext[:, 1])
    else:
        raise ValueError(f"normaliser {kind!r} must be 'ioc' or 'fs'")
    if not np.all(s > 0):
        raise ValueError(f"normaliser {kind} is not positive on frame(s) "
                         f"{np.flatnonzero(~(s > 0))[:5].tolist()} of a segment")
    return s


def segment_terms(x: np.ndarray, kind: str, pair: Tuple[int, int]) -> Dict[str, float]:
    """Sums/counts of normalised first and second differences over one segment ``[L, N, 2]``."""
    x = np.asarray(x, np.float64)
    s = normaliser(x, kind, pair)
    d1 = np.linalg.norm(x[1:] - x[:-1], axis=-1) / s[1:, None] if len(x) > 1 else np.zeros((0, 1))
    d2 = (np.linalg.norm(x[2:] - 2 * x[1:-1] + x[:-2], axis=-1) / s[1:-1, None]
          if len(x) > 2 else np.zeros((0, 1)))
    return {"n1": d1.size, "s1": float(d1.sum()), "q1": float((d1 ** 2).sum()),
            "n2": d2.size, "s2": float(d2.sum()), "q2": float((d2 ** 2).sum())}


def finish(terms: Dict[str, float]) -> Dict[str, float]:
    """D1, D2, D1rms, D2rms (fractions) from pooled sums; NaN where there is no difference."""
    def ratio(a: float, n: float) -> float:
        return a / n if n else float("nan")

    return {"D1": ratio(terms["s1"], terms["n1"]), "D2": ratio(terms["s2"], terms["n2"]),
            "D1rms": float(np.sqrt(ratio(terms["q1"], terms["n1"]))),
            "D2rms": float(np.sqrt(ratio(terms["q2"], terms["n2"])))}


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
    for spec in filters:
        x = apply_filter(spec, pred, t, found, breaks)
        pooled = {k: {"n1": 0, "s1": 0.0, "q1": 0.0, "n2": 0, "s2": 0.0, "q2": 0.0} for k in kinds}
        for j, (a, b) in enumerate(segs):
            row: Dict[str, Any] = {"filter": spec, "segment": j, "start": a, "stop": b,
                                   "n_frames": b - a}
            for k in kinds:
                terms = segment_terms(x[a:b], k, pair)
                for key in pooled[k]:
                    pooled[k][key] += terms[key]
                row.update({f"{m}_{k}": v for m, v in finish(terms).items()})
            seg_rows.append(row)
        crow: Dict[str, Any] = {"filter": spec, "n_frames": T, "n_found": int(found.sum()),
                                "coverage": float(found.mean()) if T else 0.0,
                                "n_segments": len(segs), "n_cuts": int(res["cut"].sum()),
                                "n_diffs": pooled[kinds[0]]["n1"]}
        for k in kinds:
            crow.update({f"{m}_{k}": v for m, v in finish(pooled[k]).items()})
        crow["scored"] = bool(pooled[kinds[0]]["n2"] > 0)
        clip_rows.append(crow)
    return seg_rows, clip_rows


def _timestamps(t: Optional[np.ndarray], T: int) -> Optional[np.ndarray]:
    """Decoder times when strictly increasing, else None (filters then use frame indices)."""
    if t is None or len(t) != T or T < 2:
        return None
    t = np.asarray(t, np.float64)
    return t if np.all(np.isfinite(t)) and np.all(np.diff(t) > 0) else None
