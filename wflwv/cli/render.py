"""``wflwv render``: draw index frames with their GT, or a run's raw and filtered predictions."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import click


@click.command("render")
@click.argument("source", metavar="INDEX_DIR|RUN_DIR", type=click.Path(exists=True, file_okay=False))
@click.option("--out", "out", default=None, type=click.Path(),
              help="a .png file (one grid image) or, for an index, a folder (one PNG per video and frame)")
@click.option("--video", "--video-id", "video_ids", multiple=True, metavar="ID",
              help="video(s) to draw; write as --video=<ID> when the ID starts with '-' [index default: spread]")
@click.option("--frames", "frames_spec", default=None, metavar="START:STOP:STEP",
              help="frames to draw, e.g. 0:60:10, 3,7,9 or 12 [default: the middle frame]")
@click.option("--frame", "frames", type=int, multiple=True, help="0-based frame index to draw (repeatable)")
@click.option("--mp4", "mp4", default=None, type=click.Path(),
              help="RUN_DIR only: also write an overlay clip of the selected frames (OpenCV, mp4v)")
@click.option("--filter", "filters", multiple=True, metavar="SPEC",
              help="RUN_DIR only: filtered tracks to draw (repeatable) [default: the run's filters]")
@click.option("--dataset", "index_dir", default=None, help="RUN_DIR only: the index [default: from the run]")
@click.option("--subset", default=None, help="pick videos from this subset (e.g. easy, hard)")
@click.option("--videos", "n_videos", type=int, default=4, show_default=True,
              help="number of videos when no --video is given (evenly spread over the index)")
@click.option("--cols", type=int, default=None, help="grid columns [default: frames per video, or 4]")
@click.option("--backend", type=click.Choice(["auto", "opencv", "decord"]), default="auto", show_default=True)
@click.option("--annotate/--no-annotate", default=True, show_default=True, help="INDEX_DIR: draw GT and boxes")
def render(source: str, out: Optional[str], video_ids: Sequence[str], frames_spec: Optional[str],
           frames: Sequence[int], mp4: Optional[str], filters: Sequence[str], index_dir: Optional[str], subset,
           n_videos: int, cols, backend: str, annotate: bool) -> None:
    """Draw frames of INDEX_DIR with GT landmarks, or of a video of RUN_DIR with its predictions.

    \b
    A run (a folder written by `wflwv evaluate`): raw detector output (red), each filter's track
    (blue, orange, ...) and the GT (green) when the index has one.
    \b
    Examples:
      wflwv render runs/demo/synthetic-noisy-* --video=-hNLdXkIp9l --frames 0:60:10 --out x.png
      wflwv render runs/demo/synthetic-noisy-* --video=-hNLdXkIp9l --frames 0:60 --mp4 x.mp4
      wflwv render build/demo --out data_cards/img/synthetic_frames.png --videos 4 --frame 0 --frame 30
    """
    if (Path(source) / "config.json").is_file() and not (Path(source) / "dataset_info.json").is_file():
        return _render_run(source, out, video_ids, frames_spec, frames, mp4, filters, index_dir, cols, backend)
    if mp4 or filters or index_dir:
        raise click.ClickException(f"{source} is an index, not a run directory: --mp4, --filter and --dataset "
                                   "draw predictions and need a RUN_DIR written by `wflwv evaluate`")
    if not out:
        raise click.ClickException("pass --out FILE.png (one grid) or --out FOLDER (one PNG per frame)")
    _render_index(source, out, video_ids, frames_spec, frames, subset, n_videos, cols, backend, annotate)


def _render_run(run_dir, out, video_ids, frames_spec, frames, mp4, filters, index_dir, cols, backend) -> None:
    from wflwv.render import load_run_tracks, parse_frames, render_mp4, render_png

    if len(video_ids) != 1:
        raise click.ClickException("pass exactly one --video ID to draw a run's predictions")
    if not out and not mp4:
        raise click.ClickException("pass --out FILE.png and/or --mp4 FILE.mp4")
    if out and Path(out).suffix.lower() != ".png":
        raise click.ClickException(f"--out {out}: a run is drawn into one .png grid; use a .png name")
    try:
        tracks = load_run_tracks(run_dir, video_ids[0], list(filters) if filters else None, index_dir)
        ks = parse_frames(frames_spec or ",".join(map(str, frames)) or None, tracks.n_frames)
        if out:
            path = render_png(tracks, ks, out, cols, backend)
            click.echo(f"render: {len(ks)} frames of {tracks.video_id} (raw + {len(tracks.filtered)} filters"
                       f"{' + GT' if tracks.gt is not None else ''}) -> {path}")
        if mp4:
            path, n = render_mp4(tracks, ks, mp4, backend=backend)
            click.echo(f"render: {n}-frame overlay clip -> {path}")
    except (ValueError, KeyError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None


def _render_index(index_dir, out, video_ids, frames_spec, frames, subset, n_videos, cols, backend, annotate) -> None:
    import numpy as np

    from wflwv.datasets.index import IndexError_, load_index
    from wflwv.datasets.synthetic import preview
    from wflwv.render import parse_frames

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
            ks = parse_frames(frames_spec, n) if frames_spec else (list(frames) or [n // 2])
        except (IndexError_, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
        picks += [(vid, int(k)) for k in ks]
    try:
        images = preview.render_frames(index, picks, backend=backend, annotate=annotate)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    target = Path(out)
    per_video = len(picks) // len(ids)
    if target.suffix.lower() == ".png":
        ncol = cols or (per_video if per_video > 1 else min(4, len(images)))
        preview.write_png(target, preview.grid(images, ncol))
        click.echo(f"render: {len(images)} frames of {len(ids)} videos -> {target}")
    else:
        for (vid, k), img in zip(picks, images):
            preview.write_png(target / f"frame_{vid}_{k:05d}.png", img)
        click.echo(f"render: {len(images)} PNG files -> {target}/")
