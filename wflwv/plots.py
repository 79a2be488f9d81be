"""Leaderboard figures (matplotlib Agg; PNG files and inline SVG): one set per board.

* NME (io, %) vs NMF with arrows from each unfiltered row to its filtered rows (dashed = offline),
  every point numbered, numbers placed so they do not overlap, and a key beside the axes.
  In-sample rows (a preset tuned on the evaluated split) are hollow; ``derived`` reference rows are
  grey hollow diamonds (not measurements).
* CED of per-frame NME io: x in % (as in the tables), y in % of frames.
* GT-free: jitter (D2) vs lag, arrows unfiltered → filtered; never a ranking by jitter alone.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from wflwv.io.atomic import atomic_write_bytes

MARKERS = {"none": "o", "causal": "s", "offline": "^"}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_")


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path: Path) -> Path:
    """Write ``fig`` as a PNG (atomic) and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _plt().close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def to_svg(fig, close: bool = True) -> str:
    """``fig`` as an inline ``<svg>`` element (text kept as text, no XML prolog)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "wflwv"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    if close:
        _plt().close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


_save = save_png  # kept for callers of the former private name


def _finite(v) -> bool:
    try:
        return v is not None and bool(np.isfinite(float(v)))
    except (TypeError, ValueError):
        return False


def _overlap(a, b) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def place_labels(ax, points: Sequence[Tuple[float, float]], labels: Sequence[str], colours: Sequence[str],
                 fontsize: float = 7.5) -> List[object]:
    """Annotate ``points`` (data coords) with ``labels``, trying 16 offsets so that boxes do not overlap.

    Each label takes the first offset whose box overlaps no placed label and no marker; if none is
    free, the offset with the least overlap. Returns the annotation artists.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    pts = ax.transData.transform(np.asarray(points, dtype=float).reshape(-1, 2))
    occupied = [(x - 5, y - 5, x + 5, y + 5) for x, y in pts]  # markers
    ring = [(5, 4), (5, -11), (-12, 4), (-12, -11), (7, -3), (-15, -3), (-3, 7), (-3, -14)]
    offsets = ring + [(2 * dx, 2 * dy) for dx, dy in ring]
    artists = []
    for (x, y), text, c in zip(points, labels, colours):
        best, best_cost = None, None
        ann = ax.annotate(text, (x, y), xytext=offsets[0], textcoords="offset points", fontsize=fontsize,
                          color=c, fontweight="bold", zorder=6)
        for off in offsets:
            ann.set_position(off)
            bb = ann.get_window_extent(renderer)
            box = (bb.x0 - 1, bb.y0 - 1, bb.x1 + 1, bb.y1 + 1)
            cost = sum(_overlap(box, o) for o in occupied)
            if best_cost is None or cost < best_cost:
                best, best_cost = (off, box), cost
            if cost == 0:
                break
        ann.set_position(best[0])
        occupied.append(best[1])
        artists.append(ann)
    return artists


def _row_style(r, colour: str) -> Dict[str, object]:
    src = str(r.get("source", "wflwv"))
    if src == "derived":
        return dict(marker="D", facecolors="none", edgecolors="0.45", linestyle=":", s=46)
    if src != "wflwv":
        return dict(marker="P" if src == "paper" else "X", color="0.35", s=46)
    kind = "none" if r["filter_id"] == "none" else ("causal" if bool(r["causal"]) else "offline")
    size = 58 if kind == "none" else 30
    if bool(r.get("tuned_on_eval_split", False)):
        return dict(marker=MARKERS[kind], facecolors="none", edgecolors=colour, linewidths=1.4, s=size)
    return dict(marker=MARKERS[kind], color=colour, edgecolors="k" if kind == "none" else colour, s=size)


def _key_line(n: int, r) -> str:
    src = str(r.get("source", "wflwv"))
    model = str(r["model"]) + (" (SIM)" if bool(r.get("simulated", False)) else "")
    tags = []
    if src != "wflwv":
        tags.append(src + (" †" if bool(r.get("second_hand", False)) else ""))
    if bool(r.get("tuned_on_eval_split", False)):
        tags.append("in-sample")
    if src == "wflwv" and not bool(r["causal"]):
        tags.append("offline")
    return f"{n:>2}  {model} · {r['filter']}" + (f"  [{', '.join(tags)}]" if tags else "")


def _arrow_plot(g, xcol: str, ycol: str, xlabel: str, ylabel: str, title: str):
    """Numbered scatter of ``g`` rows with arrows unfiltered → filtered; ``(fig, {row_id: n})``."""
    plt = _plt()
    ok = g[[_finite(x) and _finite(y) for x, y in zip(g[xcol], g[ycol])]]
    if ok.empty:
        return None, {}
    models = list(dict.fromkeys(ok["model"]))
    colour = {m: f"C{i % 10}" for i, m in enumerate(models)}
    fig, ax = plt.subplots(figsize=(7.2, max(4.2, 0.5 + 0.17 * len(ok))))
    for _, grp in ok[ok["source"] == "wflwv"].groupby(["run", "subset"], sort=False):
        base = grp[grp["filter_id"] == "none"]
        if base.empty:
            continue
        x0, y0 = float(base[xcol].iloc[0]), float(base[ycol].iloc[0])
        for _, r in grp[grp["filter_id"] != "none"].iterrows():
            ax.annotate("", xy=(float(r[xcol]), float(r[ycol])), xytext=(x0, y0), zorder=2,
                        arrowprops=dict(arrowstyle="->", color=colour[r["model"]], lw=0.9, alpha=0.7,
                                        ls="-" if bool(r["causal"]) else "--", shrinkA=4, shrinkB=4))
    numbers, points, labels, colours, key = {}, [], [], [], []
    for n, (_, r) in enumerate(ok.iterrows(), start=1):
        c = colour[r["model"]] if r["source"] == "wflwv" else "0.35"
        ax.scatter([float(r[xcol])], [float(r[ycol])], zorder=4, **_row_style(r, c))
        numbers[r["row_id"]] = n
        points.append((float(r[xcol]), float(r[ycol])))
        labels.append(str(n))
        colours.append(c)
        key.append((_key_line(n, r), c))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.margins(0.12)
    fig.canvas.draw()
    place_labels(ax, points, labels, colours)
    key.append(("    ● unfiltered  ■ causal  ▲ offline (dashed arrow)", "0.3"))
    key.append(("    hollow = in-sample preset; grey = published", "0.3"))
    step = 0.9 / max(len(key), 12)
    for i, (text, c) in enumerate(key):
        fig.text(0.92, 0.95 - i * step, text, color=c, fontsize=7, family="monospace", va="top",
                 transform=fig.transFigure)
    return fig, numbers


def scatter_figure(g, title: str, normaliser: str = "io"):
    """NME (%) vs NMF of one board's rows; ``(fig or None, {row_id: number})``.

    The x axis is NME io when the board has io values, else NME fs; its label names the board's
    normaliser (``normaliser unknown`` when the source does not say which).
    """
    col = "nme_io" if "nme_io" in g and g["nme_io"].notna().any() else "nme_fs"
    norm = str(normaliser)
    if norm.startswith(("io", "fs")) and "unconfirmed" not in norm:
        label = f"video NME {col[4:]} (%)  ↓"
    else:
        label = f"video NME (%), normaliser: {norm}  ↓"
    return _arrow_plot(g, col, "nmf", label, "NMF  ↓", f"accuracy vs stability\n{title}")


def gtfree_figure(g, title: str):
    """GT-free jitter (D2, %) vs lag (frames) of one board; ``(fig or None, {row_id: number})``.

    Same axes as the GT-free Pareto section (``docs/gt_free_protocol.md``): a filter that lowers
    jitter by lagging moves right, not just down.
    """
    if "jitter_d2" not in g or "lag_frames" not in g:
        return None, {}
    return _arrow_plot(g, "lag_frames", "jitter_d2", "lag (frames)  ↓", "jitter D2 (%)  ↓",
                       f"GT-free: jitter vs lag (a lagging filter is not steadier)\n{title}")


def ced_figure(g, title: str):
    """CED (x: per-frame NME io in %, y: % of frames) of each measured model's unfiltered rows."""
    import pandas as pd

    plt = _plt()
    own = g[(g["source"] == "wflwv") & (g["filter_id"] == "none")]
    curves = []
    for _, r in own.iterrows():
        p = Path(str(r["run"])) / "frame_errors.parquet"
        if not p.is_file():
            continue
        fe = pd.read_parquet(p, columns=["filter", "subset", "nme_io", "valid"])
        sel = (fe["filter"] == r["filter_id"]) & fe["valid"]
        if r["subset"] != "all":
            sel &= fe["subset"] == r["subset"]
        x = np.sort(fe.loc[sel, "nme_io"].to_numpy(np.float64))
        x = x[np.isfinite(x)]
        if len(x):
            curves.append((f"{r['model']} (SIMULATED)" if bool(r["simulated"]) else str(r["model"]), x))
    if not curves:
        return None
    xmax = min(10.0, max(0.5, 1.2 * max(float(np.quantile(x, 0.99)) for _, x in curves)))
    grid = np.linspace(0, xmax, 400)
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for i, (label, x) in enumerate(curves):
        ax.plot(grid, 100.0 * np.searchsorted(x, grid, side="right") / len(x), label=label, color=f"C{i % 10}")
    ax.set_xlabel("per-frame NME io (%)")
    ax.set_ylabel("frames (%)")
    ax.set_title(f"CED (unfiltered)\n{title}", fontsize=9)
    ax.set_ylim(0, 101)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _nad_curve(r) -> List[float]:
    """The NAD-vs-m curve (×10³) of a measured row, read from its run's summary.json (else [])."""
    import json

    p = Path(str(r["run"])) / "summary.json"
    if r.get("source") != "wflwv" or not p.is_file():
        return []
    for row in json.loads(p.read_text()).get("results", []):
        if row.get("filter") == r["filter_id"] and row.get("subset") == r["subset"]:
            return [float(v) for v in row.get("nad_curve") or []]
    return []


def nad_figure(g, title: str):
    """NAD(m) ×10³ against the block size m (log–log) for a board's rows; None when no row has NAD.

    Measured rows draw their whole curve; published rows their NAD(1/4/16) points. Slopes: −½ white
    jitter, 0 flicker floor, +½ random walk, +1 drift (docs/nad.md).
    """
    plt = _plt()
    lines = []
    for _, r in g.iterrows():
        label = f"{r['model']} · {r['filter']}" + (" (SIMULATED)" if bool(r.get("simulated")) else "")
        curve = np.asarray(_nad_curve(r))
        if len(curve):
            if (curve > 0).any():       # an exact tracker (NAD 0) has nothing to draw on log axes
                lines.append((label, np.arange(1, len(curve) + 1), curve, "-"))
            continue
        pts = [(m, r.get(f"nad_{m}")) for m in (1, 4, 16)]
        pts = [(m, float(v)) for m, v in pts if _finite(v) and float(v) > 0]
        if pts:
            lines.append((label + f" [{r['source']}]", np.array([m for m, _ in pts]),
                          np.array([v for _, v in pts]), "o--"))
    if not lines:
        return None
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for i, (label, m, v, style) in enumerate(lines):
        ok = v > 0
        ax.loglog(m[ok], v[ok], style, label=label, color=f"C{i % 10}", lw=1.4, ms=4)
    m0 = np.array([1.0, 30.0])
    y0 = float(np.median([v[v > 0][0] for _, _, v, _ in lines]))
    for k, name in ((-0.5, "−½ jitter"), (0.5, "+½ random walk"), (1.0, "+1 drift")):
        ax.loglog(m0, y0 * m0 ** k, ":", color="0.6", lw=0.8)
        ax.annotate(name, (m0[1], y0 * m0[1] ** k), fontsize=7, color="0.4")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    for axis in (ax.xaxis, ax.yaxis):   # plain tick text: mathtext would put <!-- --> comments in the SVG
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("block size m (frames)")
    ax.set_ylabel("NAD(m) ×10³  ↓")
    ax.set_title(f"NAD vs m (slope = error type)\n{title}", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return fig


def board_plots(g, title: str, out: Optional[Path] = None, stem: str = "",
                normaliser: str = "io") -> Dict[str, object]:
    """SVG text of a board's figures (``scatter``, ``ced``, ``gtfree``, ``nad``) plus point numbers.

    With ``out``, the same figures are also written as ``{kind}_{stem}.png``; their paths are
    listed under ``files``.
    """
    res: Dict[str, object] = {"numbers": {}, "gtfree_numbers": {}, "files": []}
    figs = {}
    figs["scatter"], res["numbers"] = scatter_figure(g, title, normaliser)
    figs["ced"] = ced_figure(g, title)
    figs["gtfree"], res["gtfree_numbers"] = gtfree_figure(g, title)
    figs["nad"] = nad_figure(g, title)
    names = {"scatter": "nme_vs_nmf", "ced": "ced", "gtfree": "jitter_vs_lag", "nad": "nad_vs_m"}
    for kind, fig in figs.items():
        if fig is None:
            res[kind] = None
            continue
        res[kind] = to_svg(fig, close=out is None)
        if out is not None:
            res["files"].append(save_png(fig, Path(out) / f"{names[kind]}_{_slug(stem)}.png"))
    return res


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
    return save_png(fig, Path(path))
