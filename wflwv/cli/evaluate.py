"""``wflwv evaluate``: run detectors over an index, cache predictions, score filters."""

from __future__ import annotations

import click


@click.command("evaluate")
@click.option("--model", "models", multiple=True, required=True,
              help="detector registry name with options, e.g. noisy:sigma=0.004 or ldeq:rwr=false; "
                   "repeatable (each model is its own run)")
@click.option("--dataset", required=True, help="INDEX_DIR or INDEX_DIR:subset (e.g. build/wflwv:hard)")
@click.option("--filter", "filters", multiple=True, default=("none",), show_default=True,
              help="filter spec, repeatable: none, one-euro:min_cutoff=1.0,beta=0.05, kalman, ...")
@click.option("--weights", default=None, help="checkpoint file (only with a single --model)")
@click.option("--weights-sha256", "weights_sha256", default=None, metavar="HEX",
              help="pin the SHA-256 of --weights (releases without a published hash are otherwise "
                   "reported weights_verified=false)")
@click.option("--device", default="cpu", show_default=True, help="cpu | cuda | cuda:N")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default="float32",
              show_default=True, help="inference precision (part of the cache key); reduced-precision "
                                      "modes are offered only once validated against fp32 NME/NMF")
@click.option("--out", default="runs", show_default=True, help="RUNS_DIR collecting run sub-directories")
@click.option("--boxes", default=None,
              help="box source: dataset | gt | detector:hog[:every=K,roi=R,cut=C]; default: the index's boxes "
                   "when it has them, else detector:hog (face detector every 10 frames + tracker)")
@click.option("--protocol", default=None,
              help="named evaluation protocol (wflwv ls protocols): sets the clip set, frames, box source, crop "
                   "and metrics, e.g. qlot or rwr; default: 'index' (every video, the run's boxes and crop)")
@click.option("--metric", "metrics", multiple=True,
              help="metric to require (repeatable): nme, nmf, fr, auc, lag (need GT), jitter, coverage, tracks; "
                   "default: every metric the index allows. Checked before any detection.")
@click.option("--limit", default=None, help="smoke-test knob: first N videos, or a fraction such as 0.1")
@click.option("--batch-size", default=16, show_default=True, type=int, help="videos per detector batch")
@click.option("--jobs", default=None, type=int,
              help="parallel workers (video shards): local processes [default 1], or Ray workers "
                   "[default: one per CPU, or per --gpus-per-worker GPUs, of the Ray cluster]")
@click.option("--executor", "executor_name", type=click.Choice(["local", "ray"]), default="local",
              show_default=True, help="where shards run: local processes, or a Ray cluster (pip install "
                                      "'wflwv[ray]'; see docs/cluster.md)")
@click.option("--ray-address", default=None,
              help="join a running Ray cluster (auto | HOST:PORT); default: start a local Ray instance")
@click.option("--gpus-per-worker", default=None, type=float,
              help="GPUs each Ray worker asks for [default: 1 with --device cuda, else 0]")
@click.option("--decode", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="decode video frames; 'never' is allowed for simulated detectors only")
@click.option("--backend", default="auto", show_default=True, help="video decoder backend")
@click.option("--exclude-unreliable/--include-unreliable", default=None,
              help="drop frames the dataset flags unreliable (default: yes when any is flagged)")
@click.option("--seed", default=0, show_default=True, type=int, help="seed of the bootstrap CIs")
@click.option("--progress/--no-progress", default=True, show_default=True, help="tqdm progress bars")
def evaluate(models, dataset, filters, weights, weights_sha256, device, dtype, out, boxes, protocol, metrics,
             limit, batch_size, jobs,
             executor_name, ray_address, gpus_per_worker, decode, backend, exclude_unreliable, seed, progress) -> None:
    """Run each --model over --dataset, cache raw predictions, apply every --filter, write metrics.

    Each model gets its own run directory under --out, named by its cache key. A rerun of the same
    configuration reuses (or resumes) the cached predictions and only re-scores the filters.

    \b
    Examples:
      wflwv evaluate --model noisy --dataset build/demo --filter none --filter one-euro
      wflwv evaluate --model ldeq.wflw_v --weights final.pth.tar --dataset build/wflwv:hard \\
          --device cuda --filter none --filter ema:alpha=0.5 --out runs/
      wflwv evaluate --model oracle --model bimodal --dataset build/demo --limit 0.25
      wflwv evaluate --model noisy --dataset build/demo --executor ray --jobs 2
      wflwv evaluate --model dlib68 --dataset idx/my_clips --filter none --filter kalman   # unlabelled:
          # boxes from the face detector + tracker, GT-free jitter / lag / coverage / tracks
    """
    from wflwv.harness.evaluate import parse_limit

    if weights is not None and len(models) > 1:
        raise click.UsageError("--weights applies to one model; give one --model per call with --weights")
    try:
        lim = parse_limit(limit)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--limit") from None
    from wflwv.detectors import parse_options
    from wflwv.registry import DETECTORS

    for model in models:  # unknown names fail before any model runs
        try:
            DETECTORS.entry(parse_options(model)[0])
        except (KeyError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
    from wflwv.harness.executor import make_executor

    try:
        executor = make_executor(executor_name, jobs, ray_address, gpus_per_worker, device)
    except (ValueError, ImportError) as exc:
        raise click.UsageError(str(exc)) from None
    with executor:
        for model in models:
            _run_one(model, executor, dict(
                dataset=dataset, filters=filters, out=out, weights=weights, weights_sha256=weights_sha256,
                device=device, dtype=dtype,
                boxes=boxes, protocol=protocol, metrics=metrics or None, limit=lim, batch_size=batch_size, jobs=executor.workers, decode=decode,
                backend=backend, exclude_unreliable=exclude_unreliable, seed=seed, progress=progress,
                command=invoked_command()))


def invoked_command():
    """The ``wflwv ...`` command line of this process (None when not run as the wflwv program)."""
    import shlex
    import sys
    from pathlib import Path

    prog = Path(sys.argv[0]).name if sys.argv else ""
    return shlex.join(["wflwv"] + sys.argv[1:]) if prog in ("wflwv", "__main__.py") else None


def _run_one(model, executor, kw) -> None:
    """Evaluate one model with a shared executor and print its table."""
    from wflwv.harness.evaluate import EvalConfig, evaluate as run_eval

    cfg = EvalConfig(model=model, executor=executor, **kw)
    try:
        summary = run_eval(cfg)
    except (ValueError, KeyError, NotImplementedError, ImportError, RuntimeError) as exc:
        raise click.ClickException(f"{model}: {exc}") from None
    _print(summary, kw["out"])


def _print(summary, out) -> None:
    sim = "  [SIMULATED]" if summary["simulated"] else ""
    t = summary["timings_s"]
    c = summary["counts"]
    click.echo(f"\n{summary['model']['spec']}{sim} -> {out}/{summary['run']['dir']}  "
               f"({c['n_videos_detected_now']} videos detected now, {c['n_videos_cached']} cached, "
               f"{c.get('n_videos_failed', 0)} failed; boxes {summary['protocol']['box_source']}; "
               f"total {t.get('total_s', 0):.1f}s)")
    from wflwv.leaderboard.rows import protocol_nme

    kind = protocol_nme(summary)[0]          # the protocol's first NME normaliser (qlot: face size)
    click.echo(f"  {'subset':<10} {'filter (* offline)':<36} {'NME ' + kind + ' %':>9} {'NMF':>8} {'D2 %':>7} {'lag fr':>7} "
               f"{'cover':>6} {'tracks':>6} {'videos':>8}")
    for r in summary["results"]:
        label = (r["filter"] if len(r["filter"]) <= 34 else r["filter"][:31] + "...") + ("" if r["causal"] else " *")
        click.echo(f"  {r['subset']:<10} {label:<36} {r['video_nme.' + kind]:9.3f} {r['nmf']:8.2f} "
                   f"{r.get('jitter_d2', float('nan')):7.3f} {r.get('lag_frames', float('nan')):7.2f} "
                   f"{r.get('coverage', float('nan')):6.3f} {r.get('n_tracks', 0):>6} "
                   f"{r['n_videos']:>4}/{r['n_videos_subset']:<3}")
    if any(r.get("nad_curve") for r in summary["results"]):
        click.echo("  NAD x10^3 (1 / 4 / 16): " + "; ".join(
            f"{r['subset']} {r['filter']}: {r['nad_1']:.3f} / {r['nad_4']:.3f} / {r['nad_16']:.3f}"
            for r in summary["results"]))
    clip = (summary.get("protocol_definition") or {}).get("clip_set")
    click.echo(f"  {clip['note']}" if clip else f"  protocol {summary.get('protocol_name', 'index')}")
    for f in summary.get("failures", []):
        click.echo(f"  FAILED {f['video_id']}: {f['reason']}")
    for w in summary.get("warnings", []):
        click.echo(f"  warning {w['video_id']}: {w['warning']}")
