"""``wflwv env``: versions of everything that can change a result."""

from __future__ import annotations

import json

import click

from wflwv.provenance import environment


@click.command("env")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of aligned text")
@click.option("--torch/--no-torch", "with_torch", default=True, show_default=True,
              help="import torch to report its version and CUDA devices")
def env(as_json: bool, with_torch: bool) -> None:
    """Print python, numpy, torch, CUDA, opencv, decord and pyarrow versions and the git commit.

    \b
    Example:
      wflwv env
      wflwv env --json --no-torch
    """
    info = environment(with_torch=with_torch)
    if as_json:
        click.echo(json.dumps(info, indent=2, sort_keys=True))
        return
    width = max(len(k) for k in info)
    for key, value in info.items():
        click.echo(f"{key.ljust(width)}  {value}")
