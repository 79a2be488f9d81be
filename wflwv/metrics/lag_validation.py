"""Check the GT-free filter ordering against the ground truth on labelled runs (docs/gt_free_protocol.md §5).

On a labelled index every result row carries both the GT columns (``nme_io``, ``nmf``, the
GT-measured ``lag_frames``) and the GT-free ones (``jitter_d2``, ``lag_ref_frames``,
``ref_dist``). For each board (dataset, subset, model) :func:`validate` asks:

* does ``ref_dist`` order the filters like NME does (Spearman rho, share of filter pairs in the
  same order, same best filter)?
* does the GT-free lag match the GT lag (largest absolute difference, frames)?
* of the filters that lower D2 jitter below ``none`` but raise NME above it (rewarded by a
  jitter-only board), how many does the GT-free view flag (``ref_dist`` above ``none``)?

``python -m wflwv.metrics.lag_validation RUNS_DIR...`` prints the table as Markdown.
"""

from __future__ import annotations

import sys
from typing import List, Sequence

import numpy as np


def _ranks(v: np.ndarray) -> np.ndarray:
    order = np.argsort(v, kind="stable")
    r = np.empty(len(v))
    r[order] = np.arange(len(v))
    for x in np.unique(v):                      # ties share their mean rank
        m = v == x
        r[m] = r[m].mean()
    return r


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman rank correlation of two equally long sequences (NaN for fewer than 3 values)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 3:
        return float("nan")
    ra, rb = _ranks(a), _ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / den) if den > 0 else float("nan")


def pair_agreement(a: Sequence[float], b: Sequence[float]) -> float:
    """Share of pairs (i, j) that ``a`` and ``b`` put in the same strict order (pairs tied in either skipped)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    da = np.sign(a[:, None] - a[None, :])
    db = np.sign(b[:, None] - b[None, :])
    iu = np.triu_indices(len(a), 1)
    keep = (da[iu] != 0) & (db[iu] != 0)
    return float((da[iu][keep] == db[iu][keep]).mean()) if keep.any() else float("nan")


def validate(df):
    """One row per labelled board: the agreement statistics described in the module docstring."""
    import pandas as pd

    need = {"nme_io", "jitter_d2", "ref_dist", "lag_frames", "lag_ref_frames"}
    gt_free = df["gt_free"].fillna(False).astype(bool) if "gt_free" in df else np.zeros(len(df), bool)
    d = df[(df["source"] == "wflwv").to_numpy() & ~np.asarray(gt_free)]
    missing = need - set(d.columns)
    if missing:
        raise ValueError(f"leaderboard rows lack {sorted(missing)}: re-run `wflwv evaluate` with this wflwv")
    out = []
    for (ds, sub, model), g in d.groupby(["dataset", "subset", "model"], sort=True):
        g = g[np.isfinite(g["nme_io"].astype(float)) & np.isfinite(g["ref_dist"].astype(float))]
        none = g[g["filter_id"] == "none"]
        if len(g) < 3 or none.empty:
            continue
        n0 = none.iloc[0]
        jit_win = g[(g["jitter_d2"] < n0["jitter_d2"]) & (g["nme_io"] > n0["nme_io"])]
        caught = jit_win[jit_win["ref_dist"] > n0["ref_dist"]]
        out.append({
            "dataset": ds, "subset": sub, "model": model, "filters": len(g),
            "spearman_refdist_nme": spearman(g["ref_dist"], g["nme_io"]),
            "pairs_agree": pair_agreement(g["ref_dist"], g["nme_io"]),
            "best_gt": g.loc[g["nme_io"].idxmin(), "filter"],
            "best_gt_free": g.loc[g["ref_dist"].idxmin(), "filter"],
            "max_lag_diff": float(np.nanmax(np.abs(g["lag_ref_frames"] - g["lag_frames"]))),
            "jitter_only_winners": len(jit_win), "caught": len(caught),
            "missed": ", ".join(sorted(set(jit_win["filter"]) - set(caught["filter"]))),
        })
    return pd.DataFrame(out)


def to_markdown(table) -> str:
    """The validation table as Markdown."""
    head = ("| dataset | subset | model | filters | Spearman(ref_dist, NME) | pairs in same order | best by NME "
            "| best by ref_dist | max abs(lag_ref - lag_gt) frames | jitter-only winners caught |")
    lines = [head, "|" + "---|" * 10]
    for _, r in table.iterrows():
        miss = f" (missed: {r['missed']})" if r["missed"] else ""
        lines.append(f"| {r['dataset']} | {r['subset']} | {r['model']} | {r['filters']} | "
                     f"{r['spearman_refdist_nme']:.3f} | {100 * r['pairs_agree']:.0f} % | {r['best_gt']} | "
                     f"{r['best_gt_free']} | {r['max_lag_diff']:.2f} | {r['caught']}/{r['jitter_only_winners']}{miss} |")
    return "\n".join(lines) + "\n"


def main(argv: List[str]) -> int:
    """Print the validation table of the runs under ``argv`` (RUNS_DIRs)."""
    from wflwv.leaderboard import build

    if not argv:
        print("usage: python -m wflwv.metrics.lag_validation RUNS_DIR...", file=sys.stderr)
        return 2
    print(to_markdown(validate(build(argv, reference=False))), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
