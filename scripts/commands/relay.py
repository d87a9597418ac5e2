"""`commons relay status|fund`: keep the vote relay (which pays for members' signed ballots) funded."""

from typing import Annotated

import typer

from governance import actions as act
from governance.chain import connect
from governance.client import relay_status
from governance.config import get_settings
from scripts.console import eth, out, print_json
from scripts.options import JsonOption, RpcOption, Sending, sends
from scripts.sending import send_and_report

app = typer.Typer(
    help="The vote relay, which pays the gas of members' signed ballots so voting costs them nothing.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

LOCAL_API = "http://127.0.0.1:8000"  # where `commons serve` listens by default
ApiOption = Annotated[str, typer.Option("--api", metavar="URL", help="The commons' API, which runs the relay.")]


@app.command("status")
def status(api: ApiOption = LOCAL_API, rpc: RpcOption = None, as_json: JsonOption = False):
    """The relay's account, its balance and about how many votes it can still pay for, and ballots and members'
    initiative acts under way."""
    report = relay_status(api, connect(rpc or get_settings().rpc_url))
    if as_json:
        return print_json(report)
    votes_left, gas_price = report["votes_left_at_current_gas_price"], report["gas_price_wei"]
    out.print(
        f"Vote relay {report['address']} holds {eth(int(report['balance_wei']))}"
        + (f", enough for about {votes_left:,} votes at {gas_price / 10**9:.2f} gwei." if votes_left is not None else ".")
    )
    if report["available"]:
        out.print(f"It accepts ballots; {report['queued']} queued, {report['in_flight']} in flight.")
        acts = report.get("initiative_acts")
        if acts is not None:
            out.print(
                f"It sends members' drafts and supports of initiatives, {report['initiative_actions_per_day']} a day per "
                f"member: {acts.get('queued', 0)} queued, {acts.get('sent', 0)} in flight, {acts.get('done', 0)} done, "
                f"{acts.get('refused', 0)} refused."
            )
    else:
        out.print(
            f"[bold red]It refuses ballots[/] until it holds at least {eth(int(report['min_balance_wei']))}: "
            "`commons relay fund AMOUNT` tops it up."
        )


@app.command("fund")
@sends
def fund(
    amount_eth: Annotated[str, typer.Argument(metavar="ETH", help="How much to send, in ETH (e.g. 0.5).")],
    api: ApiOption = LOCAL_API,
    *,
    how: Sending,
):
    """Send ETH from your account to the relay of this commons, so members keep voting for free."""
    commons = how.commons()
    send_and_report(commons, commons.plan_fund_relay(api, act.parse_eth(amount_eth)), how)
