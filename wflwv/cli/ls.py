"""``wflwv ls``: list registry entries without importing them."""

from __future__ import annotations

import click

from wflwv.registry import REGISTRIES


@click.command("ls")
@click.argument("kind", required=False, type=click.Choice(sorted(REGISTRIES) + ["presets"]))
@click.argument("pattern", required=False)
def ls(kind: str | None, pattern: str | None) -> None:
    """List registered names (optionally one KIND, optionally filtered by a wildcard PATTERN).

    \b
    Examples:
      wflwv ls
      wflwv ls detectors
      wflwv ls detectors 'pipnet*'
      wflwv ls presets
    """
    if kind == "presets":
        _presets(pattern)
        return
    kinds = [kind] if kind else sorted(REGISTRIES)
    for k in kinds:
        reg = REGISTRIES[k]
        click.echo(f"{k}:")
        names = reg.names(pattern)
        width = max((len(n) for n in names), default=0)
        for name in names:
            click.echo(f"  {name.ljust(width)}  {reg.entry(name).summary}")


def _presets(pattern: str | None) -> None:
    """The shipped filter presets (``--filter NAME@PRESET``) with what they were tuned on."""
    import fnmatch

    from wflwv.filters.presets import summaries

    rows = [r for r in summaries() if pattern is None or fnmatch.fnmatch(r["id"], pattern)]
    click.echo("presets (use as --filter ID; in-sample when evaluated on the split they were tuned on):")
    w = max((len(r["id"]) for r in rows), default=0)
    for r in rows:
        click.echo(f"  {r['id'].ljust(w)}  tuned on {r['tuned_on']} (index {r['index_fingerprint']}) for "
                   f"{r['detector']}, {r['date']}: {r['params']}")
