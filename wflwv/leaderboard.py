"""Leaderboards: a view over run ``summary.json`` files plus the published reference rows.

One row per dataset × subset × model × filter, with every protocol knob as a column (box
source, crop protocol, scheme, normaliser, unreliable-frame exclusion, filter params, causal),
NME (io, fs), NMF, FR/AUC@0.10 with 95 % CIs, counts, the simulated flag and the ``source``
(``wflwv`` for measured rows; ``paper`` / ``release`` for ``leaderboards/reference.csv``).
Outputs: ``leaderboard.csv``, ``leaderboard.md`` (online and offline filters in separate
sections, ``filters.md`` §6) and PNG plots (:mod:`wflwv.plots`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

import numpy as np

from wflwv.io.atomic import atomic_write_text

COLUMNS = ["source", "provenance", "dataset", "subset", "model", "simulated", "filter", "filter_id",
           "causal", "tuned_on_eval_split", "box_source", "crop_protocol", "landmark_scheme", "cross_scheme",
           "exclude_unreliable", "nme_normaliser", "nme_io", "nme_io_ci_lo", "nme_io_ci_hi", "nme_fs",
           "nme_fs_ci_lo", "nme_fs_ci_hi", "nmf", "nmf_ci_lo", "nmf_ci_hi", "fr_010", "auc_010",
           "lag_frames", "coverage", "n_missing_frames", "filter_preset", "n_videos", "n_videos_subset",
           "complete", "n_frames", "weights_sha256",
           "wflwv_git", "run", "reference", "notes"]
REFERENCE_CSV = Path(__file__).resolve().parents[1] / "leaderboards" / "reference.csv"


class LeaderboardError(ValueError):
    """No runs found, or a summary file of an unknown format."""


def find_summaries(paths: Iterable[str]) -> List[Path]:
    """``summary.json`` files under each path (a file, a run directory, or a RUNS_DIR tree)."""
    found: List[Path] = []
    for p in map(Path, paths):
        if p.is_file() and p.name.endswith(".json"):
            found.append(p)
        elif (p / "summary.json").is_file():
            found.append(p / "summary.json")
        elif p.is_dir():
            found.extend(sorted(p.rglob("summary.json")))
        else:
            raise LeaderboardError(f"{p} does not exist; pass RUNS_DIR(s) written by `wflwv evaluate`")
    return found


def rows_from_summary(summary: Dict[str, Any], path: Optional[Path] = None) -> List[Dict[str, Any]]:
    """Leaderboard rows (``source=wflwv``) of one run summary."""
    fmt = int(summary.get("summary_format", 0))
    if fmt != 1:
        raise LeaderboardError(f"{path}: summary_format {fmt} is not readable by this wflwv (expects 1)")
    ds, proto, model = summary["dataset"], summary["protocol"], summary["model"]
    filt = {f["id"]: f for f in summary["filters"]}
    rows = []
    for r in summary["results"]:
        f = filt.get(r["filter"], {})
        ci = {k: (r.get(k) or [np.nan, np.nan]) for k in ("video_nme.io_ci", "video_nme.fs_ci", "nmf_ci")}
        rows.append({
            "source": "wflwv", "provenance": "wflwv_run", "dataset": ds["name"], "subset": r["subset"],
            "model": model["spec"], "simulated": bool(summary["simulated"]),
            "filter": f.get("name", r["filter"].partition(":")[0]), "filter_id": r["filter"],
            "causal": bool(r["causal"]), "tuned_on_eval_split": bool(r.get("tuned_on_eval_split", False)),
            "box_source": proto["box_source"], "crop_protocol": proto["crop_protocol"],
            "landmark_scheme": ds["scored_scheme"], "cross_scheme": bool(ds["cross_scheme"]),
            "exclude_unreliable": bool(proto["exclude_unreliable"]),
            "nme_normaliser": f"io ({ds['normaliser_pair'][0]}/{ds['normaliser_pair'][1]}) and fs",
            "nme_io": r["video_nme.io"], "nme_io_ci_lo": ci["video_nme.io_ci"][0],
            "nme_io_ci_hi": ci["video_nme.io_ci"][1], "nme_fs": r["video_nme.fs"],
            "nme_fs_ci_lo": ci["video_nme.fs_ci"][0], "nme_fs_ci_hi": ci["video_nme.fs_ci"][1],
            "nmf": r["nmf"], "nmf_ci_lo": ci["nmf_ci"][0], "nmf_ci_hi": ci["nmf_ci"][1],
            "fr_010": r["fr@0.10"], "auc_010": r["auc@0.10"], "lag_frames": r["lag_frames"],
            "coverage": r.get("coverage", np.nan), "n_missing_frames": r.get("n_missing_frames", 0),
            "filter_preset": r.get("filter_preset") or "",
            "n_videos": r["n_videos"], "n_videos_subset": r["n_videos_subset"], "complete": r["complete"],
            "n_frames": r["n_frames"], "weights_sha256": model.get("weights_sha256"),
            "wflwv_git": summary.get("wflwv_git"), "run": str(path.parent) if path else summary["run"]["dir"],
            "reference": "", "notes": summary.get("simulated_label") or "",
        })
    return rows


def load_reference(path: Optional[Path] = None):
    """The published rows (``source`` paper / release) as a DataFrame with :data:`COLUMNS`."""
    import pandas as pd

    path = Path(path) if path else REFERENCE_CSV
    if not path.is_file():
        raise LeaderboardError(f"reference rows {path} not found; pass --no-reference or --reference FILE")
    ref = pd.read_csv(path)
    bad = set(ref["source"]) - {"paper", "release"}
    if bad:
        raise LeaderboardError(f"{path}: source must be paper or release, found {sorted(bad)}")
    ref["simulated"] = False
    ref["filter_id"] = ref["filter"]
    ref = ref.reindex(columns=COLUMNS)
    for col in ("tuned_on_eval_split", "cross_scheme", "complete", "causal"):  # NaN would read as True
        ref[col] = ref[col].map(lambda v: str(v).strip().lower() in ("true", "1", "yes")).astype(bool)
    return ref


def build(paths: Sequence[str], reference: Optional[bool | str] = True):
    """The leaderboard DataFrame of every run under ``paths`` (plus reference rows if asked)."""
    import pandas as pd

    rows = []
    for p in find_summaries(paths):
        rows.extend(rows_from_summary(json.loads(p.read_text()), p))
    if not rows:
        raise LeaderboardError(f"no run summaries found under {list(paths)}; run `wflwv evaluate` first")
    df = pd.DataFrame(rows, columns=COLUMNS)
    if reference:
        ref = load_reference(None if reference is True else Path(reference))
        ref = ref[ref["dataset"].isin(set(df["dataset"]))]  # published rows of the datasets evaluated
        if not ref.empty:
            df = pd.concat([df, ref], ignore_index=True)
    df["_src"] = df["source"].map({"wflwv": 0, "release": 1, "paper": 2})
    df = df.sort_values(["dataset", "subset", "causal", "_src", "model", "filter"],
                        ascending=[True, True, False, True, True, True], kind="stable")
    return df.drop(columns="_src").reset_index(drop=True)


def _finite(v: Any) -> bool:
    try:
        return v is not None and bool(np.isfinite(float(v)))
    except (TypeError, ValueError):
        return False


def _fmt(v: Any, spec: str) -> str:
    try:
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            return "–"
        return format(float(v), spec)
    except (TypeError, ValueError):
        return "–"


def render_markdown(df) -> str:
    """Markdown: per dataset/subset, an online (causal) and an offline section."""
    lines = ["# wflwv leaderboard", "",
             "NME in % (io: outer eye corners; fs: sqrt(w·h) of the GT landmark box), NMF in official "
             "units (↓ better), AUC@0.10 ↑. `source`: wflwv = measured here, release = released "
             "weights + official code, paper = as published. SIMULATED rows read the ground truth.", ""]
    head = ("| source | model | filter | NME io % ↓ | NME fs % ↓ | NMF ↓ | FR@0.10 % ↓ | AUC@0.10 ↑ | lag | "
            "videos | boxes | notes |")
    for (ds, sub), g in df.groupby(["dataset", "subset"], sort=False):
        for causal, title in ((True, "online (causal filters / unfiltered)"), (False, "offline smoothers")):
            part = g[g["causal"].astype(bool) == causal]
            if part.empty:
                continue
            lines += [f"## {ds} · {sub} · {title}", "", head, "|" + "---|" * 12]
            for _, r in part.iterrows():
                model = f"{r['model']} (SIMULATED)" if bool(r["simulated"]) else str(r["model"])
                ci = ""
                if _finite(r["nmf_ci_lo"]):
                    ci = f" [{_fmt(r['nmf_ci_lo'], '.1f')}, {_fmt(r['nmf_ci_hi'], '.1f')}]"
                nv = str(int(r["n_videos"])) if _finite(r["n_videos"]) else ""
                notes = str(r["nme_normaliser"]) if r["source"] != "wflwv" else ""
                if bool(r.get("tuned_on_eval_split", False)):
                    notes = "tuned on this split (in-sample)"
                lines.append(f"| {r['source']} | {model} | {r['filter_id']} | {_fmt(r['nme_io'], '.3f')} | "
                             f"{_fmt(r['nme_fs'], '.3f')} | {_fmt(r['nmf'], '.2f')}{ci} | "
                             f"{_fmt(r['fr_010'], '.2f')} | {_fmt(r['auc_010'], '.4f')} | "
                             f"{_fmt(r['lag_frames'], '.1f')} | {nv} | "
                             f"{'' if r['box_source'] != r['box_source'] else r['box_source']} | {notes} |")
            lines.append("")
    return "\n".join(lines)


def write(df, out_dir, plots: bool = True) -> List[Path]:
    """Write ``leaderboard.csv``, ``leaderboard.md`` and (optionally) the PNG plots into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = [atomic_write_text(out / "leaderboard.csv", df.to_csv(index=False)),
             atomic_write_text(out / "leaderboard.md", render_markdown(df))]
    if plots:
        from wflwv.plots import ced_plot, scatter_plot

        files += scatter_plot(df, out)
        files += ced_plot(df, out)
    return files
