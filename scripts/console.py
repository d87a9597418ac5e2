"""What every `commons` subcommand shares: the consoles, the failure exit, and the common options."""

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

out = Console()
err = Console(stderr=True, soft_wrap=True)

RpcOption = Annotated[Optional[str], typer.Option("--rpc", help="JSON-RPC URL of the chain [env COMMONS_RPC_URL].")]
ManifestOption = Annotated[Optional[Path], typer.Option("--manifest", help="Deployment manifest (default: found by chain id).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def fail(message: str) -> None:
    """Print `message` as an error and exit with status 1 (its text as it is: brackets are not markup)."""
    err.print(f"[bold red]error:[/] {escape(message)}")
    sys.exit(1)
