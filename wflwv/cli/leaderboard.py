"""``wflwv leaderboard``: collect run summaries into CSV / Markdown / PNG and a static site."""

from __future__ import annotations

import click


@click.command("leaderboard")
@click.argument("runs", nargs=-1, required=True)
@click.option("--out", required=True, help="output folder, e.g. leaderboards/demo")
@click.option("--reference/--no-reference", default=True, show_default=True,
              help="include the published reference rows shipped in wflwv/data/reference.csv")
@click.option("--reference-file", default=None, help="another reference CSV with the same columns")
@click.option("--plots/--no-plots", default=True, show_default=True, help="write PNG figures")
@click.option("--site/--no-site", default=True, show_default=True, help="write index.html and leaderboard.json")
@click.option("--copy-runs", is_flag=True, help="copy each run's summary.json and Parquet files under OUT/run_files/ "
              "so the site's links keep working when OUT is published alone")
@click.option("--print/--no-print", "show", default=True, show_default=True, help="print the Markdown table")
def leaderboard(runs, out, reference, reference_file, plots, site, copy_runs, show) -> None:
    """Build a leaderboard from RUNS (RUNS_DIRs, run directories or summary.json files).

    \b
    Examples:
      wflwv leaderboard runs/demo --out leaderboards/demo
      wflwv leaderboard runs/demo --out leaderboards/site --copy-runs
      wflwv leaderboard runs/ other_runs/ --out leaderboards/mine --no-reference
    """
    from wflwv.leaderboard import LeaderboardError, build, render_markdown, write

    try:
        df = build(runs, reference=(reference_file or True) if reference else False)
        files = write(df, out, plots=plots, site=site, copy_runs=copy_runs)
    except (LeaderboardError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if show:
        click.echo(render_markdown(df[df["source"] == "wflwv"]))
    click.echo(f"wrote {len(files)} files to {out}: " + ", ".join(p.name for p in files))
