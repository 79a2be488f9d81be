"""Paired comparisons on each board: every filtered row vs its unfiltered row, every pair of models.

Per-video values come from each run's ``video_metrics.parquet``; the statistics from
:func:`wflwv.metrics.paired.paired_bootstrap` (seeded, ``docs/paired_bootstrap.md``). Deltas are
``A − B`` (filtered − unfiltered; model A − model B with A before B alphabetically): a negative
NMF delta means A is steadier.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from wflwv.leaderboard.rows import board_id, board_key
from wflwv.metrics.paired import LEVEL, N_BOOT, SEED, align_videos, paired_bootstrap

METRICS = ("nme_io", "nmf")
PAIRED_COLUMNS = ["board", "kind", "dataset", "subset", "metric", "row_a", "row_b", "model_a", "filter_a", "model_b",
                  "filter_b", "delta", "ci_lo", "ci_hi", "excludes_zero", "n_videos", "n_videos_a", "n_videos_b",
                  "n_boot", "seed", "level"]


class VideoValues:
    """Per-video metric values of run rows, read once per run from ``video_metrics.parquet``."""

    def __init__(self) -> None:
        self._tables: Dict[str, Optional[object]] = {}

    def _table(self, run: str):
        if run not in self._tables:
            import pandas as pd

            p = Path(run) / "video_metrics.parquet"
            self._tables[run] = pd.read_parquet(p) if p.is_file() else None
        return self._tables[run]

    def get(self, run: str, filter_id: str, subset: str, metric: str) -> Optional[Dict[str, float]]:
        """``{video_id: value}`` (NaN where skipped) or None when the run has no per-video table."""
        t = self._table(run)
        if t is None:
            return None
        sel = t["filter"] == filter_id
        if subset != "all":
            sel &= t["subset"] == subset
        part = t[sel]
        vals = part[metric].to_numpy(np.float64).copy()
        if metric == "nmf" and "skipped" in part:
            vals[part["skipped"].to_numpy(bool)] = np.nan
        return dict(zip(part["video_id"].astype(str), vals))


def _compare(values: VideoValues, a, b, kind: str, board: str, n_boot: int, seed: int) -> List[dict]:
    out = []
    for metric in METRICS:
        va = values.get(a["run"], a["filter_id"], a["subset"], metric)
        vb = values.get(b["run"], b["filter_id"], b["subset"], metric)
        if va is None or vb is None:
            continue
        ids, xa, xb = align_videos(va, vb)
        if not ids:
            continue
        res = paired_bootstrap(xa, xb, n_boot=n_boot, seed=seed)
        out.append({"board": board, "kind": kind, "dataset": a["dataset"], "subset": a["subset"], "metric": metric,
                    "row_a": a["row_id"], "row_b": b["row_id"], "model_a": a["model"], "filter_a": a["filter"],
                    "model_b": b["model"], "filter_b": b["filter"], "delta": res.delta, "ci_lo": res.lo,
                    "ci_hi": res.hi, "excludes_zero": res.excludes_zero, "n_videos": res.n_videos,
                    "n_videos_a": int(np.isfinite(list(va.values())).sum()),
                    "n_videos_b": int(np.isfinite(list(vb.values())).sum()),
                    "n_boot": res.n_boot, "seed": res.seed, "level": res.level})
    return out


def paired_table(df, n_boot: int = N_BOOT, seed: int = SEED):
    """All paired comparisons of the measured rows of ``df`` (needs ``row_id``) as a DataFrame."""
    import pandas as pd

    values = VideoValues()
    out: List[dict] = []
    own = df[df["source"] == "wflwv"]
    keys = own.apply(board_key, axis=1)
    for key in dict.fromkeys(keys):
        g = own[keys == key]
        bid = board_id(key)
        for _, grp in g.groupby("run", sort=True):  # filtered vs unfiltered within one run
            base = grp[grp["filter_id"] == "none"]
            if base.empty:
                continue
            for _, r in grp[grp["filter_id"] != "none"].iterrows():
                out += _compare(values, r, base.iloc[0], "filter_vs_unfiltered", bid, n_boot, seed)
        by_filter: Dict[str, List[Tuple[str, object]]] = {}
        for _, r in g.iterrows():
            by_filter.setdefault(r["filter_id"], []).append((str(r["model"]), r))
        for fid, members in by_filter.items():  # every pair of models with the same filter
            members.sort(key=lambda m: (m[0], str(m[1]["run"])))
            for (_, a), (_, b) in combinations(members, 2):
                out += _compare(values, a, b, "model_vs_model", bid, n_boot, seed)
    return pd.DataFrame(out, columns=PAIRED_COLUMNS)


def attach_vs_unfiltered(df, paired) -> None:
    """Add ``d<metric>_vs_unfiltered`` (+ ``_lo``/``_hi``) columns to ``df`` in place."""
    fv = paired[paired["kind"] == "filter_vs_unfiltered"] if len(paired) else paired
    for metric in METRICS:
        m = fv[fv["metric"] == metric].set_index("row_a") if len(fv) else None
        for suffix, col in (("", "delta"), ("_lo", "ci_lo"), ("_hi", "ci_hi")):
            name = f"d{metric}_vs_unfiltered{suffix}"
            df[name] = df["row_id"].map(m[col]) if m is not None else np.nan


__all__ = ["LEVEL", "METRICS", "PAIRED_COLUMNS", "VideoValues", "attach_vs_unfiltered", "paired_table"]
