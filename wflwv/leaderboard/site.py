"""The static leaderboard site: ``leaderboard.json`` (versioned schema) and a self-contained ``index.html``.

The page is one HTML file with our own inline CSS and JavaScript (``wflwv/data/site/``) and the
same JSON embedded, so it opens from ``file://`` without a network. Boards, sections, plots (inline
SVG) and paired comparisons are precomputed here; the page only filters, sorts, keeps its state in
the URL and exports what is shown. Schema: ``docs/leaderboard.md``.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any, Dict, List

from wflwv.io.atomic import atomic_write_text
from wflwv.leaderboard.markdown import board_title
from wflwv.leaderboard.rows import BOARD_KEY, board_id, board_key

SCHEMA = "wflwv-leaderboard"
SCHEMA_VERSION = 1
SITE_DIR = Path(__file__).resolve().parents[1] / "data" / "site"
RUN_FILES = ("summary.json", "video_metrics.parquet", "frame_errors.parquet")
RUN_COPY_DIR = "run_files"  # not "runs": that name is git-ignored, and the demo site is committed
COPY_FILES = ("summary.json", "video_metrics.parquet")  # small; enough to check every number shown
GT_FREE_COLUMNS = ("pareto_rank", "jitter_d2", "jitter_d1", "lag_frames", "lag_ms", "ref_dist")
# name -> (label, unit, better, digits); the page shows these when a board has a value in them
COLUMN_INFO: Dict[str, tuple] = {
    "plot_no": ("#", "", None, 0), "model": ("model", "", None, None), "filter": ("filter", "", None, None),
    "source": ("source", "", None, None), "nme_io": ("NME io", "%", "lower", 3),
    "nme_fs": ("NME fs", "%", "lower", 3), "nmf": ("NMF", "", "lower", 2),
    "dnmf_vs_unfiltered": ("ΔNMF vs unfiltered", "", "lower", 2),
    "dnme_io_vs_unfiltered": ("ΔNME io vs unfiltered", "%", "lower", 3),
    "fr_010": ("FR@0.10", "%", "lower", 2), "auc_010": ("AUC@0.10", "", "higher", 4),
    "lag_frames": ("lag", "frames", "lower", 1), "lag_ms": ("lag", "ms", "lower", 1),
    "jitter_d1": ("jitter D1", "%", None, 3), "jitter_d2": ("jitter D2", "%", None, 3),
    "ref_dist": ("dist. to zero-lag ref.", "%", "lower", 3), "pareto_rank": ("Pareto rank", "0 = front", None, 0),
    "nad_1": ("NAD@1", "×10⁻³", "lower", 2), "nad_4": ("NAD@4", "×10⁻³", "lower", 2),
    "nad_16": ("NAD@16", "×10⁻³", "lower", 2), "coverage": ("coverage", "", "higher", 3),
    "n_tracks": ("tracks", "", None, 0), "n_failed_videos": ("failed videos", "", "lower", 0),
    "weights_verified": ("weights verified", "", None, None), "n_videos": ("videos", "", None, 0),
}
TABLE_COLUMNS = ["plot_no", "model", "filter", "source", "nme_io", "nme_fs", "nmf", "dnmf_vs_unfiltered",
                 "dnme_io_vs_unfiltered", "fr_010", "auc_010", "lag_frames", "nad_1", "nad_4", "nad_16",
                 "coverage", "n_tracks", "n_failed_videos", "weights_verified", "n_videos"]


def _clean(v: Any) -> Any:
    """JSON-safe value: NaN/inf → None, numpy scalars → Python."""
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _links(run: str, out: Path, copy_runs: bool) -> Dict[str, str]:
    src = Path(run)
    if copy_runs:
        dst = out / RUN_COPY_DIR / src.name
        dst.mkdir(parents=True, exist_ok=True)
        for name in COPY_FILES:
            if (src / name).is_file():
                shutil.copyfile(src / name, dst / name)
        src = dst
    return {name: Path(os.path.relpath(src / name, out)).as_posix() for name in RUN_FILES if (src / name).is_file()}


def _section(r) -> str:
    return "online" if bool(r["causal"]) else "offline"


def _is_true(v) -> bool:
    return str(v).strip().lower() in ("true", "1", "yes")


def _gt_free_order(g) -> Dict[str, tuple]:
    """``{row_id: (position, pareto_rank)}`` of a board's rows with GT-free metrics, in the order
    of :func:`wflwv.metrics.lag_board.with_pareto` (front first, then distance to the reference)."""
    from wflwv.metrics.lag_board import with_pareto

    have = g[g["jitter_d2"].notna() & g["lag_frames"].notna()] if "jitter_d2" in g else g.iloc[:0]
    if have.empty:
        return {}
    ordered = with_pareto(have)
    return {rid: (i, int(rank)) for i, (rid, rank) in enumerate(zip(ordered["row_id"], ordered["pareto_rank"]))}


def site_data(df, paired, out: Path, copy_runs: bool = False, png: bool = False) -> Dict[str, Any]:
    """The ``leaderboard.json`` document (boards with inline SVG plots, rows, paired comparisons)."""
    from wflwv import __version__
    from wflwv.metrics.paired import LEVEL, N_BOOT, SEED
    from wflwv.plots import board_plots
    from wflwv.provenance import git_commit

    keys = df.apply(board_key, axis=1)
    boards, rows, files = [], [], []
    links_cache: Dict[str, Dict[str, str]] = {}
    for key in dict.fromkeys(keys):
        g = df[keys == key]
        bid = board_id(key)
        title = board_title(key)
        plots = board_plots(g, title, out=out if png else None, stem=bid, normaliser=key[BOARD_KEY.index("nme_normaliser")])
        files += plots.pop("files")
        numbers = plots.pop("numbers")
        gt_numbers = plots.pop("gtfree_numbers")
        shown = [c for c in TABLE_COLUMNS if c in ("plot_no", "model", "filter", "source")
                 or (c in g and g[c].notna().any())]
        order = _gt_free_order(g)
        gt_free = [c for c in GT_FREE_COLUMNS if c == "pareto_rank" or (c in g and g[c].notna().any())]
        only_free = bool(len(g)) and "gt_free" in g and all(_is_true(v) for v in g["gt_free"])
        boards.append({"id": bid, "key": dict(zip(BOARD_KEY, key)), "title": title, "columns": shown,
                       "gt_free_only": only_free, "gt_free_columns": gt_free if order else [],
                       "plots": plots, "gt_free_numbers": gt_numbers})
        for _, r in g.iterrows():
            row = {k: _clean(v) for k, v in r.items()}
            pos, rank = order.get(r["row_id"], (None, None))
            row.update(board=bid, section=_section(r), plot_no=numbers.get(r["row_id"]), gt_free_order=pos,
                       pareto_rank=rank)
            if r["source"] == "wflwv":
                run = str(r["run"])
                if run not in links_cache:
                    links_cache[run] = _links(run, out, copy_runs)
                row["links"] = links_cache[run]
                row["run"] = Path(run).name
            rows.append(row)
    return {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION,
        "generated_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "wflwv_version": __version__, "wflwv_git": git_commit(),
        "columns": {k: dict(zip(("label", "unit", "better", "digits"), v)) for k, v in COLUMN_INFO.items()},
        "board_key": list(BOARD_KEY), "boards": boards, "rows": rows,
        "paired": [{k: _clean(v) for k, v in p.items()} for p in paired.to_dict("records")],
        "paired_method": {"n_boot": int(paired["n_boot"].iloc[0]) if len(paired) else N_BOOT,
                          "seed": int(paired["seed"].iloc[0]) if len(paired) else SEED, "level": LEVEL,
                          "statistic": "mean over videos of (A − B), percentile bootstrap over videos",
                          "doc": "docs/paired_bootstrap.md"},
        "_files": files,
    }


def render_html(data: Dict[str, Any]) -> str:
    """``index.html`` with the site CSS, JS and ``data`` inlined (no external requests)."""
    page = (SITE_DIR / "index.html").read_text(encoding="utf-8")
    css = (SITE_DIR / "site.css").read_text(encoding="utf-8")
    js = (SITE_DIR / "site.js").read_text(encoding="utf-8")
    blob = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    # "<" as the JSON escape \u003c: no "</script>" or "<!--" can end or comment out the data block,
    # and the text stays valid JSON for JSON.parse
    blob = blob.replace("<", "\\u003c")
    return page.replace("/*__CSS__*/", css).replace("/*__JS__*/", js).replace("__DATA__", blob)


def write_site(df, paired, out: Path, html: bool = True, png: bool = True, copy_runs: bool = False) -> List[Path]:
    """Write ``leaderboard.json`` and ``index.html`` (``html``) and the PNG plots (``png``) into ``out``."""
    if copy_runs:  # our folder: drop copies of runs that are no longer on the board
        shutil.rmtree(out / RUN_COPY_DIR, ignore_errors=True)
    data = site_data(df, paired, out, copy_runs=copy_runs, png=png)
    files = data.pop("_files")
    if html:
        files.append(atomic_write_text(out / "leaderboard.json",
                                       json.dumps(data, ensure_ascii=False, allow_nan=False, indent=1)))
        files.append(atomic_write_text(out / "index.html", render_html(data)))
    return files
