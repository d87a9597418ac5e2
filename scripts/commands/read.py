"""`commons info`, `members`, `stewards`, `proposals`, `proposal`: the commons as the chain says it is now."""

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from governance.client import Commons, ProposalView, when
from governance.errors import InvalidInput
from governance.initiatives import Initiatives, initiative_proposed_by, member_in_words
from governance.treasury_acts import holdings
from governance.vocabulary import PROPOSAL_STATES, STATE_IN_WORDS
from scripts.console import eth, out, print_json, settings_in_words
from scripts.options import ProposalArgument, Reading, reads


def quorum_in_words(view: ProposalView) -> str:
    """Where the proposal stands against its quorum, saying what counts and what is missing."""
    counted = f"{view.quorum_votes} of the {view.quorum} needed (For and Abstain votes count)"
    if view.quorum_votes >= view.quorum:
        return f"Quorum reached: {counted}."
    missing = view.quorum - view.quorum_votes
    return f"Quorum not reached: {counted}; {missing} more For or Abstain vote{'s' if missing != 1 else ''} needed."


def initiative_origin(commons: Commons, view: ProposalView, handles: dict[str, str]) -> dict | None:
    """The initiative proposal `view` came from, as the API's InitiativeOrigin shapes it (author and supporters as
    `InitiativeSubmitted` names them), or None if the Initiatives contract did not propose it."""
    contract = commons.manifest.initiatives
    if not contract or view.proposer.lower() != contract.lower():
        return None
    logs = (
        Initiatives(commons)
        .contract.events.InitiativeSubmitted()
        .get_logs(from_block=commons.manifest.deployment_block, argument_filters={"proposalId": view.id})
    )
    if not logs:
        return None
    a = logs[0]["args"]
    return {
        "id": a["id"],
        "revision": a["revision"],
        "author": a["author"],
        "author_handle": handles.get(a["author"]),
        "supporters": [{"address": s, "handle": handles.get(s)} for s in a["supporters"]],
    }


def proposed_by(view: ProposalView, origin: dict | None, named: Callable[[str, str | None], str]) -> str:
    """Who proposed it in truth, each member as `named` names them (the API's words with `member_in_words`)."""
    if origin is None:
        return named(view.proposer, view.proposer_handle or None)
    return initiative_proposed_by(origin, view.proposer, named)


def as_in_tables(address: str, handle: str | None) -> str:
    """'ada (0x…)', as this command's tables name a member (markup escaped); the bare address of anyone else."""
    return f"{escape(handle)} ({address})" if handle else address


def _proposal_json(view: ProposalView, votes: list | None = None) -> dict:
    data = asdict(view)
    data["id"] = str(view.id)
    data["actions"] = [{"target": a.target, "value": str(a.value), "calldata": "0x" + a.calldata.hex()} for a in view.actions]
    data.update(quorum_votes=view.quorum_votes, quorum_reached=view.quorum_votes >= view.quorum)
    if votes is not None:
        data["votes"] = [asdict(v) for v in votes]
    return data


def _named(address: str, handles: dict[str, str]) -> str:
    return as_in_tables(address, handles.get(address))


@reads
def info(how: Reading):
    """The commons: name, addresses, settings, counts, treasury."""
    commons = how.commons()
    view = commons.overview()
    held = [h for h in holdings(commons) if h.asset.is_eth or h.units]
    if how.as_json:
        data = asdict(view)
        data["treasury_wei"] = str(view.treasury_wei)
        data["treasury"] = [
            {"symbol": h.asset.symbol, "asset": h.asset.address, "balance": str(h.units), "balance_text": h.in_words}
            for h in held
        ]
        return print_json(data)
    out.print(f"[bold]{escape(view.name)}[/] on chain {view.chain_id}")
    for role, address in view.addresses.items():
        out.print(f"  {role:<11} {address}")
    treasury = " and ".join([eth(view.treasury_wei)] + [escape(h.in_words) for h in held if not h.asset.is_eth])
    out.print(f"  {view.member_count} members, {view.proposal_count} proposals, treasury {treasury}")
    out.print(f"  {settings_in_words(view.settings)}")


@reads
def members(how: Reading):
    """Current members with handle, delegate and votes."""
    views = how.commons().members()
    if how.as_json:
        return print_json([asdict(v) for v in views])
    handles = {v.address: v.handle for v in views}
    table = Table("#", "handle", "address", "votes", "delegates to", "steward")
    for v in views:
        table.add_row(
            str(v.token_id),
            escape(v.handle),
            v.address,
            str(v.votes),
            "self" if v.delegate == v.address else _named(v.delegate, handles),
            "yes" if v.steward else "",
        )
    out.print(table)


@reads
def stewards(how: Reading):
    """Current stewards, with their handles."""
    commons = how.commons()
    addresses, handles = commons.stewards(), commons.handles()
    if how.as_json:
        return print_json([{"address": a, "handle": handles.get(a, "")} for a in addresses])
    for address in addresses:
        out.print(_named(address, handles))


@reads
def proposals(
    state: Annotated[
        str | None, typer.Option(metavar="STATE", help=f"Only proposals in this state: {', '.join(PROPOSAL_STATES)}.")
    ] = None,
    *,
    how: Reading,
):
    """All proposals with state and tallies."""
    if state and state not in PROPOSAL_STATES:
        raise InvalidInput(f"Unknown state {state!r}; choose one of {', '.join(PROPOSAL_STATES)}.")
    views = [v for v in how.commons().proposals() if not state or v.state == state]
    if how.as_json:
        return print_json([_proposal_json(v) for v in views])
    table = Table("#", "title", "state", "for", "against", "abstain", "quorum (For + Abstain)", "voting closes")
    for v in views:
        missing = v.quorum - v.quorum_votes
        table.add_row(
            v.label,
            escape(v.title),
            v.state,
            str(v.votes_for),
            str(v.votes_against),
            str(v.votes_abstain),
            "reached" if missing <= 0 else f"{missing} more needed",
            when(v.deadline),
        )
    out.print(table)


@reads
def proposal(proposal: ProposalArgument, how: Reading):
    """One proposal: text, actions in words, tallies, quorum, state, and every vote with its reason."""
    commons = how.commons()
    view = commons.proposal(commons.resolve_proposal(proposal))
    votes, handles = commons.votes(view.id), commons.handles()
    origin = initiative_origin(commons, view, handles)
    if how.as_json:
        return print_json(
            _proposal_json(view, votes) | {"proposed_by": proposed_by(view, origin, member_in_words), "initiative": origin}
        )
    out.print(f"[bold]{view.label} {escape(view.title)}[/]  ({view.state}: it {STATE_IN_WORDS[view.state]})")
    out.print(f"id {view.id}\nproposed by {proposed_by(view, origin, as_in_tables)}")
    if origin is not None:
        out.print("supported by " + ", ".join(as_in_tables(s["address"], s["handle"]) for s in origin["supporters"]))
    out.print(
        f"voting {when(view.snapshot)} → {when(view.deadline)}" + (f"; executable from {when(view.eta)}" if view.eta else "")
    )
    out.print("Actions:")
    for line, power in zip(view.actions_in_words, view.power or [None] * len(view.actions_in_words)):
        out.print(f"  • {escape(line)}")
        if power:
            out.print(f"    [bold red]⚠ Power change:[/] {escape(power)}")
    out.print(f"For {view.votes_for} · Against {view.votes_against} · Abstain {view.votes_abstain}")
    out.print(quorum_in_words(view))
    if votes:
        out.print("Votes:")
        for v in votes:
            who = escape(v.handle) if v.handle else v.voter
            out.print(f"  {who}: {v.support}" + (f" — “{escape(v.reason)}”" if v.reason else ""))
    else:
        out.print("No votes yet.")
    out.print("\n" + escape(view.description))


def register(app: typer.Typer) -> None:
    """Add these commands to the `commons` command."""
    for command in (info, members, stewards, proposals, proposal):
        app.command()(command)
