"""``wflwv compare``: paired bootstrap of two runs on the same videos."""

from __future__ import annotations

import click


@click.command("compare")
@click.argument("run_a")
@click.argument("run_b")
@click.option("--csv", "csv_out", default=None, help="also write the table to this CSV file")
def compare(run_a, run_b, csv_out) -> None:
    """Is RUN_A different from RUN_B? Paired bootstrap over videos of ΔNME and ΔNMF (A − B).

    \b
    Example:
      wflwv compare runs/demo/synthetic-oracle-* runs/demo/synthetic-noisy-*
    """
    from wflwv.leaderboard.compare import LeaderboardError, compare_runs, render_compare, write_compare

    try:
        table, names = compare_runs(run_a, run_b)
    except (LeaderboardError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(render_compare(table, names))
    if csv_out:
        click.echo(f"wrote {write_compare(table, csv_out)}")
