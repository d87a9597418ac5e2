"""The options `commons` sub-commands share, declared once.

A command that reads the commons declares `how: Reading` and gets --rpc, --manifest and --json; one
that sends declares `how: Sending` and gets those and --dev-account, --dry-run and --yes. The
decorators `reads` and `sends` add the options to the command's signature, which typer reads.
"""

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any

import typer

from governance.client import Commons
from governance.config import get_settings

RpcOption = Annotated[str | None, typer.Option("--rpc", metavar="URL", help="JSON-RPC URL of the chain [env COMMONS_RPC_URL].")]
ManifestOption = Annotated[
    Path | None, typer.Option("--manifest", metavar="FILE", help="Deployment manifest (default: found by chain id).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
DevAccountOption = Annotated[
    int | None,
    typer.Option(
        "--dev-account", metavar="N", help="Act as the local node's unlocked development account N (anvil only; no key involved)."
    ),
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show and simulate, but send nothing.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
ProposalArgument = Annotated[str, typer.Argument(metavar="PROPOSAL", help="The proposal's number (3 or #3) or full id.")]


@dataclass(frozen=True)
class Reading:
    """Where the commons is: --rpc, --manifest; and --json."""

    rpc: str | None = None
    manifest: Path | None = None
    as_json: bool = False

    @property
    def rpc_url(self) -> str:
        return self.rpc or get_settings().rpc_url

    def commons(self) -> Commons:
        """The commons on that chain; ConfigurationError if none is deployed there, RetryableError if no node answers."""
        return Commons.connect(self.rpc_url, self.manifest)


@dataclass(frozen=True)
class Sending(Reading):
    """Reading, and who sends and how: --dev-account, --dry-run, --yes."""

    dev_account: int | None = None
    dry_run: bool = False
    yes: bool = False


_ANNOTATIONS = {
    "rpc": RpcOption,
    "manifest": ManifestOption,
    "as_json": JsonOption,
    "dev_account": DevAccountOption,
    "dry_run": DryRunOption,
    "yes": YesOption,
}


def _with_options(options: type[Reading]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    added = [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=_ANNOTATIONS[f.name])
        for f in fields(options)
    ]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command)
        own = [p for p in signature.parameters.values() if p.name != "how"]

        @functools.wraps(command)
        def run(**given: Any) -> Any:
            how = options(**{p.name: given.pop(p.name) for p in added})
            return command(**given, how=how)

        run.__signature__ = signature.replace(parameters=own + added)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in own + added}
        return run

    return decorate


reads = _with_options(Reading)
sends = _with_options(Sending)
