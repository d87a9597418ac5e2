"""`commons propose admit|remove|appoint|recall|pay|setting|track|untrack|call|several`: put actions to a vote (stewards)."""

import json
from pathlib import Path
from typing import Annotated

import typer

from governance import actions as act
from governance import treasury
from governance.action_file import read_actions
from governance.actions import Action
from governance.client import Commons
from governance.errors import InvalidInput
from governance.treasury_acts import resolve_asset
from governance.warnings import check_proposable, proposal_warnings, token_for_tracking
from scripts.console import escape, out, print_json
from scripts.options import Sending, sends
from scripts.sending import carry_out, signer_for

app = typer.Typer(
    help="Submit a proposal (stewards only). The text is Markdown from --text FILE, first line '# Title'.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

TextOption = Annotated[
    Path, typer.Option("--text", metavar="FILE", help="Markdown file with the proposal text; first line '# Title'.")
]
MemberArgument = Annotated[str, typer.Argument(metavar="MEMBER", help="A member's handle or address.")]


def propose(commons: Commons, proposal_actions: list[Action], text: Path, how: Sending) -> None:
    """Show, simulate and (unless --dry-run) send a proposal of `proposal_actions` with the text in the file `text`."""
    if not text.is_file():
        raise InvalidInput(f"The proposal text file {text} does not exist.")
    check_proposable(commons, proposal_actions)
    description = text.read_text()
    signer = signer_for(commons.w3, how.dev_account)  # the text is bound to its proposer, so the signer comes first
    plan = commons.plan_propose(proposal_actions, description, signer.address)
    warnings = proposal_warnings(commons, proposal_actions)
    if not how.as_json:
        for warning in warnings:
            out.print(f"[bold yellow]Warning:[/] {escape(warning)}")
    result = carry_out(commons, plan, how, signer)
    if warnings:
        result["warnings"] = warnings
    proposal_id = commons.proposal_id_of(proposal_actions, description, signer.address)
    numbers = commons.numbers()
    result.update(proposal_id=str(proposal_id), number=numbers.get(proposal_id, len(numbers) + 1))  # + 1: not sent yet
    if how.as_json:
        print_json(result)
    elif result["sent"]:
        out.print(f"Proposal [bold]#{result['number']}[/] (id {proposal_id}).")


@app.command("admit")
@sends
def propose_admit(
    address: Annotated[str, typer.Argument(metavar="ADDRESS", help="The newcomer's address.")],
    handle: Annotated[str, typer.Argument(metavar="HANDLE", help="The name the commons will know them by.")],
    text: TextOption,
    how: Sending,
):
    """Propose admitting ADDRESS as a member with HANDLE."""
    commons = how.commons()
    propose(commons, [act.admit(commons.addresses, address, handle)], text, how)


@app.command("remove")
@sends
def propose_remove(member: MemberArgument, text: TextOption, how: Sending):
    """Propose removing a member."""
    commons = how.commons()
    propose(commons, [act.remove(commons.addresses, commons.member_address(member))], text, how)


@app.command("appoint")
@sends
def propose_appoint(member: MemberArgument, text: TextOption, how: Sending):
    """Propose appointing a member as a steward."""
    commons = how.commons()
    propose(commons, [act.appoint_steward(commons.addresses, commons.member_address(member, "steward"))], text, how)


@app.command("recall")
@sends
def propose_recall(
    steward: Annotated[str, typer.Argument(metavar="STEWARD", help="The steward's handle or address.")],
    text: TextOption,
    how: Sending,
):
    """Propose recalling a steward."""
    commons = how.commons()
    propose(commons, [act.recall_steward(commons.addresses, commons.member_address(steward, "steward"))], text, how)


@app.command("pay", context_settings={"ignore_unknown_options": True})  # so that -1 reaches the amount check
@sends
def propose_pay(
    recipient: Annotated[str, typer.Argument(metavar="RECIPIENT", help="A member's handle or any address.")],
    amount_eth: Annotated[str, typer.Argument(metavar="AMOUNT", help="How much, in ETH or in --token's units (e.g. 1.5).")],
    text: TextOption,
    token: Annotated[
        str | None, typer.Option("--token", metavar="SYMBOL|ADDRESS", help="Pay in a token the commons tracks (default: ETH).")
    ] = None,
    *,
    how: Sending,
):
    """Propose paying an amount of ETH, or of a tracked token, from the treasury to RECIPIENT."""
    commons = how.commons()
    to = commons.member_address(recipient, "recipient")
    if token is None:
        propose(commons, [act.pay(to, act.parse_eth(amount_eth))], text, how)
        return
    asset = resolve_asset(commons, token)
    propose(commons, [treasury.pay_token(asset, to, treasury.parse_amount(amount_eth, asset, "a payment"))], text, how)


@app.command("setting")
@sends
def propose_setting(
    name: Annotated[str, typer.Argument(metavar="NAME", help=f"One of: {', '.join(act.SETTINGS)}.")],
    value: Annotated[
        str,
        typer.Argument(metavar="VALUE", help="A duration (90s, 2h, 3d); the quorum (30) or support share (12.5%) in percent."),
    ],
    text: TextOption,
    how: Sending,
):
    """Propose changing a setting of the governor, timelock or initiatives.

    The initiatives' settings: support-share (the share of members whose support puts an initiative to a vote, in
    percent) and initiative-lifetime (how long one stays open after its latest draft or revision).
    """
    if name not in act.SETTINGS:
        raise InvalidInput(f"{name!r} is not a setting; the settings are {', '.join(act.SETTINGS)}.")
    commons = how.commons()
    propose(commons, [act.change_setting(commons.addresses, name, act.setting_value(name, value))], text, how)


TokenArgument = Annotated[
    str, typer.Argument(metavar="TOKEN", help="The token's address, or the symbol of a token this commons tracks (or tracked).")
]


@app.command("track")
@sends
def propose_track(token: TokenArgument, text: TextOption, how: Sending):
    """Propose tracking an ERC-20 token in the treasury.

    A tracked token is accepted as a contribution and listed among the treasury's assets.
    """
    commons = how.commons()
    propose(commons, [act.track_token(commons.addresses, token_for_tracking(commons, token, track=True))], text, how)


@app.command("untrack")
@sends
def propose_untrack(token: TokenArgument, text: TextOption, how: Sending):
    """Propose to stop tracking a token in the treasury.

    What the treasury holds of it stays there; contributions in it are no longer accepted.
    """
    commons = how.commons()
    propose(commons, [act.untrack_token(commons.addresses, token_for_tracking(commons, token, track=False))], text, how)


@app.command("call")
@sends
def propose_call(
    target: Annotated[str, typer.Argument(metavar="TARGET", help="The contract's address.")],
    signature: Annotated[str, typer.Argument(metavar="SIGNATURE", help="Function signature, e.g. 'transfer(address,uint256)'.")],
    args: Annotated[str, typer.Argument(metavar="ARGS", help="Arguments as a JSON list, e.g. '[\"0xabc…\", 5]'.")] = "[]",
    text: TextOption = Path("proposal.md"),
    value_eth: Annotated[str, typer.Option("--value", metavar="ETH", help="ETH sent with the call.")] = "0",
    *,
    how: Sending,
):
    """Propose any contract call from the treasury."""
    try:
        parsed = json.loads(args)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"The arguments are not a JSON list: {exc.msg}.") from exc
    if not isinstance(parsed, list):
        raise InvalidInput("The arguments must be a JSON list.")
    value = act.parse_call_value(value_eth)
    propose(how.commons(), [act.contract_call(target, signature, parsed, value)], text, how)


@app.command("several")
@sends
def propose_several(
    actions_file: Annotated[
        Path, typer.Argument(metavar="ACTIONS.toml", help="TOML file with one [[action]] table per action, carried out in order.")
    ],
    text: TextOption,
    how: Sending,
):
    """Propose several actions at once, decided by one vote and carried out together (all or none).

    Each [[action]] has a `kind` and the arguments of the single-action command of that name: admit (address, handle),
    remove (address), appoint (address), recall (address), pay (recipient, eth; or recipient, token, amount),
    setting (name, value), track (token), untrack (token), call (target, signature, args, value_eth).
    """
    commons = how.commons()
    propose(commons, read_actions(actions_file, commons.addresses, lambda token: resolve_asset(commons, token)), text, how)
