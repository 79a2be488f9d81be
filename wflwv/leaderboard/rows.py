"""Leaderboard rows: one per run × subset × filter, from ``summary.json`` files, plus reference rows.

Every protocol knob is a column (box source, crop protocol, scheme, normaliser, protocol name,
filter parameters, causality), next to NME (io, fs), NMF, FR/AUC@0.10 with 95 % CIs, counts, the
simulated flag and the ``source`` (``wflwv`` for measured rows; ``paper`` / ``release`` /
``derived`` for the published rows of ``wflwv/data/reference.csv``). Columns added by newer
summaries (NAD, GT-free jitter/lag, weights verification, track counts) are copied when a result
row has them and left blank (NaN) otherwise. See ``docs/leaderboard.md``.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

import numpy as np

from wflwv.leaderboard.columns import (BOARD_KEY, BOOL_COLUMNS, COLUMNS, OPTIONAL_RESULT_COLUMNS,  # noqa: F401
                                       SOURCES, UNKNOWN, LeaderboardError)


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
    seen, unique = set(), []
    for p in found:  # a run reached through two arguments counts once
        if p.resolve() not in seen:
            seen.add(p.resolve())
            unique.append(p)
    return unique


def short_filter_names(filter_ids: Sequence[str]) -> Dict[str, str]:
    """Short display names (``one-euro@noisy``, ``ema``) for the filter ids of one run.

    The name before ``:`` is used when it is unique among ``filter_ids``; otherwise the full id when
    it is at most 28 characters, else the name plus a 6-hex digest of the id.
    """
    names = {f: f.partition(":")[0] for f in filter_ids}
    counts: Dict[str, int] = {}
    for n in names.values():
        counts[n] = counts.get(n, 0) + 1
    out = {}
    for f, n in names.items():
        if counts[n] == 1:
            out[f] = n
        else:
            out[f] = f if len(f) <= 28 else f"{n}#{hashlib.sha256(f.encode()).hexdigest()[:6]}"
    return out


def _rel(p) -> str:
    """``p`` relative to the working directory when it lies below it (shorter, machine-independent)."""
    try:
        return str(Path(str(p)).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def equivalent_command(summary: Dict[str, Any], path: Optional[Path]) -> str:
    """The ``wflwv evaluate`` command line recorded in ``summary`` (or an equivalent rebuilt from it)."""
    if summary.get("command"):
        cmd = summary["command"]
        return cmd if isinstance(cmd, str) else shlex.join(map(str, cmd))
    proto, ds = summary.get("protocol", {}), summary.get("dataset", {})
    dataset = _rel(ds.get("index_path", "?"))
    if ds.get("subset_requested") not in (None, "all"):
        dataset += f":{ds['subset_requested']}"
    args = ["wflwv", "evaluate", "--model", summary["model"]["spec"], "--dataset", dataset]
    for f in summary.get("filters", []):
        args += ["--filter", f.get("preset") or f["id"]]
    if isinstance(proto, dict) and proto.get("box_source") not in (None, "dataset"):
        args += ["--boxes", str(proto["box_source"])]
    if isinstance(proto, dict) and proto.get("exclude_unreliable") is False:
        args += ["--include-unreliable"]
    name = summary.get("protocol_name")
    if isinstance(name, str) and name not in ("", "index"):
        args += ["--protocol", name]
    if path is not None:
        args += ["--out", _rel(path.parent.parent)]
    return shlex.join(args)


def protocol_nme(summary: Dict[str, Any]) -> List[str]:
    """NME normalisers the run's protocol reports (``io``, ``fs``); both for the plain ``index`` protocol."""
    pdef = (summary.get("protocol_definition") or {}).get("definition") or {}
    kinds = pdef.get("nme") if isinstance(pdef, dict) else None
    return [k for k in ("io", "fs") if k in kinds] if kinds else ["io", "fs"]


def nme_normaliser(summary: Dict[str, Any]) -> str:
    """Board label of the NME normaliser(s), e.g. ``io (60/72) and fs`` or ``fs`` (docs/protocols.md)."""
    pair = summary["dataset"]["normaliser_pair"]
    labels = {"io": f"io ({pair[0]}/{pair[1]})", "fs": "fs"}
    return " and ".join(labels[k] for k in protocol_nme(summary))


def _protocol_name(summary: Dict[str, Any], r: Dict[str, Any]) -> str:
    name = r.get("protocol")
    if isinstance(name, str) and name:
        return name
    top = summary.get("protocol_name")
    return top if isinstance(top, str) and top else "index"


def rows_from_summary(summary: Dict[str, Any], path: Optional[Path] = None) -> List[Dict[str, Any]]:
    """Leaderboard rows (``source=wflwv``) of one run summary."""
    fmt = int(summary.get("summary_format", 0))
    if fmt != 1:
        raise LeaderboardError(f"{path}: summary_format {fmt} is not readable by this wflwv (expects 1)")
    ds, proto, model = summary["dataset"], summary["protocol"], summary["model"]
    filt = {f["id"]: f for f in summary["filters"]}
    short = short_filter_names(list(filt) + [r["filter"] for r in summary["results"] if r["filter"] not in filt])
    command = equivalent_command(summary, path)
    rows = []
    for r in summary["results"]:
        f = filt.get(r["filter"], {})
        ci = {k: (r.get(k) or [np.nan, np.nan]) for k in ("video_nme.io_ci", "video_nme.fs_ci", "nmf_ci")}
        row = {
            "source": "wflwv", "second_hand": False, "provenance": "wflwv_run", "dataset": ds["name"],
            "subset": r["subset"], "protocol": _protocol_name(summary, r),
            "model": model["spec"], "simulated": bool(summary["simulated"]),
            "filter": short[r["filter"]], "filter_id": r["filter"],
            "filter_params": json.dumps(f.get("params", r.get("filter_params", {})), sort_keys=True),
            "causal": bool(r["causal"]), "tuned_on_eval_split": bool(r.get("tuned_on_eval_split", False)),
            "box_source": proto["box_source"], "crop_protocol": proto["crop_protocol"],
            "landmark_scheme": ds["scored_scheme"], "cross_scheme": bool(ds["cross_scheme"]),
            "exclude_unreliable": bool(proto["exclude_unreliable"]),
            "nme_normaliser": nme_normaliser(summary),
            "nme_io": r["video_nme.io"], "nme_io_ci_lo": ci["video_nme.io_ci"][0],
            "nme_io_ci_hi": ci["video_nme.io_ci"][1], "nme_fs": r["video_nme.fs"],
            "nme_fs_ci_lo": ci["video_nme.fs_ci"][0], "nme_fs_ci_hi": ci["video_nme.fs_ci"][1],
            "nmf": r["nmf"], "nmf_ci_lo": ci["nmf_ci"][0], "nmf_ci_hi": ci["nmf_ci"][1],
            "fr_010": r["fr@0.10"], "auc_010": r["auc@0.10"], "lag_frames": r.get("lag_frames", np.nan),
            "coverage": r.get("coverage", np.nan), "n_missing_frames": r.get("n_missing_frames", 0),
            "filter_preset": r.get("filter_preset") or "",
            "n_videos": r["n_videos"], "n_videos_subset": r["n_videos_subset"], "complete": r["complete"],
            "n_frames": r["n_frames"], "weights_sha256": model.get("weights_sha256"),
            "index_fingerprint": ds.get("fingerprint"), "wflwv_git": summary.get("wflwv_git"),
            "command": command, "run": str(path.parent) if path else summary["run"]["dir"],
            "citation": "", "notes": summary.get("simulated_label") or "",
        }
        if "io" not in protocol_nme(summary):   # the protocol does not report inter-ocular NME
            row.update(nme_io=np.nan, nme_io_ci_lo=np.nan, nme_io_ci_hi=np.nan)
        for col in OPTIONAL_RESULT_COLUMNS:
            v = r.get(col, model.get(col, ds.get(col)))
            row[col] = np.nan if v is None else v
        rows.append(row)
    return rows


def board_key(row) -> tuple:
    """The board a row belongs to: rows of different keys are never ranked together."""
    vals = []
    for col in BOARD_KEY:
        v = row.get(col) if hasattr(row, "get") else row[col]
        if v is None or (isinstance(v, float) and not np.isfinite(v)) or str(v).strip() in ("", "nan"):
            v = "index" if col == "protocol" else UNKNOWN
        vals.append(str(v))
    return tuple(vals)


def board_id(key: Sequence[str]) -> str:
    """A stable, URL-safe id of a board key."""
    import re

    slug = re.sub(r"[^a-z0-9]+", "-", "-".join(key[:3]).lower()).strip("-")[:40]
    return f"{slug}-{hashlib.sha256(json.dumps(list(key)).encode()).hexdigest()[:6]}"


def build(paths: Sequence[str], reference: Optional[bool | str] = True):
    """The leaderboard DataFrame of every run under ``paths`` (plus reference rows if asked)."""
    import pandas as pd

    from wflwv.harness.verify import check_summary_index
    from wflwv.leaderboard.reference import load_reference

    rows = []
    for p in find_summaries(paths):
        try:
            summary = json.loads(p.read_text())
        except json.JSONDecodeError as exc:
            raise LeaderboardError(f"{p}: not valid JSON ({exc}); re-run `wflwv evaluate` for that run") from None
        check_summary_index(summary, p)      # refuses runs of a changed or rebuilt index (issue 12)
        rows.extend(rows_from_summary(summary, p))
    if not rows:
        raise LeaderboardError(f"no run summaries found under {list(paths)}; run `wflwv evaluate` first")
    df = pd.DataFrame(rows, columns=COLUMNS)
    if reference:
        ref = load_reference(None if reference is True else Path(reference))
        ref = ref[ref["dataset"].isin(set(df["dataset"]))]  # published rows of the datasets evaluated
        if not ref.empty:
            df = pd.concat([df, ref], ignore_index=True)
    df["protocol"] = df["protocol"].where(df["protocol"].notna() & (df["protocol"].astype(str) != ""), "index")
    df["_src"] = df["source"].map({s: i for i, s in enumerate(SOURCES)})
    df = df.sort_values(["dataset", "subset", "causal", "_src", "model", "filter"],
                        ascending=[True, True, False, True, True, True], kind="stable")
    df = df.drop(columns="_src").reset_index(drop=True)
    df.insert(0, "row_id", [row_id(r) for _, r in df.iterrows()])
    return df


def row_id(r) -> str:
    """A short id of a row, stable across rebuilds (run, subset, filter; or the reference fields)."""
    run = Path(str(r["run"])).name if r["source"] == "wflwv" else ""
    parts = [r["source"], run, r["dataset"], r["subset"], r["model"], r["filter_id"], r["citation"],
             r["nme_normaliser"]]
    return "r" + hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()[:10]
