"""The ``wflwv`` command line: a click group whose sub-commands are imported lazily.

Each sub-command lives in its own module (``wflwv/cli/<command>.py``) and is imported only when
invoked, so ``wflwv ls`` and ``wflwv build`` never import torch.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Dict, List, Optional

import click

from wflwv import __version__

# command name -> "module:attr" (a click.Command)
COMMANDS: Dict[str, str] = {
    "ls": "wflwv.cli.ls:ls",
    "env": "wflwv.cli.env:env",
    "build": "wflwv.cli.build:build",
    "evaluate": "wflwv.cli.evaluate:evaluate",
    "leaderboard": "wflwv.cli.leaderboard:leaderboard",
    "compare": "wflwv.cli.compare:compare",
    "tune-filter": "wflwv.cli.tune_filter:tune_filter",
    "render": "wflwv.cli.render:render",
    "stability": "wflwv.cli.stability:stability",
}

_HELP = {
    "ls": "List registered datasets, detectors, filters and metrics.",
    "env": "Print library versions, devices and the wflwv git commit.",
    "build": "Index a dataset release into Parquet with a data card.",
    "evaluate": "Run a detector over an index, cache predictions, score filters.",
    "leaderboard": "Collect runs into CSV / Markdown / PNG leaderboards and a static site.",
    "compare": "Paired bootstrap of two runs on the same videos (ΔNME, ΔNMF).",
    "tune-filter": "Grid-search filter parameters on one subset (NME-NMF Pareto front).",
    "render": "Draw frames of an index with landmarks into PNG files.",
    "stability": "Shortcut: build clips + evaluate + leaderboard on a folder of videos.",
}


class LazyGroup(click.Group):
    """A click group that imports a sub-command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> List[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return _unavailable(name, f"this wflwv build has no '{name}' command module yet")
            raise
        return getattr(module, attr)

    def invoke(self, ctx: click.Context):
        """Run the sub-command; environment faults end in one line naming the path (exit 1)."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except Exception as exc:  # noqa: BLE001 — classified below, anything else propagates
            message = _user_error(exc)
            if message is None or (ctx.obj or {}).get("debug"):
                raise
            raise click.ClickException(message + "  (run with --debug for the traceback)") from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help without importing every command module.
        rows = [(name, _HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _unavailable(name: str, why: str) -> click.Command:
    @click.command(name=name, help=why)
    def _cmd() -> None:
        raise click.ClickException(why)

    return _cmd


def _user_error(exc: BaseException) -> Optional[str]:
    """One line for an error caused by the user's files or environment; None for a bug."""
    from wflwv.io.errors import UnreadableFile, describe_os_error

    if isinstance(exc, OSError):
        return describe_os_error(exc)
    if isinstance(exc, (UnreadableFile, MemoryError)):
        return str(exc) or "out of memory: use --limit or a machine with more memory"
    for mod, name in _USER_ERRORS:
        cls = getattr(sys.modules.get(mod), name, None)
        if cls is not None and isinstance(exc, cls):
            return str(exc)
    return None


# error classes whose messages already name the file and the fix (checked only if imported)
_USER_ERRORS = (("wflwv.datasets.index", "IndexError_"), ("wflwv.harness.cache", "RunDirError"),
                ("wflwv.harness.runlock", "RunLocked"), ("wflwv.detectors.checkpoint", "CheckpointError"),
                ("wflwv.io.video", "VideoError"), ("wflwv.datasets.report", "BuildError"))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="wflwv")
@click.option("--debug", is_flag=True, default=False, help="show the full traceback of any error")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """wflwv: how accurate (NME) and how stable (NMF) is a landmark detector on video?

    One way to evaluate any video: build an index, evaluate, tabulate. Labelled indexes get the
    GT metrics and the GT-free ones; unlabelled clips the GT-free ones (jitter, lag, coverage,
    tracks), with faces found by the face detector + tracker when the index has no boxes.

    \b
    Examples:
      wflwv build synthetic --preset demo --out build/demo
      wflwv evaluate --model noisy --dataset build/demo --filter none --filter one-euro
      wflwv leaderboard runs/ --out leaderboards/demo
    \b
      wflwv build clips --root ~/my_videos --out idx/mine
      wflwv evaluate --model dlib68 --dataset idx/mine --filter none --filter kalman --out runs/
      wflwv leaderboard runs/ --out leaderboards/mine
    """
    ctx.obj = {"debug": bool(debug or os.environ.get("WFLWV_DEBUG") == "1")}
