"""``wflwv compare RUN_A RUN_B``: paired bootstrap of two runs on the same videos, per subset × filter.

Both runs must be on the same index (fingerprint), box source, protocol and NME normaliser;
otherwise their numbers are not comparable and the comparison is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List

from wflwv.leaderboard.paired import METRICS, VideoValues
from wflwv.leaderboard.rows import LeaderboardError, board_key, find_summaries, rows_from_summary
from wflwv.metrics.paired import N_BOOT, SEED, align_videos, paired_bootstrap

COMPARE_COLUMNS = ["subset", "filter", "metric", "a", "b", "delta", "ci_lo", "ci_hi", "excludes_zero", "n_videos"]


def _one_run(path: str):
    found = find_summaries([path])
    if len(found) != 1:
        raise LeaderboardError(f"{path}: expected one run directory (with summary.json), found {len(found)} runs")
    p = found[0]
    try:
        return p, json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise LeaderboardError(f"{p}: not valid JSON ({exc}); re-run `wflwv evaluate` for that run") from None


def compare_runs(run_a: str, run_b: str, n_boot: int = N_BOOT, seed: int = SEED):
    """DataFrame of ``A − B`` per subset × common filter × metric with 95 % paired intervals."""
    import pandas as pd

    (pa, sa), (pb, sb) = _one_run(run_a), _one_run(run_b)
    fa, fb = sa["dataset"].get("fingerprint"), sb["dataset"].get("fingerprint")
    if fa != fb:
        raise LeaderboardError(f"{pb}: index fingerprint {str(fb)[:12]} differs from {pa} ({str(fa)[:12]}); "
                               "compare runs evaluated on the same index")
    rows_a = {(r["subset"], r["filter_id"]): r for r in rows_from_summary(sa, pa)}
    rows_b = {(r["subset"], r["filter_id"]): r for r in rows_from_summary(sb, pb)}
    common = [k for k in rows_a if k in rows_b]
    if not common:
        raise LeaderboardError(f"{pa} and {pb} share no subset × filter; evaluate both with the same --filter")
    for k in common:
        ka, kb = board_key(rows_a[k]), board_key(rows_b[k])
        if (ka[2], ka[3], ka[4]) != (kb[2], kb[3], kb[4]):
            raise LeaderboardError(f"{pb}: protocol/box source/normaliser {kb[2:5]} differ from {pa} {ka[2:5]}; "
                                   "their numbers are not comparable")
    values = VideoValues()
    out: List[dict] = []
    for sub, fid in common:
        ra, rb = rows_a[(sub, fid)], rows_b[(sub, fid)]
        for metric in METRICS:
            va = values.get(ra["run"], fid, sub, metric)
            vb = values.get(rb["run"], fid, sub, metric)
            if va is None or vb is None:
                missing = pa if va is None else pb
                raise LeaderboardError(f"{missing.parent / 'video_metrics.parquet'} is missing; re-run "
                                       "`wflwv evaluate` (it rescores from the cache) to write it")
            ids, xa, xb = align_videos(va, vb)
            if not ids:
                continue
            res = paired_bootstrap(xa, xb, n_boot=n_boot, seed=seed)
            out.append({"subset": sub, "filter": ra["filter"], "metric": metric, "a": float(xa.mean()),
                        "b": float(xb.mean()), "delta": res.delta, "ci_lo": res.lo, "ci_hi": res.hi,
                        "excludes_zero": res.excludes_zero, "n_videos": res.n_videos})
    return pd.DataFrame(out, columns=COMPARE_COLUMNS), (sa["model"]["spec"], sb["model"]["spec"])


def render_compare(table, names) -> str:
    """Plain-text table of :func:`compare_runs` output."""
    a, b = names
    lines = [f"A = {a}   B = {b}   Δ = mean over videos of (A − B), 95 % paired bootstrap over videos "
             f"(seed {SEED}, {N_BOOT} resamples; docs/paired_bootstrap.md)", "",
             f"{'subset':<10} {'filter':<22} {'metric':<7} {'A':>10} {'B':>10} {'Δ':>10}  {'95 % interval':<24} "
             f"{'≠0':<3} videos"]
    for _, r in table.iterrows():
        d = 3 if r["metric"].startswith("nme") else 2
        ci = f"[{r['ci_lo']:.{d}f}, {r['ci_hi']:.{d}f}]"
        lines.append(f"{r['subset']:<10} {str(r['filter'])[:22]:<22} {r['metric']:<7} {r['a']:>10.{d}f} "
                     f"{r['b']:>10.{d}f} {r['delta']:>10.{d}f}  {ci:<24} {'yes' if r['excludes_zero'] else 'no':<3} "
                     f"{r['n_videos']}")
    return "\n".join(lines)


def write_compare(table, out: Path) -> Path:
    """Write the comparison as CSV (atomic)."""
    from wflwv.io.atomic import atomic_write_text

    return atomic_write_text(Path(out), table.to_csv(index=False))
