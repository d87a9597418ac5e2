"""Observer commands: sync, audit, serve (issue 3 fills these in)."""

import typer


def register(app: typer.Typer) -> None:
    """Add the observer commands to the `commons` command."""
