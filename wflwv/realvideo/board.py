"""GT-free leaderboard over real clips: per-clip / per-segment tables → CSV and Markdown.

One row per (model, filter): the macro mean over scored clips of the per-clip D1/D2 (fractions,
``ioc`` = own eye-corner normaliser, ``fs`` = landmark-box face size), coverage, and counts of clips
skipped (no face ever found, decode error, no valid difference). Rows carry ``cross_scheme`` /
``approx_map`` flags, the box source and the cut detector (name + threshold).
Only derived numbers are written — never media.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence

import numpy as np

METRIC_COLS = ("D2_ioc", "D1_ioc", "D2rms_ioc", "D1rms_ioc", "D2_fs", "D1_fs")


def stability_tables(runs: Iterable[Dict[str, Any]], filters: Sequence[str]):
    """``(clips_df, segments_df)`` from runs ``{"model", "meta": clip meta, "res": arrays or None}``."""
    import pandas as pd

    from wflwv.realvideo.stability import clip_stability

    clips: List[Dict[str, Any]] = []
    segs: List[Dict[str, Any]] = []
    for run in runs:
        meta, base = run["meta"], {"model": run["model"], "clip": run["meta"]["clip"],
                                   "cross_scheme": run.get("cross_scheme", False),
                                   "approx_map": run.get("approx_map", False)}
        if run.get("res") is None:
            for f in filters:
                clips.append({**base, "filter": f, "status": meta.get("status", "error"),
                              "error": meta.get("error", ""), "scored": False})
            continue
        srows, crows = clip_stability(run["res"], filters, pair=run["pair"])
        segs += [{**base, **r} for r in srows]
        for r in crows:
            status = meta.get("status", "ok") if r["scored"] else (
                "no_face" if r["n_found"] == 0 else "no_difference")
            clips.append({**base, **r, "status": status, "error": "", "fps": meta.get("fps"),
                          "ms_decode": meta.get("ms_decode"), "ms_detect": meta.get("ms_detect"),
                          "ms_predict": meta.get("ms_predict")})
    return pd.DataFrame(clips), pd.DataFrame(segs)


def leaderboard(clips_df, notes: Dict[str, str]) -> Any:
    """One row per (model, filter), sorted by macro D2 (ioc), lower is better."""
    import pandas as pd

    rows = []
    for (model, filt), g in clips_df.groupby(["model", "filter"], sort=False):
        sc = g[g["scored"].astype(bool)]
        row = {"model": model, "filter": filt, "clips": len(g), "scored": len(sc),
               "skipped": len(g) - len(sc),
               "coverage": float(g["coverage"].fillna(0).mean()) if "coverage" in g else 0.0}
        for c in METRIC_COLS:
            row[c] = float(sc[c].mean()) if len(sc) and c in sc else np.nan
        row["fps"] = float(sc["fps"].mean()) if len(sc) and "fps" in sc else np.nan
        row["cross_scheme"] = bool(g["cross_scheme"].any())
        row["approx_map"] = bool(g["approx_map"].any())
        row["setup"] = notes.get(model, "")
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["D2_ioc", "model", "filter"], na_position="last",
                                          kind="stable").reset_index(drop=True)


def to_markdown(board, clips_df, title: str, preamble: str) -> str:
    """Markdown page: leaderboard table, then per-clip D2 (ioc) per model/filter."""
    def fmt(v: Any) -> str:
        if isinstance(v, (float, np.floating)):
            return "—" if not np.isfinite(v) else (f"{v:.4f}" if abs(v) < 10 else f"{v:.1f}")
        return str(v)

    def table(df) -> List[str]:
        cols = list(df.columns)
        out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        out += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in df.itertuples(index=False)]
        return out

    lines = [f"# {title}", "", preamble, "", *table(board.drop(columns=["setup"])), "",
             "Setups:", ""]
    lines += [f"- `{m}`: {s}" for m, s in board.drop_duplicates("model")[["model", "setup"]]
              .itertuples(index=False)]
    pivot = clips_df.pivot_table(index="clip", columns=["model", "filter"], values="D2_ioc",
                                 aggfunc="first", dropna=False)
    pivot.columns = [f"{m} / {f}" for m, f in pivot.columns]
    lines += ["", "## Per clip: D2 (ioc)", "", *table(pivot.reset_index())]
    bad = clips_df[~clips_df["scored"].astype(bool)].drop_duplicates(["model", "clip"])
    if len(bad):
        lines += ["", "## Clips not scored", ""]
        lines += [f"- `{r.model}` `{r.clip}`: {r.status} {r.error}".rstrip()
                  for r in bad.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def write_board(out_stem: Path, board, clips_df, segs_df, title: str, preamble: str,
                extra_md: str = "") -> List[Path]:
    """Write ``<stem>.csv`` / ``<stem>.md`` plus per-clip / per-segment CSVs; returns paths."""
    from wflwv.io.atomic import atomic_write_text

    out_stem = Path(out_stem)
    paths = [out_stem.parent / f"{out_stem.name}.csv", out_stem.parent / f"{out_stem.name}.md",
             out_stem.parent / f"{out_stem.name}.clips.csv",
             out_stem.parent / f"{out_stem.name}.segments.csv"]
    atomic_write_text(paths[0], board.to_csv(index=False, float_format="%.6g"))
    atomic_write_text(paths[1], to_markdown(board, clips_df, title, preamble) + extra_md)
    atomic_write_text(paths[2], clips_df.to_csv(index=False, float_format="%.6g"))
    atomic_write_text(paths[3], segs_df.to_csv(index=False, float_format="%.6g"))
    return paths
