"""``evaluate``: detector over an index → cached predictions → filters → metrics → run files.

Stages (each timed in the summary): resolve (index, filters, detector, run dir), detect (decode
+ inference for videos not yet cached, one shard at a time through an executor, each finished
video committed atomically), merge (predictions.parquet), score (every filter over every cached
video, from the cache only), write (Parquet + summary JSON/Markdown, all atomic).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from wflwv.datasets.integrity import verify_videos
from wflwv.detectors.checkpoint import check_pin, weights_verified
from wflwv.harness.cache import RUN_FORMAT, RunDir
from wflwv.harness.executor import Executor, LocalExecutor, make_shards
from wflwv.harness.records import RunContext
from wflwv.harness.scoring import filter_info  # noqa: F401 (re-exported)
from wflwv.harness.shard import ShardSpec, get_detector, get_index, run_shard


@dataclass
class EvalConfig:
    """Settings of one ``evaluate`` run (one model); see ``wflwv evaluate --help``."""

    model: str
    dataset: str                       # INDEX_DIR or INDEX_DIR:subset
    filters: Sequence[str] = ("none",)
    out: str = "runs"
    weights: Optional[str] = None
    weights_sha256: Optional[str] = None   # user pin of --weights (releases without a published hash)
    device: str = "cpu"
    dtype: str = "float32"             # float32 | float64 | bfloat16 (detectors that support it)
    boxes: Optional[str] = None        # None: dataset boxes if the index has them, else detector:hog
    protocol: Optional[str] = None     # a named protocol (wflwv ls protocols); None: "index"
    metrics: Optional[Sequence[str]] = None   # None/"auto": every metric the index allows
    limit: Optional[Union[int, float]] = None
    batch_size: int = 16
    shard_size: int = 32
    jobs: int = 1
    decode: str = "auto"               # auto | always | never (never: simulated detectors only)
    backend: str = "auto"
    exclude_unreliable: Optional[bool] = None   # None: exclude when the index flags any frame
    seed: int = 0
    progress: bool = True
    command: Optional[str] = None     # the command line that asked for this run (provenance)
    executor: Optional[Executor] = field(default=None, repr=False)


def split_dataset(spec: str) -> Tuple[str, Optional[str]]:
    """``"DIR:subset"`` → ``("DIR", "subset")``; a bare existing directory has no subset."""
    p = Path(spec)
    if p.is_dir() or ":" not in spec:
        return spec, None
    path, _, subset = spec.rpartition(":")
    return path, (subset or None)


def apply_limit(video_ids: List[str], limit: Optional[Union[int, float]]) -> List[str]:
    """First ``limit`` videos (a count ≥ 1) or the first ``ceil(f·n)`` for a fraction 0 < f < 1."""
    if limit is None:
        return list(video_ids)
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit <= 0:
        raise ValueError(f"--limit must be a count >= 1 or a fraction in (0, 1), got {limit!r}")
    if isinstance(limit, float) and limit < 1:
        return list(video_ids[:max(1, math.ceil(limit * len(video_ids)))])
    if isinstance(limit, float) and not limit.is_integer():
        raise ValueError(f"--limit {limit} is neither a fraction below 1 nor a whole count")
    return list(video_ids[:int(limit)])


def parse_limit(text: Optional[str]) -> Optional[Union[int, float]]:
    """CLI ``--limit`` text → int count or float fraction."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"--limit {text!r} must be a count (e.g. 10) or a fraction (e.g. 0.1)") from None


def make_filters(specs: Sequence[str]) -> List[Any]:
    """Validated filter instances for CLI specs (bad names/params/duplicates raise before any work)."""
    from wflwv.filters import parse_filter_specs

    return parse_filter_specs(list(specs) or ["none"])


def build_failures(index, subset: Optional[str]) -> Dict[str, str]:
    """Videos of ``subset`` the builder could not index (``status`` not ok): failed rows with that reason."""
    v = index.videos
    if "status" not in v:
        return {}
    bad = v[v["status"].astype(str) != "ok"]
    if subset not in (None, "all"):
        bad = bad[bad["subset"].astype(str) == subset]
    return {str(r.video_id): f"not indexed ({r.status}; see {index.path}/validation.csv)"
            for r in bad.itertuples()}


def _weights_sha(cfg, weights: Optional[str]) -> Optional[str]:
    if weights is None:
        return cfg.weights_sha256
    from wflwv.io.atomic import sha256_file

    return sha256_file(weights)


def _detector_dict(cfg) -> Dict[str, Any]:
    d = cfg.to_dict()
    d["mean"], d["std"] = list(d["mean"]), list(d["std"])
    return d


def evaluate(cfg: EvalConfig) -> Dict[str, Any]:
    """Run one model over an index and write its run directory; returns the summary dict.

    A failed call leaves no half-made run directory: one it created without committing any video
    is removed again (issue 12); the writer lock is released either way.
    """
    opened: List[RunDir] = []
    try:
        return _evaluate(cfg, opened)
    except BaseException:
        for run in opened:
            run.abandon()
        raise
    finally:
        for run in opened:
            run.close()


def _evaluate(cfg: EvalConfig, opened: List[RunDir]) -> Dict[str, Any]:
    from wflwv.boxes import create_box_source, default_box_source
    from wflwv.detectors import parse_options
    from wflwv.detectors.device import device_type
    from wflwv.harness.precheck import precheck
    from wflwv.protocols import plan_protocol

    timings: Dict[str, float] = {}
    t0 = time.perf_counter()
    index_dir, subset = split_dataset(cfg.dataset)
    index = get_index(index_dir)
    plan = plan_protocol(cfg.protocol, index, cfg.boxes, *parse_options(cfg.model))
    all_ids = plan.keep(index.video_ids(subset))       # the protocol's clip set (docs/protocols.md)
    selected = apply_limit(all_ids, cfg.limit)
    if not selected:
        raise ValueError(f"no videos to evaluate in {cfg.dataset} (subset {subset or 'all'}, protocol {plan.name})")
    filters = make_filters(cfg.filters)
    source = create_box_source(plan.boxes) if plan.boxes else None   # a bad --boxes fails before loading
    model, options = parse_options(cfg.model)[0], plan.options
    if cfg.weights_sha256 is not None:
        if cfg.weights is None:
            raise ValueError("--weights-sha256 pins the file given with --weights; pass --weights too")
        check_pin(cfg.weights, cfg.weights_sha256)
    detector = get_detector(model, options, cfg.weights, cfg.device, cfg.dtype)
    dcfg = detector.cfg
    if source is None:       # no --boxes: the index's boxes, else the face detector + tracker
        source = create_box_source(default_box_source(index, dcfg))
    box_source = source.spec
    if cfg.decode not in ("auto", "always", "never"):
        raise ValueError(f"decode must be auto, always or never, got {cfg.decode!r}")
    if cfg.decode == "never" and not dcfg.needs_gt:
        raise ValueError(f"decode='never' only works for simulated detectors; {model!r} needs pixels")
    decode = cfg.decode != "never"
    metrics = precheck(index, dcfg, source, cfg.metrics, decode)   # refuses before any detection
    exclude = cfg.exclude_unreliable
    if exclude is None:
        exclude = index.any_unreliable
    fields = {
        "run_format": RUN_FORMAT, "dataset": index.dataset, "index_fingerprint": index.fingerprint,
        "index_content_sha": index.content_sha,   # a changed index never reuses a cache
        "detector": model, "detector_options": dict(sorted(dcfg.options.items() or options.items())),
        "weights_sha256": _weights_sha(dcfg, cfg.weights), "crop_protocol": dcfg.crop_protocol,
        "box_source": box_source, "landmark_scheme": dcfg.landmark_scheme,
        # predictions differ across devices and precisions: never reuse a CPU cache for CUDA
        "device_type": "none" if dcfg.needs_gt else device_type(cfg.device),
        "dtype": "none" if dcfg.needs_gt else cfg.dtype,
    }
    extra = {"index_sha": index.content_sha, "simulated": bool(dcfg.simulated),
             "detector_cfg": _detector_dict(dcfg),
             "weights_verified": weights_verified(dcfg.weights_sha256, cfg.weights, cfg.weights_sha256)}
    run = RunDir.open(cfg.out, fields, {"index_sha": extra["index_sha"]})
    opened.append(run)
    filters = run.merged_filters(filters, list(cfg.filters) or ["none"])   # earlier filter sets kept
    timings["resolve_s"] = time.perf_counter() - t0

    # ---- detect: only videos not yet cached --------------------------------------------------
    t1 = time.perf_counter()
    already = set(run.done(selected))
    todo = [v for v in selected if v not in already]
    if decode and todo:   # each video to decode must be the file the index was built from
        verify_videos(index, todo)
    executor = cfg.executor or LocalExecutor(cfg.jobs)
    inline = getattr(executor, "in_process", executor.workers <= 1)
    # several shards per worker balance the load (and bound the work a dead worker loses)
    size = min(cfg.shard_size, max(1, math.ceil(len(todo) / (4 * max(executor.workers, 1)))))
    shards = make_shards(todo, size if not inline else max(len(todo), 1))
    specs = [ShardSpec(index_dir=str(index.path), video_ids=tuple(s), model=model,
                       options=tuple(sorted(options.items())), run_dir=str(run.path), weights=cfg.weights,
                       device=cfg.device, dtype=cfg.dtype, box_source=box_source, batch_size=cfg.batch_size,
                       decode=decode, backend=cfg.backend, progress=cfg.progress and inline)
             for s in shards if s]
    detect_stats: Dict[str, float] = {"videos": 0, "failed": 0, "frames": 0, "calls": 0, "decode_s": 0.0,
                                      "detect_s": 0.0, "boxes_s": 0.0, "commit_s": 0.0}
    bar = None
    if cfg.progress and not inline and specs:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc=f"{model} videos", unit="video")
    for res in executor.map(run_shard, specs):
        for k in detect_stats:
            detect_stats[k] += res.get(k, 0)
        if bar is not None:
            bar.update(res["videos"])
            bar.set_postfix_str(f"{detect_stats['frames'] / max(time.perf_counter() - t1, 1e-9):.0f} frames/s",
                                refresh=False)
    if bar is not None:
        bar.close()
    timings["detect_s"] = time.perf_counter() - t1
    timings.update({f"detect.{k}": v for k, v in detect_stats.items() if k.endswith("_s")})

    # ---- merge + score every cached video of this index ---------------------------------------
    from wflwv.harness.report import score_and_write

    index_order = index.video_ids(None)
    cached = set(run.done(index_order))
    order = plan.keep([v for v in index_order if v in cached])
    failures = run.failures([v for v in selected if v not in cached])
    if cfg.limit is None:
        failures.update(build_failures(index, subset))
    if not order:
        detail = "; ".join(f"{v}: {r}" for v, r in list(failures.items())[:3])
        raise ValueError(f"no video of {cfg.dataset} could be evaluated ({len(failures)} failed"
                         + (f": {detail}" if detail else "") + ")")
    t2 = time.perf_counter()
    run.write_merged(order)
    timings["merge_s"] = time.perf_counter() - t2
    context = RunContext(
        model=cfg.model, model_name=model, options=options, index=index, subset=subset, selected=selected,
        all_ids=all_ids, limit=cfg.limit, exclude_unreliable=exclude, decode=decode, backend=cfg.backend,
        device=cfg.device, seed=cfg.seed, fields=fields, extra=extra, detect_stats=detect_stats,
        n_new_videos=len(todo), batch_size=cfg.batch_size, jobs=executor.workers, progress=cfg.progress,
        executor=executor.describe() if hasattr(executor, "describe") else {"workers": executor.workers},
        failures=failures, metrics=tuple(metrics), box_source_cfg=source.config(),
        protocol=plan, command=cfg.command)
    return score_and_write(run, order, filters, dcfg, context, timings, t0)
