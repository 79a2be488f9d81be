"""``wflwv build <dataset>``: a click group whose sub-commands come from the builders lazily.

Each registered dataset's command comes from :func:`wflwv.cli.build_options.command_for`; its
builder is imported only when that dataset is built, so ``wflwv build --help`` imports no builder
(and never torch).
"""

from __future__ import annotations

from typing import List, Optional

import click

from wflwv.registry import DATASETS


class BuildGroup(click.Group):
    """Lists DATASETS names; resolves ``command_for(name, DATASETS.get(name))`` on demand."""

    def list_commands(self, ctx: click.Context) -> List[str]:
        return DATASETS.names()

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        if name not in DATASETS:
            return None
        from wflwv.cli.build_options import command_for

        return command_for(name, DATASETS.get(name))

    def resolve_command(self, ctx: click.Context, args):
        name = args[0] if args else ""
        if args and name not in DATASETS and not name.startswith("-"):
            raise click.UsageError(str(DATASETS._unknown_message(name)), ctx)
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, DATASETS.entry(n).summary) for n in self.list_commands(ctx)]
        with formatter.section("Datasets"):
            formatter.write_dl(rows)


@click.group("build", cls=BuildGroup)
def build() -> None:
    """Index a dataset release into Parquet (videos, frames), validation.csv and a data card.

    \b
    Examples:
      wflwv build wflw-v --root /data/WFLW_V --splits /src/LDEQ_RwR/datasets/WFLW_V --out idx/wflw_v
      wflwv build 300vw --root /data/300VW_Dataset_2015_12_14 --out idx/300vw --verify-decode none
      wflwv build ytc --root /data/ytcelebrity --out idx/ytc
      wflwv build clips --root ~/videos --out idx/mine      # any folder of clips (unlabelled)
      wflwv build wflw-v --root R --out O --video-id=-3rDiJYQ6CQ
    """
