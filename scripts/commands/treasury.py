"""`commons contribute` and `commons treasury`: give to the commons in the open, and see what it holds and where
its money came from and went."""

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape

from governance import treasury
from governance.client import Commons
from governance.treasury import Flow
from governance.treasury_acts import plan_contribution, resolve_asset
from governance.treasury_chain import ChainTreasury, read_treasury
from scripts.console import out, print_json
from scripts.options import Reading, Sending, reads, sends
from scripts.sending import carry_out, signer_for

TokenOption = Annotated[
    str | None, typer.Option("--token", metavar="SYMBOL|ADDRESS", help="A token the commons tracks (default: ETH).")
]


@sends
def contribute(
    amount: Annotated[str, typer.Argument(metavar="AMOUNT", help="How much, in ETH or in the token's units (e.g. 12.5).")],
    token: TokenOption = None,
    note: Annotated[str, typer.Option("--note", metavar="TEXT", help="A short note kept with it (at most 280 bytes).")] = "",
    *,
    how: Sending,
):
    """Give ETH or a tracked token to the commons' treasury, recorded on the chain as yours with an optional note."""
    commons = how.commons()
    asset = resolve_asset(commons, token)
    units = treasury.parse_amount(amount, asset, "a contribution")
    signer = signer_for(commons.w3, how.dev_account)
    plans = plan_contribution(commons, asset, units, note, signer.address)
    quiet = Sending(**{**vars(how), "as_json": True}) if how.as_json else how
    steps = []
    for index, plan in enumerate(plans):
        if how.dry_run and index > 0:
            # The approval was only simulated, so the contribution cannot be: it is shown, to run after it.
            steps.append({"sent": False, "simulated": False, "summary": plan.summary, "actions": plan.details})
            if not how.as_json:
                out.print(f"[bold]{escape(plan.summary)}[/]  (after the approval, so not simulated now)")
            continue
        steps.append(carry_out(commons, plan, quiet, signer))
    result = {
        "asset": asset.address,
        "symbol": asset.symbol,
        "amount": str(units),
        "amount_text": asset.amount_in_words(units),
        "note": note,
        "sent": steps[-1]["sent"],
        "steps": steps,
    }
    if how.as_json:
        print_json(result)
    elif result["sent"]:
        out.print(f"Thank you: {asset.amount_in_words(units)} is in the treasury of “{escape(commons.manifest.name)}”.")


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _flow_json(state: ChainTreasury, flow: Flow, numbers: dict[str, int], handles: dict[str, str]) -> dict:
    asset = state.assets[flow.asset]
    return {
        "block_number": flow.block_number,
        "tx_hash": flow.tx_hash,
        "timestamp": flow.timestamp,
        "direction": flow.direction,
        "kind": flow.kind,
        "asset": flow.asset,
        "symbol": asset.symbol,
        "amount": str(flow.amount),
        "amount_text": asset.amount_in_words(flow.amount),
        "counterparty": flow.counterparty,
        "handle": handles.get(flow.counterparty),
        "note": flow.note,
        "proposal_number": numbers.get(flow.operation_id or ""),
    }


def _proposal_numbers(commons: Commons, state: ChainTreasury) -> dict[str, int]:
    """Timelock operation id → proposal number, from the events read (CallScheduled in a ProposalQueued transaction)."""
    ids = {proposal_id: number for number, proposal_id in enumerate(commons.proposal_ids(), start=1)}
    queued = {e.tx_hash: int(e.args["proposalId"]) for e in state.events if e.name == "ProposalQueued"}
    return {
        e.args["id"]: ids[queued[e.tx_hash]]
        for e in state.events
        if e.name == "CallScheduled" and e.tx_hash in queued and queued[e.tx_hash] in ids
    }


@reads
def treasury_command(
    recent: Annotated[int, typer.Option("--recent", metavar="N", help="How many recent flows to list.")] = 10,
    *,
    how: Reading,
):
    """What the treasury holds in each asset, and its recent flows: contributions with notes, other inflows, and
    payments by proposal #N."""
    commons = how.commons()
    state = read_treasury(how.rpc_url, commons.manifest, commons.w3.eth.block_number)
    numbers = _proposal_numbers(commons, state)
    handles = commons.handles()
    flows = [_flow_json(state, f, numbers, handles) for f in state.flows]
    balances = [
        {
            "asset": a.address,
            "symbol": a.symbol,
            "decimals": a.decimals,
            "tracked": a.address in state.tracked,
            "balance": str(state.balances[a.address]),
            "balance_text": a.amount_in_words(state.balances[a.address]),
        }
        for a in state.assets.values()
    ]
    unattributed = treasury.ETHER.amount_in_words(state.unattributed_ether)
    if how.as_json:
        return print_json(
            {
                "block": state.block,
                "balances": balances,
                "unattributed_ether": str(state.unattributed_ether),
                "recent": flows[-recent:][::-1],
            }
        )
    out.print(f"[bold]Treasury of “{escape(commons.manifest.name)}”[/] at block {state.block} ({commons.manifest.timelock})")
    for b in balances:
        out.print(f"  {b['balance_text']}" + ("" if b["tracked"] else "  (no longer tracked)"))
    if state.unattributed_ether:
        out.print(f"  of the ETH, {unattributed} came without a contribution (sent to the treasury directly)")
    out.print(f"[bold]Recent flows[/] (newest first, {min(recent, len(flows))} of {len(flows)}):")
    for f in flows[-recent:][::-1]:
        who = f"@{f['handle']}" if f["handle"] else f["counterparty"]
        if f["kind"] == "contribution":
            line = f"in   {f['amount_text']} from {who}" + (f" — “{f['note']}”" if f["note"] else "")
        elif f["direction"] == "in":
            line = f"in   {f['amount_text']} from {who}, unattributed (a plain transfer)"
        else:
            by = f" by #{f['proposal_number']}" if f["proposal_number"] else ""
            line = f"out  {f['amount_text']} to {who}{by}"
        out.print(f"  {_when(f['timestamp'])}  {escape(line)}")


def register(app: typer.Typer) -> None:
    """Add these commands to the `commons` command."""
    app.command("contribute", context_settings={"ignore_unknown_options": True})(contribute)  # -1 reaches the check
    app.command("treasury")(treasury_command)
