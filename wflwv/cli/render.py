"""``wflwv render``: draw frames of an index with its GT landmarks into PNG files."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import click


@click.command("render")
@click.argument("index_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--out", "out", required=True, type=click.Path(),
              help="a .png file (one grid image) or a folder (one PNG per video and frame)")
@click.option("--video-id", "video_ids", multiple=True, metavar="ID",
              help="videos to draw; write as --video-id=<ID> (IDs may start with '-') [default: spread]")
@click.option("--subset", default=None, help="pick videos from this subset (e.g. easy, hard)")
@click.option("--videos", "n_videos", type=int, default=4, show_default=True,
              help="number of videos when no --video-id is given (evenly spread over the index)")
@click.option("--frame", "frames", type=int, multiple=True,
              help="0-based frame index to draw (repeatable) [default: the middle frame]")
@click.option("--cols", type=int, default=None, help="grid columns [default: frames per video, or 4]")
@click.option("--backend", type=click.Choice(["auto", "opencv", "decord"]), default="auto", show_default=True)
@click.option("--annotate/--no-annotate", default=True, show_default=True, help="draw GT landmarks and boxes")
def render(index_dir: str, out: str, video_ids: Sequence[str], subset, n_videos: int, frames: Sequence[int],
           cols, backend: str, annotate: bool) -> None:
    """Draw frames of INDEX_DIR with GT landmarks (green) and boxes (yellow) into PNG files.

    \b
    Examples:
      wflwv render build/demo --out data_cards/img/synthetic_frames.png --videos 4 --frame 0 --frame 30
      wflwv render build/demo --out renders/ --video-id=-hNLdXkIp9l --frame 10
    """
    import numpy as np

    from wflwv.datasets.index import IndexError_, load_index
    from wflwv.datasets.synthetic import preview

    try:
        index = load_index(index_dir)
        ids = list(video_ids) or index.video_ids(subset)
    except IndexError_ as exc:
        raise click.ClickException(str(exc)) from None
    if not ids:
        raise click.ClickException(f"index {index_dir} has no video to draw (subset {subset!r})")
    if not video_ids:
        pick = np.unique(np.linspace(0, len(ids) - 1, max(1, min(n_videos, len(ids)))).round().astype(int))
        ids = [ids[i] for i in pick]
    picks = []
    for vid in ids:
        try:
            n = int(index.video_row(vid)["n_frames"])
        except IndexError_ as exc:
            raise click.ClickException(str(exc)) from None
        for k in (frames or (n // 2,)):
            picks.append((vid, int(k)))
    try:
        images = preview.render_frames(index, picks, backend=backend, annotate=annotate)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    target = Path(out)
    if target.suffix.lower() == ".png":
        ncol = cols or (len(frames) if len(frames) > 1 else min(4, len(images)))
        preview.write_png(target, preview.grid(images, ncol))
        click.echo(f"render: {len(images)} frames of {len(ids)} videos -> {target}")
    else:
        for (vid, k), img in zip(picks, images):
            preview.write_png(target / f"frame_{vid}_{k:05d}.png", img)
        click.echo(f"render: {len(images)} PNG files -> {target}/")
