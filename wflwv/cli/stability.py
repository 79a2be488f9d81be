"""``wflwv stability``: shortcut for ``build clips`` + ``evaluate`` + ``leaderboard`` on a folder of clips."""

from __future__ import annotations

from pathlib import Path
from typing import Tuple

import click


@click.command("stability")
@click.argument("clips", type=click.Path(exists=True, path_type=Path))
@click.option("--model", "models", multiple=True, required=True, help="detector spec (repeatable), e.g. dlib68")
@click.option("--filter", "filters", multiple=True, default=("none", "one-euro", "kalman"),
              show_default=True, help="filter spec (repeatable); 'none' = unfiltered")
@click.option("--every", "everys", multiple=True, type=int, default=(10,), show_default=True,
              help="face detection every k frames, tracked in between (repeatable; 1 = every frame)")
@click.option("--runs", "runs", type=click.Path(path_type=Path), default=Path("runs/stability"),
              show_default=True, help="RUNS_DIR: the clips index (runs/index) and the run cache")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="leaderboard folder (leaderboard.csv / .md of every run under --runs)")
@click.option("--progress/--no-progress", default=True, show_default=True)
def stability(clips: Path, models: Tuple[str, ...], filters: Tuple[str, ...], everys: Tuple[int, ...],
              runs: Path, out: Path, progress: bool) -> None:
    """Shortcut: index CLIPS (a folder of videos, or an index), evaluate, tabulate the GT-free board.

    Exactly the three commands of the one pipeline:

    \b
      wflwv build clips --root CLIPS --out RUNS/index
      wflwv evaluate --model M --dataset RUNS/index --boxes detector:hog:every=K --filter ... --out RUNS
      wflwv leaderboard RUNS --out OUT
    """
    from wflwv.harness.stability import run_stability

    try:
        run_stability(clips, models, filters, everys, runs, out, progress, echo=click.echo)
    except (ValueError, KeyError, FileNotFoundError, ImportError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from None
