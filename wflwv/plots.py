"""Leaderboard figures (PNG, matplotlib Agg): NME–NMF scatter with filter arrows, CED curves."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import List

import numpy as np

from wflwv.io.atomic import atomic_write_bytes


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_")


def _save(fig, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def scatter_plot(df, out: Path) -> List[Path]:
    """Per dataset × subset: NME (io) vs NMF of measured rows; arrows from unfiltered to each filter."""
    plt = _plt()
    files = []
    own = df[df["source"] == "wflwv"]
    for (ds, sub), g in own.groupby(["dataset", "subset"], sort=False):
        fig, ax = plt.subplots(figsize=(7, 5))
        for i, (model, m) in enumerate(g.groupby("model", sort=False)):
            colour = f"C{i % 10}"
            label = f"{model} (SIMULATED)" if bool(m["simulated"].iloc[0]) else model
            base = m[m["filter"] == "none"]
            ax.scatter(m["nme_io"], m["nmf"], color=colour, s=18, zorder=3)
            if not base.empty:
                x0, y0 = float(base["nme_io"].iloc[0]), float(base["nmf"].iloc[0])
                ax.scatter([x0], [y0], color=colour, s=60, marker="o", edgecolor="k", zorder=4, label=label)
                for _, r in m[m["filter"] != "none"].iterrows():
                    ax.annotate("", xy=(r["nme_io"], r["nmf"]), xytext=(x0, y0),
                                arrowprops=dict(arrowstyle="->", color=colour, lw=1, ls="-" if r["causal"] else "--"))
                    ax.annotate(str(r["filter"]), (r["nme_io"], r["nmf"]), fontsize=7, color=colour,
                                xytext=(3, 3), textcoords="offset points")
            else:
                ax.plot([], [], color=colour, label=label)
        ax.set_xlabel("video NME io (%)  ↓")
        ax.set_ylabel("NMF  ↓")
        ax.set_title(f"{ds} · {sub}: accuracy vs stability (dashed = offline)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        files.append(_save(fig, out / f"nme_vs_nmf_{_slug(ds)}_{_slug(sub)}.png"))
    return files


def ced_plot(df, out: Path) -> List[Path]:
    """Per dataset × subset: CED of per-frame NME (io) of each measured model, unfiltered."""
    import pandas as pd

    plt = _plt()
    files = []
    own = df[(df["source"] == "wflwv") & (df["filter"] == "none")]
    for (ds, sub), g in own.groupby(["dataset", "subset"], sort=False):
        curves = []
        for _, r in g.iterrows():
            p = Path(str(r["run"])) / "frame_errors.parquet"
            if not p.is_file():
                continue
            fe = pd.read_parquet(p, columns=["filter", "subset", "nme_io", "valid"])
            sel = (fe["filter"] == r["filter_id"]) & fe["valid"]
            if sub != "all":
                sel &= fe["subset"] == sub
            x = np.sort(fe.loc[sel, "nme_io"].to_numpy(np.float64) / 100.0)
            if len(x):
                label = f"{r['model']} (SIMULATED)" if bool(r["simulated"]) else str(r["model"])
                curves.append((label, x))
        if not curves:
            continue
        xmax = min(0.10, max(0.005, 1.2 * max(float(np.quantile(x, 0.99)) for _, x in curves)))
        grid = np.linspace(0, xmax, 400)
        fig, ax = plt.subplots(figsize=(6, 4.5))
        for label, x in curves:
            ax.plot(grid, np.searchsorted(x, grid, side="right") / len(x), label=label)
        ax.set_xlabel("per-frame NME io (fraction)")
        ax.set_ylabel("fraction of frames")
        ax.set_title(f"CED · {ds} · {sub} (unfiltered)")
        ax.set_ylim(0, 1.01)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        files.append(_save(fig, out / f"ced_{_slug(ds)}_{_slug(sub)}.png"))
    return files


def pareto_plot(table, base, preset, path: Path) -> Path:
    """Tuning grid in the NME–NMF plane: all points, the Pareto front, the NME limit and the choice."""
    plt = _plt()
    ok = table[table["valid"]]
    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    ax.scatter(ok["video_nme.io"], ok["nmf"], s=14, color="0.6", label="grid")
    front = ok[ok["pareto"]].sort_values("video_nme.io")
    ax.plot(front["video_nme.io"], front["nmf"], "-o", color="C0", ms=4, label="Pareto front")
    ax.scatter([base["video_nme.io"]], [base["nmf"]], marker="s", color="k", label="unfiltered", zorder=4)
    ax.axvline(preset["nme_limit"], color="C3", ls="--", lw=1, label="NME limit")
    tuned = preset.get("tuned_on_tuning_split")
    if tuned:
        ax.scatter([tuned["video_nme.io"]], [tuned["nmf"]], marker="*", s=160, color="C3", zorder=5,
                   label=f"chosen {preset['params']}")
    sim = " (SIMULATED detector)" if preset.get("simulated") else ""
    ax.set_xlabel("video NME io (%)  ↓")
    ax.set_ylabel("NMF  ↓")
    ax.set_title(f"tune {preset['filter']} on {preset['tuning_split']}: {preset['detector']}{sim}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, Path(path))
