"""Score the cache of a run directory and write its result files (Parquet, JSON, Markdown).

``frame_errors.parquet``: filter, video_id, subset, frame_index, nme_io, nme_fs (percent),
flicker (NMF units, NaN where no transition), valid. ``video_metrics.parquet``: filter,
video_id, subset, nme_io, nme_fs, nmf, n_frames, n_valid, n_transitions, skipped, and the per-video
GT-free columns (jitter_d1, jitter_d2, ref_dist, lag_frames, lag_ref_frames, lag_censored;
docs/gt_free_protocol.md), coverage, n_tracks, n_wrong_face, and ``status`` / ``reason`` (failed
videos get a row with their reason) / ``warning`` (timestamp fallback; docs/box_sources.md).
``summary.json``: provenance (anchors §1), ``failures``, ``warnings`` and one result row per
subset × filter (with ``n_failed_videos``, ``coverage``, ``n_tracks``, ``box_source``).
"""

from __future__ import annotations

import datetime as _dt
import time
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from wflwv.filters.presets import in_sample as preset_in_sample
from wflwv.harness.records import RunContext, ScoredFilter
from wflwv.harness.scoring import aggregate, apply_filter, build_ragged, filter_info, metric_meta, score
from wflwv.io.atomic import atomic_write_json, atomic_write_parquet, atomic_write_text

SUMMARY_FORMAT = 1
RESULT_COLUMNS = ("video_nme.io", "video_nme.fs", "nmf", "fr@0.10", "auc@0.10", "lag_frames", "lag_ms",
                  "jitter_d1", "jitter_d2", "ref_dist", "lag_ref_frames")


def _decoder(decode: bool, backend: str) -> Dict[str, Any]:
    if not decode:
        return {"backend": "none (simulated detector reads GT; video not decoded)", "version": None}
    from wflwv.io.video import backend_version, resolve_backend

    name = resolve_backend(backend)
    return {"backend": name, "version": backend_version(name)}


def score_all(run, order: Sequence[str], filters: Sequence[Any], det_scheme: str, index,
              exclude_unreliable: bool, chunk_videos: int = 64, progress: bool = False,
              frames: Optional[int] = None):
    """Ragged metadata plus per-filter ``(info, per_video, per_frame, filter_s, metrics_s)``.

    ``frames``: score only each video's first ``frames`` frames (a protocol's clip window).

    Videos are scored ``chunk_videos`` at a time, so the ``[F, N, 2]`` arrays of a whole split
    are never held at once (memory does not grow with the number of videos).
    """
    from wflwv.harness.executor import iter_chunks

    metas, parts = [], [[] for _ in filters]
    times = np.zeros((len(filters), 2))
    chunks = iter_chunks(order, chunk_videos)
    if progress:
        from tqdm import tqdm

        chunks = tqdm(chunks, total=-(-len(order) // chunk_videos), unit="chunk",
                      desc=f"score {len(filters)} filters")
    for chunk in chunks:
        rg = build_ragged(index, chunk, run.load_videos(chunk), det_scheme, exclude_unreliable,
                          tracks=run.load_tracks(chunk), frames=frames)
        for j, f in enumerate(filters):
            t = time.perf_counter()
            y = apply_filter(f, rg)
            t1 = time.perf_counter()
            parts[j].append(score(rg, y))
            times[j] += (t1 - t, time.perf_counter() - t1)
        rg.pred = rg.gt = None  # keep only the per-frame metadata
        rg.notes.pop("stability_ref", None)
        metas.append(rg)
    meta = merge_meta(metas)
    scored = []
    for j, f in enumerate(filters):
        pv = {k: np.concatenate([p[0][k] for p in parts[j]]) for k in parts[j][0][0]}
        pf = {k: np.concatenate([p[1][k] for p in parts[j]]) for k in parts[j][0][1]}
        scored.append(ScoredFilter(filter_info(f), pv, pf, float(times[j, 0]), float(times[j, 1])))
    return meta, scored


def merge_meta(metas):
    """Concatenate the light (pred/gt-free) :class:`Ragged` parts of consecutive chunks."""
    from wflwv.harness.scoring import Ragged

    if not metas:
        raise ValueError("no cached videos to score")
    lens = np.concatenate([np.diff(m.offsets) for m in metas])
    first = metas[0]
    warnings: Dict[str, str] = {}
    wrong: Dict[str, int] = {}
    for m in metas:
        warnings.update(m.warnings)
        wrong.update(m.notes.get("n_wrong_face", {}))
    return Ragged(video_ids=[v for m in metas for v in m.video_ids], subsets=[s for m in metas for s in m.subsets],
                  pred=None, gt=None, times=np.concatenate([m.times for m in metas]),
                  breaks=np.concatenate([m.breaks for m in metas]),
                  track_id=np.concatenate([m.track_id for m in metas]), warnings=warnings,
                  valid=np.concatenate([m.valid for m in metas]),
                  offsets=np.concatenate([[0], np.cumsum(lens)]).astype(np.int64), scheme=first.scheme,
                  pair=first.pair, cross_scheme=first.cross_scheme, mapping=first.mapping,
                  missing=np.concatenate([m.missing if m.missing is not None else np.zeros(len(m.valid), bool)
                                          for m in metas]), labelled=first.labelled,
                  notes={"n_wrong_face": wrong})


def _subset_of(index) -> Dict[str, str]:
    v = index.videos
    return dict(zip(v["video_id"].astype(str), v["subset"].astype(str)))


def result_rows(rg, scored, index, seed: int, failures: Optional[Dict[str, str]] = None,
                box_source: Optional[str] = None, plan: Any = None) -> List[Dict[str, Any]]:
    """One aggregate dict per subset × filter (plus ``all`` when several subsets are cached).

    ``failures`` (video_id → reason) are counted per subset in ``n_failed_videos``. ``plan`` (a
    :class:`wflwv.protocols.ProtocolPlan`) names the protocol and bounds ``n_videos_subset`` to its clips.
    """
    failures = failures or {}
    sub_of = _subset_of(index)
    failed_subs = [sub_of.get(v, "all") for v in failures]
    subs = np.asarray(rg.subsets)
    groups = {s: np.flatnonzero(subs == s) for s in sorted(set(rg.subsets) | set(failed_subs))}
    if len(groups) > 1:
        groups["all"] = np.arange(len(rg.video_ids))
    rows = []
    for subset, pos in groups.items():
        universe = index.video_ids(None if subset == "all" else subset)
        n_sub = len(plan.keep(universe) if plan is not None else universe)
        if plan is not None and plan.clips is not None and plan.clips.official:
            n_sub += sum(1 for v in plan.clips.missing if subset == "all" or _subset_of(index).get(v) == subset)
        n_failed = len(failed_subs) if subset == "all" else failed_subs.count(subset)
        for sf in scored:
            info, pv, pf = sf.info, sf.per_video, sf.per_frame
            # a preset scored on the index (fingerprint) and subset it was tuned on is in-sample
            in_sample = preset_in_sample(info.get("preset_tuning"), index.fingerprint, subset)
            row = {"subset": subset, "filter": info["id"], "causal": info["causal"],
                   "filter_params": info["params"], "n_videos_subset": n_sub,
                   "complete": bool(len(pos) == n_sub), "filter_preset": info.get("preset"),
                   "tuned_on_eval_split": in_sample, "gt_free": index.landmark_scheme is None,
                   "n_failed_videos": n_failed, "box_source": box_source,
                   "protocol": plan.name if plan is not None else "index"}
            row.update(aggregate(pv, pf, rg, pos, seed=seed))
            rows.append(row)
    return rows


def _frames_table(rg, scored):
    import pandas as pd

    lens = np.diff(rg.offsets)
    vid = np.repeat(np.asarray(rg.video_ids, dtype=object), lens)
    sub = np.repeat(np.asarray(rg.subsets, dtype=object), lens)
    fi = np.concatenate([np.arange(n) for n in lens]) if len(lens) else np.zeros(0, int)
    parts = []
    for sf in scored:
        info, pf = sf.info, sf.per_frame
        parts.append(pd.DataFrame({"filter": info["id"], "video_id": vid, "subset": sub,
                                   "frame_index": fi.astype(np.int32), "nme_io": pf["nme_io"],
                                   "nme_fs": pf["nme_fs"], "flicker": pf["flicker"], "valid": rg.valid}))
    return pd.concat(parts, ignore_index=True)


VIDEO_COLUMNS = ("nme_io", "nme_fs", "nmf", "n_frames", "n_valid", "n_transitions", "skipped",
                 "jitter_d1", "jitter_d2", "ref_dist", "lag_frames", "lag_ref_frames", "lag_censored",
                 "coverage", "n_tracks", "nad_1", "nad_4", "nad_16")


def _videos_table(rg, scored, failures: Dict[str, str], sub_of: Dict[str, str]):
    """Per (filter, video) metrics; failed videos get ``status=failed`` and their reason."""
    import pandas as pd

    parts = []
    for sf in scored:
        info, pv = sf.info, sf.per_video
        d = {"filter": info["id"], "video_id": rg.video_ids, "subset": rg.subsets}
        d.update({k: pv[k] for k in VIDEO_COLUMNS if k in pv})
        d["status"] = "ok"
        d["reason"] = ""
        d["warning"] = [rg.warnings.get(v, "") for v in rg.video_ids]
        d["n_wrong_face"] = [int(rg.notes.get("n_wrong_face", {}).get(v, 0)) for v in rg.video_ids]
        parts.append(pd.DataFrame(d))
        if failures:
            parts.append(pd.DataFrame({"filter": info["id"], "video_id": list(failures),
                                       "subset": [sub_of.get(v, "") for v in failures], "status": "failed",
                                       "reason": list(failures.values()), "warning": ""}))
    return pd.concat(parts, ignore_index=True)


def render_markdown(summary: Dict[str, Any]) -> str:
    """A small Markdown table of a run summary's result rows."""
    sim = " — **SIMULATED detector**" if summary["simulated"] else ""
    lines = [f"# {summary['model']['spec']} on {summary['dataset']['name']}{sim}", "",
             f"run `{summary['run']['dir']}` · boxes `{summary['protocol']['box_source']}` · "
             f"crop `{summary['protocol']['crop_protocol']}` · protocol `{summary.get('protocol_name', 'index')}` · "
             f"wflwv {summary['wflwv_git']}", "",
             "| subset | filter | causal | NME io % ↓ | NME fs % ↓ | NMF ↓ | FR@0.10 % ↓ | AUC@0.10 ↑ | lag frames "
             "| D2 % ↓ | ref dist % ↓ | coverage | tracks | videos | failed | frames |", "|" + "---|" * 16]
    for r in summary["results"]:
        lines.append(f"| {r['subset']} | {r['filter']} | {'yes' if r['causal'] else 'no'} | "
                     f"{r['video_nme.io']:.3f} | {r['video_nme.fs']:.3f} | {r['nmf']:.2f} | "
                     f"{r['fr@0.10']:.2f} | {r['auc@0.10']:.4f} | {r['lag_frames']:.2f} | "
                     f"{r['jitter_d2']:.3f} | {r['ref_dist']:.3f} | {r['coverage']:.3f} | {r['n_tracks']} | "
                     f"{r['n_videos']}/{r['n_videos_subset']} | {r['n_failed_videos']} | {r['n_frames']} |")
    if any(r.get("nad_curve") for r in summary["results"]):
        lines += ["", "| subset | filter | NAD@1 ×10³ ↓ | NAD@4 ×10³ ↓ | NAD@16 ×10³ ↓ | videos without NAD |",
                  "|" + "---|" * 6]
        lines += [f"| {r['subset']} | {r['filter']} | {r['nad_1']:.3f} | {r['nad_4']:.3f} | {r['nad_16']:.3f} | "
                  f"{r['n_skipped_nad']} |" for r in summary["results"]]
    clip = (summary.get("protocol_definition") or {}).get("clip_set")
    if clip:
        lines.append(f"\n- clip set: {clip['note']}")
    for f in summary.get("failures", []):
        lines.append(f"\n- failed `{f['video_id']}`: {f['reason']}")
    for w in summary.get("warnings", []):
        lines.append(f"\n- warning `{w['video_id']}`: {w['warning']}")
    return "\n".join(lines) + "\n"


def score_and_write(run, order, filters, dcfg, ctx: RunContext, timings: Dict[str, float],
                    t_start: float) -> Dict[str, Any]:
    """Score every filter over the cached videos ``order`` and write the run's result files."""
    from wflwv.provenance import environment, git_commit

    index = ctx.index
    t = time.perf_counter()
    plan = ctx.protocol
    rg, scored = score_all(run, order, filters, dcfg.landmark_scheme, index, ctx.exclude_unreliable,
                           progress=ctx.progress, frames=plan.frames if plan else None)
    timings["filter_s"] = float(sum(s.filter_s for s in scored))
    timings["metrics_s"] = float(sum(s.metrics_s for s in scored))
    failures = ctx.failures
    rows = result_rows(rg, scored, index, ctx.seed, failures, ctx.fields["box_source"], plan)
    for r in rows:   # provenance of every number (contract columns of issue 12)
        r["weights_verified"] = bool(ctx.extra.get("weights_verified", False))
        r["index_content_sha"] = ctx.extra["index_sha"]
    timings["score_s"] = time.perf_counter() - t
    t = time.perf_counter()
    atomic_write_parquet(run.path / "frame_errors.parquet", _frames_table(rg, scored))
    atomic_write_parquet(run.path / "video_metrics.parquet", _videos_table(rg, scored, failures, _subset_of(index)))
    simulated = bool(dcfg.simulated)
    summary = {
        "summary_format": SUMMARY_FORMAT,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "wflwv_git": git_commit(),
        "simulated": simulated,
        "simulated_label": (dcfg.notes if simulated else None),
        "run": {"dir": run.path.name, "key": run.key, "key_fields": ctx.fields},
        "model": {"spec": ctx.model, "name": ctx.model_name, "options": ctx.options,
                  "cfg": ctx.extra["detector_cfg"], "weights_sha256": ctx.fields["weights_sha256"],
                  "weights_verified": bool(ctx.extra.get("weights_verified", False))},
        "dataset": {"name": index.dataset, "index_path": str(index.path), "fingerprint": index.fingerprint,
                    "index_sha": ctx.extra["index_sha"], "builder_version": index.info.get("builder_version"),
                    "landmark_scheme": index.landmark_scheme, "scored_scheme": rg.scheme,
                    "normaliser_pair": list(rg.pair), "cross_scheme": rg.cross_scheme,
                    "scheme_mapping": rg.mapping, "subset_requested": ctx.subset or "all"},
        "protocol": {"box_source": ctx.fields["box_source"], "box_source_cfg": ctx.box_source_cfg,
                     "crop_protocol": dcfg.crop_protocol, "labelled": bool(rg.labelled),
                     "exclude_unreliable": bool(ctx.exclude_unreliable), "decoder": _decoder(
                         ctx.decode, ctx.backend), "fr_auc_rule": "simpson1e-4 over scored frames",
                     "nme_aggregation": "macro_video",
                     "timestamp_source": "index time_s; i / fps where unusable (see warnings)",
                     "gt_free": {"jitter": "D1/D2 per segment, % of the predicted landmark-box face size",
                                 "lag": "delay the filter adds, fitted against the GT (labelled) or a zero-lag "
                                        "smoothing of the raw detections (docs/gt_free_protocol.md)",
                                 "pair": list(rg.pair),
                                 "segments": "break at new tracks, scene cuts and frames without a face"}},
        "protocol_name": plan.name if plan is not None else "index",
        "protocol_definition": {
            "name": plan.name if plan is not None else "index",
            "definition": plan.definition if plan is not None else None,
            "clip_set": None if plan is None or plan.clips is None else {
                "official": plan.clips.official, "frames": plan.clips.frames, "note": plan.clips.note,
                "n_clips": len(plan.clips.video_ids), "missing": list(plan.clips.missing)}},
        "failures": [{"video_id": v, "reason": r} for v, r in failures.items()],
        "warnings": [{"video_id": v, "warning": w} for v, w in rg.warnings.items()],
        "counts": {"n_videos_requested_original": len(ctx.all_ids),
                   "n_videos_requested_effective": len(ctx.selected), "limit": ctx.limit,
                   "n_videos_detected_now": ctx.n_new_videos, "n_videos_cached": len(order),
                   "n_frames_cached": int(rg.offsets[-1]), "n_videos_failed": len(failures)},
        "filters": [s.info for s in scored],
        "metrics": metric_meta(),
        "metrics_checked": list(ctx.metrics),
        "results": rows,
        "command": ctx.command, "device": ctx.device, "seed": ctx.seed, "batch_size": ctx.batch_size, "jobs": ctx.jobs,
        "executor": ctx.executor,
        "environment": environment(with_torch=not simulated),
        "detect": ctx.detect_stats,
        "timings_s": timings,
    }
    atomic_write_text(run.path / "summary.md", render_markdown(summary))
    timings["write_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t_start
    atomic_write_json(run.path / "summary.json", summary)
    return summary
