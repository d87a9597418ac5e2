"""`commons vote`, `queue`, `execute`, `cancel`, `delegate`, `resign`: a member's and a proposal's acts."""

from typing import Annotated

import typer

from governance.vocabulary import parse_support
from scripts.options import ProposalArgument, Sending, sends
from scripts.sending import send_and_report


@sends
def vote(
    proposal: ProposalArgument,
    support: Annotated[str, typer.Argument(metavar="SUPPORT", help="for, against or abstain")],
    reason: Annotated[str, typer.Option(help="Why you vote so; kept on-chain with the vote.")] = "",
    *,
    how: Sending,
):
    """Vote on a proposal from the terminal (members; the web page offers gasless voting)."""
    commons = how.commons()
    send_and_report(commons, commons.plan_vote(commons.resolve_proposal(proposal), parse_support(support), reason), how)


def _step(step: str, proposal: str, how: Sending) -> None:
    commons = how.commons()
    send_and_report(commons, commons.plan_lifecycle(step, commons.resolve_proposal(proposal)), how)


@sends
def queue(proposal: ProposalArgument, how: Sending):
    """Queue a passed proposal in the timelock."""
    _step("queue", proposal, how)


@sends
def execute(proposal: ProposalArgument, how: Sending):
    """Execute a queued proposal once the timelock delay has passed."""
    _step("execute", proposal, how)


@sends
def cancel(proposal: ProposalArgument, how: Sending):
    """Cancel your own proposal before voting starts."""
    _step("cancel", proposal, how)


@sends
def delegate(
    to: Annotated[str, typer.Argument(metavar="MEMBER", help="A member's handle or address; your own to take your vote back.")],
    how: Sending,
):
    """Delegate your vote to another member, or back to yourself."""
    commons = how.commons()
    send_and_report(commons, commons.plan_delegate(to), how)


@sends
def resign(how: Sending):
    """Leave the commons (anyone may, at any time; only a new admission brings you back)."""
    commons = how.commons()
    send_and_report(commons, commons.plan_resign(), how)


def register(app: typer.Typer) -> None:
    """Add these commands to the `commons` command."""
    for command in (vote, queue, execute, cancel, delegate, resign):
        app.command()(command)
