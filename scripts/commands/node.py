"""`commons node start|stop|status|advance`: the local anvil node, a managed process (as ape-foundry's)."""

from typing import Annotated

import typer

from governance import actions as act
from governance.chain import connect
from governance.client import when
from governance.config import get_settings
from governance.node import advance_clock, background_node, start_background_node, stop_background_node
from scripts.console import duration, out
from scripts.options import RpcOption

app = typer.Typer(
    help="The local anvil node (state kept in .state/anvil-state.json).", no_args_is_help=True, rich_markup_mode=None
)


@app.command("start")
def node_start(
    port: Annotated[int, typer.Option(metavar="PORT", help="Port on 127.0.0.1.")] = 8545,
    block_time: Annotated[
        float | None, typer.Option(metavar="SECONDS", help="Mine a block every N seconds (default: on each transaction).")
    ] = None,
):
    """Start the local anvil node in the background; its state survives restarts."""
    running = background_node()
    if running:
        out.print(f"The local node already runs at {running['url']} (pid {running['pid']}).")
        return
    url, pid = start_background_node(port, block_time)
    out.print(f"Local node listening at [bold]{url}[/] (pid {pid}); state in {get_settings().state_dir / 'anvil-state.json'}.")


@app.command("stop")
def node_stop():
    """Stop the local node; it saves its state first."""
    out.print("Local node stopped; state saved." if stop_background_node() else "No local node was running.")


@app.command("status")
def node_status():
    """Say whether the local node runs and where."""
    running = background_node()
    out.print(f"Running at {running['url']} (pid {running['pid']})." if running else "Not running.")


@app.command("advance")
def node_advance(
    by: Annotated[str, typer.Argument(metavar="DURATION", help="How far to move the clock: 90s, 30m, 2h or 3d.")],
    rpc: RpcOption = None,
):
    """Move a local node's clock forward (to try a proposal's whole life); refused on any other chain."""
    seconds = act.parse_duration(by)
    now = advance_clock(connect(rpc or get_settings().rpc_url), seconds)
    out.print(f"Moved the local chain's clock {duration(seconds)} forward: it is now {when(now)}.")
