"""``tune-filter``: grid-search filter parameters on cached predictions of one subset.

The objective (``docs/filters.md`` §7) is documented and fixed: minimise NMF subject to
NME(io) ≤ ``max_nme_ratio`` × the unfiltered NME on the tuning subset. The full grid, its
NME–NMF Pareto front and the chosen preset are written; the chosen parameters are then applied
to another subset (e.g. tune on WFLW-V easy, report hard). Everything runs from the run's
prediction cache: no video and no detector are touched.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from wflwv.io.atomic import atomic_write_json, atomic_write_text

DEFAULT_GRIDS: Dict[str, Dict[str, List[Any]]] = {
    "one-euro": {"min_cutoff": [0.1, 0.3, 1.0, 3.0], "beta": [0.0, 1.0, 10.0, 100.0]},
    "kalman": {"q": [1.0, 10.0, 100.0, 1000.0], "r": [1e-5, 1e-4, 1e-3]},
    "kalman-rts": {"q": [1.0, 10.0, 100.0, 1000.0], "r": [1e-5, 1e-4, 1e-3]},
    "ema": {"alpha": [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]},
    "savgol": {"window": [5, 7, 9, 11, 15], "polyorder": [1, 2, 3]},
}


def parse_grid(items: Sequence[str]) -> Dict[str, List[Any]]:
    """``["beta=0,0.1,1", "min_cutoff=0.5,1"]`` → ``{"beta": [0, 0.1, 1], ...}`` (typed values)."""
    from wflwv.detectors.base import _typed

    grid: Dict[str, List[Any]] = {}
    for item in items:
        key, eq, values = item.partition("=")
        if not eq or not key.strip() or not values.strip():
            raise ValueError(f"--grid {item!r} must look like key=v1,v2,... (e.g. beta=0,0.1,1)")
        grid[key.strip()] = [_typed(v.strip()) for v in values.split(",") if v.strip()]
    return grid


def pareto_mask(nme: np.ndarray, nmf: np.ndarray) -> np.ndarray:
    """True for points not dominated (lower-or-equal in both, strictly lower in one) by another."""
    nme, nmf = np.asarray(nme, float), np.asarray(nmf, float)
    le = (nme[None, :] <= nme[:, None]) & (nmf[None, :] <= nmf[:, None])
    lt = (nme[None, :] < nme[:, None]) | (nmf[None, :] < nmf[:, None])
    return ~(le & lt).any(axis=1)


def _load_run(run_dir: Path, index_dir: Optional[str]):
    from wflwv.datasets.index import load_index
    from wflwv.harness.cache import RunDir, RunDirError

    from wflwv.harness.verify import load_summary

    run = RunDir.load(run_dir)
    summary_path = Path(run_dir) / "summary.json"
    if index_dir is None:
        if not summary_path.is_file():
            raise RunDirError(f"{run_dir} has no summary.json; pass --dataset INDEX_DIR")
        index_dir = load_summary(summary_path)["dataset"]["index_path"]
    index = load_index(index_dir)      # verifies the index files against their recorded hashes
    if index.content_sha != run.config.get("index_sha"):
        raise RunDirError(f"index {index.path} is not the one {run_dir} was cached from (index was rebuilt); "
                          f"re-run `wflwv evaluate` first")
    return run, index


def _subset_ids(run, index, subset: str) -> List[str]:
    ids = index.video_ids(subset)
    cached = run.done(ids)
    if not cached:
        raise ValueError(f"run {run.path.name} has no cached videos of subset {subset!r}; evaluate it first")
    return cached


def _evaluate_all(run, index, ids, filters, scheme, exclude, progress=False) -> List[Dict[str, float]]:
    """Aggregate metrics of each filter over ``ids`` (scored in chunks from the cache)."""
    from wflwv.harness.report import score_all
    from wflwv.harness.scoring import aggregate

    meta, scored = score_all(run, ids, filters, scheme, index, exclude, progress=progress)
    out = []
    for sf in scored:
        agg = aggregate(sf.per_video, sf.per_frame, meta, np.arange(len(meta.video_ids)))
        out.append({k: agg[k] for k in ("video_nme.io", "video_nme.fs", "nmf", "lag_frames", "n_videos")})
    return out


def tune(run_dir, filter_name: str, tune_subset: str, apply_subset: Optional[str] = None,
         grid: Optional[Dict[str, List[Any]]] = None, max_nme_ratio: float = 1.02,
         out: Optional[str] = None, index_dir: Optional[str] = None,
         exclude_unreliable: Optional[bool] = None, progress: bool = False) -> Dict[str, Any]:
    """Grid-search ``filter_name`` on ``tune_subset``; apply the choice to ``apply_subset``."""
    import pandas as pd

    from wflwv import __version__
    from wflwv.filters import create

    if not max_nme_ratio >= 1.0:
        raise ValueError(f"--max-nme-ratio must be >= 1 (e.g. 1.02), got {max_nme_ratio}")
    grid = dict(grid or DEFAULT_GRIDS.get(filter_name) or {})
    if not grid:
        raise ValueError(f"no default grid for filter {filter_name!r}; pass --grid key=v1,v2")
    run, index = _load_run(Path(run_dir), index_dir)
    scheme = run.config["key_fields"]["landmark_scheme"]
    if exclude_unreliable is None:
        exclude_unreliable = index.any_unreliable

    def evaluate(subset, filters):
        return _evaluate_all(run, index, _subset_ids(run, index, subset), filters, scheme, exclude_unreliable,
                             progress)

    keys = sorted(grid)
    combos = list(itertools.product(*(grid[k] for k in keys)))
    rows: List[Dict[str, Any]] = []
    valid_filters = []
    for values in combos:
        params = dict(zip(keys, values))
        row: Dict[str, Any] = {"filter": filter_name, **params}
        try:
            f = create(filter_name, **params)
        except ValueError as exc:  # an invalid combination (e.g. polyorder >= window) is recorded
            row.update({"valid": False, "error": str(exc).splitlines()[0]})
        else:
            row.update({"valid": True, "error": "", "filter_id": f.id})
            valid_filters.append((len(rows), f))
        rows.append(row)
    results = evaluate(tune_subset, [create("none")] + [f for _, f in valid_filters])
    base = results[0]
    for (i, _), res in zip(valid_filters, results[1:]):
        rows[i].update(res)
    df = pd.DataFrame(rows)
    ok = df[df["valid"]].copy()
    if ok.empty:
        raise ValueError(f"every grid point of {filter_name} was invalid: {df['error'].iloc[0]}")
    limit = max_nme_ratio * base["video_nme.io"]
    df["feasible"] = df["valid"] & (df.get("video_nme.io", np.nan) <= limit)
    df["pareto"] = False
    df.loc[ok.index, "pareto"] = pareto_mask(ok["video_nme.io"], ok["nmf"])
    feas = df[df["feasible"]]
    chosen = None if feas.empty else feas.sort_values(["nmf", "video_nme.io"]).iloc[0]
    params = {k: (chosen[k].item() if hasattr(chosen[k], "item") else chosen[k]) for k in keys} \
        if chosen is not None else None
    preset = {
        "detector": run.config["key_fields"]["detector"], "detector_options": run.config["key_fields"]["detector_options"],
        "simulated": bool(run.config.get("simulated", False)), "run": run.path.name, "filter": filter_name,
        "filter_id": None if chosen is None else chosen["filter_id"], "params": params,
        "variant": None if chosen is None else getattr(create(filter_name, **params), "variant", None),
        "tuning_split": tune_subset, "dataset": index.dataset, "index_fingerprint": index.fingerprint,
        "objective": f"min NMF s.t. NME_io <= {max_nme_ratio} x unfiltered NME_io on the tuning split",
        "unfiltered_on_tuning_split": base, "nme_limit": limit, "grid": grid,
        "n_grid_points": len(combos), "n_feasible": int(df["feasible"].sum()), "wflwv_version": __version__,
        "note": None if chosen is not None else "no grid point met the NME constraint; keep the filter off",
    }
    if chosen is not None:
        preset["tuned_on_tuning_split"] = {k: float(chosen[k]) for k in ("video_nme.io", "video_nme.fs", "nmf")}
    if apply_subset:
        fs = [create("none")] + ([] if params is None else [create(filter_name, **params)])
        res = evaluate(apply_subset, fs)
        preset["applied"] = {"subset": apply_subset, "tuned_on_eval_split": apply_subset == tune_subset,
                             "unfiltered": res[0], "tuned": res[1] if len(res) > 1 else None}
    if out:
        outp = Path(out)
        outp.mkdir(parents=True, exist_ok=True)
        atomic_write_text(outp / "tuning.csv", df.to_csv(index=False))
        atomic_write_json(outp / "preset.json", preset)
        from wflwv.plots import pareto_plot

        pareto_plot(df, base, preset, outp / "pareto.png")
    preset["table"] = df
    return preset
