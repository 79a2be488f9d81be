"""Markdown rendering of a leaderboard: one section per board and online / offline part."""

from __future__ import annotations

from typing import Any

import numpy as np

from wflwv.leaderboard.rows import board_key


def finite(v: Any) -> bool:
    """True for a finite number (None, NaN, text are not)."""
    try:
        return v is not None and bool(np.isfinite(float(v)))
    except (TypeError, ValueError):
        return False


def fmt(v: Any, spec: str) -> str:
    """``format(v, spec)`` or an en dash for missing values."""
    return format(float(v), spec) if finite(v) else "–"


def board_title(key) -> str:
    """Human title of a board key ``(dataset, subset, protocol, boxes, normaliser, crop)``."""
    ds, sub, proto, boxes, norm, crop = key
    return f"{ds} · {sub} · protocol {proto} · boxes {boxes} · NME {norm} · crop {crop}"


def render_markdown(df) -> str:
    """Markdown: per board, an online (causal) and an offline section."""
    lines = ["# wflwv leaderboard", "",
             "NME in % (io: outer eye corners; fs: sqrt(w·h) of the GT landmark box), NMF in official "
             "units (↓ better), FR@0.10 in % of frames, AUC@0.10 ↑. `source`: wflwv = measured here, release = "
             "released weights + official code, paper = as published, derived = computed from published "
             "relative numbers (not a measurement); † = read second-hand. SIMULATED rows read the ground "
             "truth. One section per board: rows of different normalisers or box sources are never ranked "
             "together. lag: frames the filter delays the landmarks (fitted against the GT; 0 for none); "
             "D2 %: GT-free jitter; ref dist %: GT-free distance to a zero-lag smoothing of the raw "
             "detections (docs/gt_free_protocol.md). GT-free boards (no ground truth) are a Pareto view of "
             "jitter against lag.", ""]
    head = ("| source | model | filter | NME io % ↓ | NME fs % ↓ | NMF ↓ | FR@0.10 % ↓ | AUC@0.10 ↑ | lag | "
            "D2 % | ref dist % | videos | notes |")
    keys = df.apply(board_key, axis=1)
    gt_free = df["gt_free"].map(lambda v: str(v).lower() == "true") if "gt_free" in df else keys.map(lambda _: False)
    for key in dict.fromkeys(keys):
        g = df[(keys == key) & ~gt_free]
        free = df[(keys == key) & gt_free]
        if not free.empty:
            from wflwv.metrics.lag_board import gt_free_markdown

            lines += gt_free_markdown(free, board_title(key))
        for causal, title in ((True, "online (causal filters / unfiltered)"), (False, "offline smoothers")):
            part = g[g["causal"].astype(bool) == causal]
            if part.empty:
                continue
            lines += [f"## {board_title(key)} · {title}", "", head, "|" + "---|" * 13]
            for _, r in part.iterrows():
                model = f"{r['model']} (SIMULATED)" if bool(r["simulated"]) else str(r["model"])
                ci = ""
                if finite(r["nmf_ci_lo"]):
                    ci = f" [{fmt(r['nmf_ci_lo'], '.1f')}, {fmt(r['nmf_ci_hi'], '.1f')}]"
                nv = str(int(r["n_videos"])) if finite(r["n_videos"]) else ""
                notes = ""
                if r["source"] != "wflwv":
                    notes = str(r["citation"])
                if bool(r.get("tuned_on_eval_split", False)):
                    notes = "tuned on this split (in-sample)"
                src = str(r["source"]) + (" †" if bool(r.get("second_hand", False)) else "")
                lines.append(f"| {src} | {model} | {r['filter']} | {fmt(r['nme_io'], '.3f')} | "
                             f"{fmt(r['nme_fs'], '.3f')} | {fmt(r['nmf'], '.2f')}{ci} | "
                             f"{fmt(r['fr_010'], '.2f')} | {fmt(r['auc_010'], '.4f')} | "
                             f"{fmt(r['lag_frames'], '.2f')} | {fmt(r['jitter_d2'], '.3f')} | "
                             f"{fmt(r['ref_dist'], '.3f')} | {nv} | {notes} |")
            lines.append("")
    return "\n".join(lines)
