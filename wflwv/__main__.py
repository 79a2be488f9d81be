"""``python -m wflwv`` runs the CLI."""

from wflwv.cli import main

main()
