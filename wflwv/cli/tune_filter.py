"""``wflwv tune-filter``: grid-search filter parameters on one subset of a cached run."""

from __future__ import annotations

import click


@click.command("tune-filter")
@click.argument("run_dir")
@click.option("--filter", "filter_name", required=True, help="filter registry name, e.g. one-euro")
@click.option("--grid", "grid", multiple=True, help="key=v1,v2,... (repeatable); default: a built-in grid")
@click.option("--tune-subset", required=True, help="subset the parameters are chosen on (e.g. easy)")
@click.option("--apply-subset", default=None, help="subset the chosen parameters are then reported on")
@click.option("--max-nme-ratio", default=1.02, show_default=True, type=float,
              help="constraint: NME <= ratio x unfiltered NME on the tuning subset")
@click.option("--dataset", "index_dir", default=None, help="index folder (default: from the run summary)")
@click.option("--out", required=True, help="folder for tuning.csv, preset.json, pareto.png")
@click.option("--save-preset", "preset_name", default=None,
              help="also write OUT/<filter>@NAME.json, a preset for --filter <filter>@NAME (copy it to "
                   "wflwv/filters/presets/ to ship it)")
@click.option("--progress/--no-progress", default=True, show_default=True)
def tune_filter(run_dir, filter_name, grid, tune_subset, apply_subset, max_nme_ratio, index_dir, out,
                preset_name, progress) -> None:
    """Choose filter parameters on --tune-subset from RUN_DIR's cached predictions (no video decoded).

    Objective: minimise NMF subject to NME <= --max-nme-ratio x the unfiltered NME. Writes the
    grid with its NME-NMF Pareto front, the preset, and the result on --apply-subset.

    \b
    Examples:
      wflwv tune-filter runs/demo/synthetic-noisy-* --filter one-euro --tune-subset easy --apply-subset hard \\
          --out tuned/noisy-one-euro
      wflwv tune-filter RUN --filter ema --grid alpha=0.2,0.4,0.6,0.8 --tune-subset easy --out tuned/ema
    """
    from wflwv.harness.tune import parse_grid, tune

    try:
        preset = tune(run_dir, filter_name, tune_subset, apply_subset, parse_grid(grid) or None, max_nme_ratio,
                      out, index_dir, progress=progress)
    except (ValueError, KeyError) as exc:
        raise click.ClickException(str(exc)) from None
    table = preset["table"]
    base = preset["unfiltered_on_tuning_split"]
    sim = " [SIMULATED detector]" if preset["simulated"] else ""
    click.echo(f"{preset['detector']}{sim} · {filter_name} · tuned on {tune_subset} "
               f"({preset['n_feasible']}/{preset['n_grid_points']} grid points meet NME <= {preset['nme_limit']:.3f})")
    click.echo(f"  unfiltered:      NME io {base['video_nme.io']:.3f} %  NMF {base['nmf']:.2f}")
    if preset["params"] is None:
        click.echo("  no feasible point: " + preset["note"])
    else:
        t = preset["tuned_on_tuning_split"]
        click.echo(f"  chosen {preset['params']}: NME io {t['video_nme.io']:.3f} %  NMF {t['nmf']:.2f}")
    front = table[table["pareto"]].sort_values("video_nme.io")
    click.echo(f"  Pareto front ({len(front)} points):")
    for _, r in front.iterrows():
        click.echo(f"    {r['filter_id']:<60} NME {r['video_nme.io']:.3f}  NMF {r['nmf']:.2f}")
    app = preset.get("applied")
    if app:
        tag = " (in-sample: tuned on this split)" if app["tuned_on_eval_split"] else ""
        u, tt = app["unfiltered"], app["tuned"]
        click.echo(f"  on {app['subset']}{tag}: unfiltered NME {u['video_nme.io']:.3f} NMF {u['nmf']:.2f}"
                   + ("" if tt is None else f" -> tuned NME {tt['video_nme.io']:.3f} NMF {tt['nmf']:.2f}"))
    click.echo(f"wrote {out}/tuning.csv, preset.json, pareto.png")
    if preset_name:
        import sys
        from pathlib import Path

        from wflwv.filters.presets import PresetError, from_tuning
        from wflwv.io.atomic import atomic_write_json

        try:
            p = from_tuning(preset, preset_name, command="wflwv " + " ".join(sys.argv[1:]))
        except PresetError as exc:
            raise click.ClickException(str(exc)) from None
        atomic_write_json(Path(out) / f"{p['id']}.json", p)
        click.echo(f"wrote preset {out}/{p['id']}.json (use: --filter {p['id']})")
