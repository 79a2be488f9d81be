"""``wflwv ls``: list registry entries without importing them."""

from __future__ import annotations

import click

from wflwv.registry import REGISTRIES


@click.command("ls")
@click.argument("kind", required=False, type=click.Choice(sorted(REGISTRIES)))
@click.argument("pattern", required=False)
def ls(kind: str | None, pattern: str | None) -> None:
    """List registered names (optionally one KIND, optionally filtered by a wildcard PATTERN).

    \b
    Examples:
      wflwv ls
      wflwv ls detectors
      wflwv ls detectors 'pipnet*'
    """
    kinds = [kind] if kind else sorted(REGISTRIES)
    for k in kinds:
        reg = REGISTRIES[k]
        click.echo(f"{k}:")
        names = reg.names(pattern)
        width = max((len(n) for n in names), default=0)
        for name in names:
            click.echo(f"  {name.ljust(width)}  {reg.entry(name).summary}")
