"""The GT-free leaderboard section: a Pareto view of jitter against lag (docs/gt_free_protocol.md §4).

Rows compared with each other are the filters of one detector on one index (dataset, subset,
model, index fingerprint, box source), online (causal, with ``none``) and offline smoothers apart.
Each gets its rank in non-dominated sorting on (``jitter_d2``, ``|lag_frames|``) — 0 is the front —
and rows are listed online first, then front first, then by ``ref_dist`` (distance to the zero-lag
reference). ``none`` has lag exactly 0, so no online filter can push it off the front unless it is
lag-free too, and within the front it is listed above any filter farther from the reference: lower
jitter alone never lifts a filter above ``none``.
"""

from __future__ import annotations

from typing import List

import numpy as np

from wflwv.metrics.lag import pareto_rank


GROUP = ("dataset", "subset", "model", "index_fingerprint", "box_source")


def with_pareto(df):
    """``df`` plus a ``pareto_rank`` column (per detector, index and causality) sorted as the board shows it."""
    import pandas as pd

    df = df.assign(_online=df["causal"].map(lambda v: str(v).lower() == "true").astype(bool))
    keys = [c for c in GROUP if c in df.columns]
    parts = []
    for _, g in df.groupby([df[k].astype(str) for k in keys], sort=True):
        for online in (True, False):
            h = g[g["_online"] == online].copy()
            if h.empty:
                continue
            h["pareto_rank"] = pareto_rank(h["jitter_d2"].astype(float), h["lag_frames"].astype(float))
            h["_r"] = np.where(h["pareto_rank"] < 0, np.iinfo(np.int64).max, h["pareto_rank"])
            parts.append(h.sort_values(["_r", "ref_dist"], kind="stable").drop(columns="_r"))
    out = pd.concat(parts) if parts else df.assign(pareto_rank=pd.Series(dtype=np.int64))
    return out.drop(columns="_online")


def _fmt(v, spec: str) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "–"
    return format(f, spec) if np.isfinite(f) else "–"


def gt_free_markdown(df, title: str = "") -> List[str]:
    """Markdown lines of the GT-free section of one board's rows ``df`` (``title`` names the board)."""
    if df.empty:
        return []
    board = with_pareto(df)
    head = ("| model | filter | causal | Pareto | D2 % ↓ | D1 % | lag frames | lag ms | ref dist % ↓ | "
            "coverage | tracks | videos |")
    lines = [f"## {title or 'GT-free'} · GT-free: jitter vs lag", "",
             "Filters of one model are compared on two axes: D2 jitter and the lag they add "
             "(frames, fitted against a zero-lag offline smoothing of the raw detections). "
             "`Pareto` front = not beaten on both at once; rows follow the front, then the distance to "
             "that reference. A lower D2 bought with lag is a trade-off, not a win "
             "(docs/gt_free_protocol.md).", "", head, "|" + "---|" * 12]
    for _, r in board.iterrows():
        rank = int(r["pareto_rank"])
        lag = _fmt(r["lag_frames"], ".2f") + (" ≥" if str(r.get("lag_censored", "")).lower() == "true" else "")
        lines.append(f"| {r['model']} | {r['filter']} | {'yes' if bool(r['causal']) else 'no'} | "
                     f"{'front' if rank == 0 else (rank if rank > 0 else '–')} | "
                     f"{_fmt(r['jitter_d2'], '.3f')} | {_fmt(r['jitter_d1'], '.3f')} | {lag} | "
                     f"{_fmt(r['lag_ms'], '.1f')} | {_fmt(r['ref_dist'], '.3f')} | "
                     f"{_fmt(r.get('coverage'), '.3f')} | {_fmt(r.get('n_tracks'), '.0f')} | "
                     f"{_fmt(r.get('n_videos'), '.0f')} |")
    return lines + [""]


__all__ = ["gt_free_markdown", "with_pareto"]
