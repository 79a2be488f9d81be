"""The GT-free leaderboard section: a Pareto view of jitter against lag (docs/gt_free_protocol.md §4).

Rows of one board (dataset, subset, model) are filters of the same detector. Each gets its rank
in non-dominated sorting on (``jitter_d2``, ``|lag_frames|``) — 0 is the front — and rows are
listed front first, then by ``ref_dist`` (distance to the zero-lag reference). ``none`` has lag
exactly 0, so a filter can only be listed above it by also being on the front and closer to the
reference: lower jitter alone never lifts a filter above ``none``.
"""

from __future__ import annotations

from typing import List

import numpy as np

from wflwv.metrics.lag import pareto_rank


def with_pareto(df):
    """``df`` plus a ``pareto_rank`` column (per dataset/subset/model) and sorted as the board shows it."""
    import pandas as pd

    parts = []
    for _, g in df.groupby(["dataset", "subset", "model"], sort=True):
        g = g.copy()
        g["pareto_rank"] = pareto_rank(g["jitter_d2"].astype(float), g["lag_frames"].astype(float))
        g["_r"] = np.where(g["pareto_rank"] < 0, np.iinfo(np.int64).max, g["pareto_rank"])
        parts.append(g.sort_values(["_r", "ref_dist"], kind="stable").drop(columns="_r"))
    return pd.concat(parts) if parts else df.assign(pareto_rank=pd.Series(dtype=np.int64))


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
