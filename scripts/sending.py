"""Sending a plan from the terminal: who signs, show it in words, simulate, confirm, send, report."""

import sys
from pathlib import Path

import typer
from rich.markup import escape
from web3 import Web3

from governance.chain import Signer
from governance.client import Commons, Plan
from governance.config import get_settings
from governance.errors import ConfigurationError
from governance.keys import development_signer, steward_signer
from scripts.console import out, print_json
from scripts.options import Sending


def signer_for(w3: Web3, dev_account: int | None) -> Signer:
    """The key from the keystore or environment; or, on anvil only, an unlocked development account.

    Raises ConfigurationError without a key (naming --dev-account on a local node), InvalidInput for a bad account.
    """
    if dev_account is not None:
        return development_signer(w3, dev_account)
    try:
        return steward_signer(get_settings(), _ask_password if sys.stdin.isatty() else None)
    except ConfigurationError as exc:
        if str(exc).startswith("No signing key") and "anvil" in w3.client_version.lower():
            raise ConfigurationError(f"{exc} On this local node, --dev-account N acts as its development account N.") from exc
        raise


def _ask_password(keystore: Path) -> str:
    return typer.prompt(f"Password for the keystore {keystore.name}", hide_input=True)


def carry_out(commons: Commons, plan: Plan, how: Sending, signer: Signer | None = None) -> dict:
    """Show `plan` in words, simulate it, and (unless --dry-run) confirm, sign and send it (as `signer` if given).

    Returns what was done, as --json prints it. Raises Reverted in words if the simulation or the transaction fails.
    """
    signer = signer or signer_for(commons.w3, how.dev_account)
    result: dict = {"sent": False, "simulated": False, "summary": plan.summary, "actions": plan.details}
    if plan.proposal_id is not None:
        result.update(proposal_id=str(plan.proposal_id), number=plan.number)
    if not how.as_json:
        out.print(f"[bold]{escape(plan.summary)}[/]  (from {signer.address})")
        for line in plan.details:
            out.print(f"  • {escape(line)}")
        for warning in plan.warnings:
            out.print(f"  [bold red]⚠ Power change:[/] {escape(warning)}")
    if plan.warnings:
        result["power_changes"] = plan.warnings
    commons.simulate(plan, signer.address)
    result["simulated"] = True
    if not how.as_json:
        out.print("[green]Simulation succeeded.[/]")
    if how.dry_run:
        return result
    if not how.yes and not how.as_json and sys.stdin.isatty():
        question = "Send it? This cannot be undone." if plan.irreversible else "Send it?"
        if not typer.confirm(question, default=not plan.irreversible):
            out.print("Nothing sent.")
            raise typer.Exit(0)
    receipt = commons.submit(plan, signer)
    result.update(
        sent=True, transaction=receipt["transactionHash"].to_0x_hex(), block=receipt["blockNumber"], gas_used=receipt["gasUsed"]
    )
    if not how.as_json:
        out.print(f"[green]Done[/] in block {result['block']}: {result['transaction']} (gas {result['gas_used']:,})")
    return result


def send_and_report(commons: Commons, plan: Plan, how: Sending) -> None:
    """carry_out, then print the result as JSON if --json asked for it."""
    result = carry_out(commons, plan, how)
    if how.as_json:
        print_json(result)
