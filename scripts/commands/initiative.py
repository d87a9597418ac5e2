"""`commons initiative draft|revise|sign|withdraw|list|show|submit`: members raise proposals themselves."""

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from governance.action_file import read_actions
from governance.chain import KeySigner, Signer
from governance.client import Commons, when
from governance.errors import InvalidInput
from governance.initiatives import DEFAULT_SUPPORT_DAYS, Initiatives, InitiativeView, SupportSignature, sign_support
from governance.treasury_acts import resolve_asset
from scripts.console import out, print_json
from scripts.options import Reading, Sending, reads, sends
from scripts.sending import carry_out, signer_for

app = typer.Typer(
    help="Initiatives: any member drafts a proposal, other members co-sign it, and enough support puts it to a vote.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

ActionsArgument = Annotated[
    Path, typer.Argument(metavar="ACTIONS.toml", help="TOML file with one [[action]] table per action (as `propose several`).")
]
TextOption = Annotated[
    Path, typer.Option("--text", metavar="FILE", help="Markdown file with the initiative's text; first line '# Title'.")
]
InitiativeArgument = Annotated[int, typer.Argument(metavar="INITIATIVE", help="The initiative's number.")]


def _read(commons: Commons, actions_file: Path, text: Path) -> tuple[list, str]:
    if not text.is_file():
        raise InvalidInput(f"The initiative's text file {text} does not exist.")
    actions = read_actions(actions_file, commons.addresses, lambda token: resolve_asset(commons, token))
    return actions, text.read_text()


def _report(how: Sending, result: dict) -> None:
    if how.as_json:
        print_json(result)


@app.command("draft")
@sends
def draft(actions_file: ActionsArgument, text: TextOption, how: Sending):
    """Draft an initiative (members only): the proposal it would become, for other members to support."""
    commons = how.commons()
    initiatives = Initiatives(commons)
    proposal, description = _read(commons, actions_file, text)
    result = carry_out(commons, initiatives.plan_draft(proposal, description), how)
    if result["sent"]:
        result["initiative"] = initiatives.count()
        if not how.as_json:
            out.print(f"Initiative [bold]{result['initiative']}[/]; it needs {initiatives.needed()} supporters, you included.")
    _report(how, result)


@app.command("revise")
@sends
def revise(initiative: InitiativeArgument, actions_file: ActionsArgument, text: TextOption, how: Sending):
    """Replace your initiative's actions and text; supporters must sign again."""
    commons = how.commons()
    proposal, description = _read(commons, actions_file, text)
    _report(how, carry_out(commons, Initiatives(commons).plan_revise(initiative, proposal, description), how))


def _sign_typed(commons: Commons, signer: Signer, typed: dict) -> bytes:
    """The signer's EIP-712 signature: with its own key, or by the local node for a development account."""
    if isinstance(signer, KeySigner):
        return sign_support(typed, signer.account)
    answer = commons.w3.provider.make_request("eth_signTypedData_v4", [signer.address, json.dumps(typed)])  # type: ignore[arg-type]
    if "result" not in answer:
        raise InvalidInput(f"The node would not sign for {signer.address}: {answer.get('error')}")
    return bytes.fromhex(answer["result"][2:])


@app.command("sign")
@sends
def sign(
    initiative: InitiativeArgument,
    days: Annotated[int, typer.Option("--days", help="How many days the signature counts.")] = DEFAULT_SUPPORT_DAYS,
    *,
    how: Sending,
):
    """Support an initiative: sign its exact actions and text (valid --days days) and post the signature."""
    if days <= 0:
        raise InvalidInput("A signature of support must count for at least one day.")
    commons = how.commons()
    initiatives = Initiatives(commons)
    signer = signer_for(commons.w3, how.dev_account)
    expiry = commons.chain_time() + days * 24 * 3600
    typed = initiatives.support_typed_data(initiative, signer.address, expiry)
    message = typed["message"]
    support = SupportSignature(
        initiative, message["revision"], signer.address, message["nonce"], expiry, _sign_typed(commons, signer, typed)
    )
    result = carry_out(commons, initiatives.plan_post_support(support), how, signer)
    result.update(initiative=initiative, expiry=expiry, signature="0x" + support.signature.hex())
    if result["sent"] and not how.as_json:
        out.print(initiatives.initiative(initiative).progress + ".")
    _report(how, result)


@app.command("withdraw")
@sends
def withdraw(
    initiative: InitiativeArgument,
    support: Annotated[bool, typer.Option("--support", help="Withdraw your support instead of your own initiative.")] = False,
    *,
    how: Sending,
):
    """Withdraw your initiative for good (its author), or with --support your signature of support."""
    commons = how.commons()
    initiatives = Initiatives(commons)
    plan = initiatives.plan_withdraw_support(initiative) if support else initiatives.plan_withdraw(initiative)
    _report(how, carry_out(commons, plan, how))


@app.command("submit")
@sends
def submit(initiative: InitiativeArgument, how: Sending):
    """Put an initiative with enough support to a vote (anyone may); it becomes a proposal with its author named."""
    commons = how.commons()
    initiatives = Initiatives(commons)
    result = carry_out(commons, initiatives.plan_submit(initiative), how)
    if result["sent"]:
        view = initiatives.initiative(initiative)
        result.update(initiative=initiative, proposal_id=str(view.proposal_id), number=commons.numbers()[view.proposal_id])
        if not how.as_json:
            out.print(f"Initiative {initiative} is proposal [bold]#{result['number']}[/].")
    _report(how, result)


def _json(view: InitiativeView, commons: Commons) -> dict:
    data = asdict(view)
    data.pop("signatures")
    data.update(
        title=view.title,
        progress=view.progress,
        support_count=view.support_count,
        proposal_id=str(view.proposal_id) if view.proposal_id else None,
        proposal_number=commons.numbers().get(view.proposal_id) if view.proposal_id else None,
        actions=[{"target": a.target, "value": str(a.value), "calldata": "0x" + a.calldata.hex()} for a in view.actions],
    )
    return data


def _status(view: InitiativeView, commons: Commons) -> str:
    return f"proposed as {commons.label(view.proposal_id)}" if view.status == "proposed" else view.status


@app.command("list")
@reads
def list_initiatives(how: Reading):
    """Every initiative, newest first, with its support."""
    commons = how.commons()
    views = Initiatives(commons).initiatives()
    if how.as_json:
        return print_json([_json(v, commons) for v in views])
    if not views:
        out.print("No initiatives yet; any member can draft one with `commons initiative draft`.")
        return
    handles = commons.handles()
    table = Table("#", "title", "author", "support", "status")
    for v in views:
        table.add_row(str(v.id), escape(v.title), escape(handles.get(v.author, v.author)), v.progress, _status(v, commons))
    out.print(table)


@app.command("show")
@reads
def show(initiative: InitiativeArgument, how: Reading):
    """One initiative: text, actions in words, author, supporters, progress, status."""
    commons = how.commons()
    view = Initiatives(commons).initiative(initiative)
    if how.as_json:
        return print_json(_json(view, commons))
    handles = commons.handles()
    out.print(f"[bold]Initiative {view.id}: {escape(view.title)}[/] — {_status(view, commons)}, revision {view.revision}")
    out.print(f"By {escape(handles.get(view.author, view.author))}; {view.progress}.")
    if view.status == "open":
        out.print(f"Open until {when(view.expires_at)}.")
    for supporter in view.supporters:
        out.print(f"  supported by {escape(handles.get(supporter, supporter))}")
    out.print("Actions:")
    for line in view.actions_in_words:
        out.print(f"  • {escape(line)}")
    out.print()
    out.print(escape(view.description))
