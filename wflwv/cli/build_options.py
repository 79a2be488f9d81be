"""``wflwv build <dataset>`` commands: the shared options, each builder's own options, the factory.

Builders (:mod:`wflwv.datasets`) know nothing of click; this module maps each registered dataset
name to its command (:data:`COMMANDS`); an unknown (third-party) builder gets the common options.

IDs are only accepted as ``--video-id=<id>`` (IDs such as ``-3rDiJYQ6CQ`` start with ``-``), never
as bare arguments.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

import click


def common_options(fn: Callable) -> Callable:
    """Decorate ``fn`` with --root, --out, --verify-decode, --on-error, --backend, ... options."""
    opts = [
        click.option("--root", required=True, type=click.Path(exists=True),
                     help="the unpacked release (or archive, where supported)"),
        click.option("--out", "out", required=True, type=click.Path(file_okay=False),
                     help="index folder to write (replaced atomically)"),
        click.option("--verify-decode", type=click.Choice(["full", "sample", "none"]), default="full",
                     show_default=True, help="decode every frame and hash it / count all, hash a sample / "
                                             "trust the annotations (no decode)"),
        click.option("--on-error", type=click.Choice(["raise", "skip"]), default="raise", show_default=True,
                     help="stop on the first problem (nothing written) or skip the failing video"),
        click.option("--backend", type=click.Choice(["auto", "opencv", "decord"]), default="auto",
                     show_default=True, help="video decoder"),
        click.option("--timeout", "timeout_s", type=float, default=600.0, show_default=True,
                     help="per-video decode timeout in seconds (worker process is killed)"),
        click.option("--video-id", "video_ids", multiple=True, metavar="ID",
                     help="only these videos; write as --video-id=<ID> (IDs may start with '-')"),
        click.option("--landmark-margin", "outside_margin", type=click.FloatRange(min=0.0), default=1.0, show_default=True,
                     help="landmarks further outside the frame than this many face sizes are errors"),
        click.option("--progress/--no-progress", default=True, help="show a progress bar"),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def make_command(cls, name: str, extra: Callable[[Dict[str, Any]], Dict[str, Any]],
                 extra_options: List[Callable]) -> click.Command:
    """A click command that builds ``cls`` with the common options plus ``extra_options``."""

    def run(**kw: Any) -> None:
        from wflwv.datasets.report import BuildError

        root, out = kw.pop("root"), kw.pop("out")
        kwargs = extra(kw)
        kwargs.update(kw)
        kwargs["video_ids"] = list(kwargs.pop("video_ids") or []) or None
        try:
            builder = cls(root, **kwargs)
            index = builder.build(out)
        except BuildError as exc:
            text = str(exc)
            raise click.ClickException(text if text.startswith(f"{name}:") else f"{name}: {text}") from None
        info = index.info
        click.echo(f"{name}: {info['n_videos']} videos, {info['n_frames']} frames -> {out} "
                   f"({info['n_errors']} errors, {info['n_warnings']} warnings in validation.csv; "
                   f"decoded {builder.stats.get('decoded', 0)}, reused {builder.stats.get('reused', 0)})")
        for subset, c in info["subsets"].items():
            click.echo(f"  {subset:>6}: {c['videos']:5d} videos {c['frames']:8d} frames")

    run.__doc__ = f"Index the {name} release at --root into --out (Parquet, validation.csv, README.md card)."
    fn = common_options(run)
    for opt in reversed(extra_options):
        fn = opt(fn)
    return click.command(name, help=(cls.__doc__ or "").strip().splitlines()[0])(fn)


def _wflw_v(cls) -> click.Command:
    def extra(kw):
        return {"splits_dir": kw.pop("splits"), "official_splits": not kw.pop("custom_splits")}

    return make_command(cls, "wflw-v", extra, [
        click.option("--splits", type=click.Path(file_okay=False, exists=True), default=None,
                     help="folder holding easy_video_IDs.txt / hard_video_IDs.txt (default: --root)"),
        click.option("--custom-splits", is_flag=True,
                     help="accept non-official lists (format/uniqueness/disjointness still checked)"),
    ])


def _vw300(cls) -> click.Command:
    def extra(kw):
        return {"unreliable_csv": kw.pop("unreliable_frames"), "official_ids": not kw.pop("custom_ids"),
                "allow_partial": kw.pop("allow_partial")}

    return make_command(cls, "300vw", extra, [
        click.option("--unreliable-frames", type=click.Path(dir_okay=False, exists=True), default=None,
                     help="CSV video_id,frame_1b used when the release has no extra/ or extra.zip"),
        click.option("--custom-ids", is_flag=True,
                     help="accept any 3-digit IDs (categories from categories.csv in the root)"),
        click.option("--allow-partial", is_flag=True, help="index a subset of the 114 official IDs"),
    ])


def _ytc(cls) -> click.Command:
    def extra(kw):
        return {"annotations": kw.pop("annotations"), "init_dir": kw.pop("init_dir")}

    return make_command(cls, "ytc", extra, [
        click.option("--annotations", type=click.Path(file_okay=False, exists=True), default=None,
                     help="private <clip>/frame_%05d.pts annotations (results tagged gt=private)"),
        click.option("--init-dir", type=click.Path(file_okay=False, exists=True), default=None,
                     help="folder with Init_State/<clip>.mat files"),
    ])


def _synthetic(cls) -> click.Command:
    from wflwv.cli.build_synthetic import command

    return command(cls)


#: dataset name -> factory(builder class) -> click command
COMMANDS: Dict[str, Callable[[Any], click.Command]] = {
    "wflw-v": _wflw_v, "300vw": _vw300, "ytc": _ytc, "synthetic": _synthetic,
    "clips": lambda cls: make_command(cls, "clips", lambda kw: {}, []),
}


def command_for(name: str, cls) -> click.Command:
    """The ``wflwv build <name>`` command of builder ``cls`` (common options only when unknown)."""
    factory = COMMANDS.get(name)
    return factory(cls) if factory is not None else make_command(cls, name, lambda kw: {}, [])
