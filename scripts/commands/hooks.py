"""`commons hooks add|list|remove|replay|log`: signed webhooks (Standard Webhooks 1.0) for bots and chat bridges,
kept in the cache database; every API process on that database delivers them."""

import time
from typing import Annotated

import typer
from rich.markup import escape

from governance.config import get_settings
from scripts.commands.observe import DatabaseOption
from scripts.console import fail, out, print_json

app = typer.Typer(
    help="Signed webhooks: the decision log pushed to a URL (a chat bridge, a bot), each event signed with the key "
    "whose public half GET /api/hooks/public-key serves.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _engine(database_url: str | None):
    from api.db import make_engine, migrate

    engine = make_engine(database_url)
    migrate(engine)
    return engine


@app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="Where to POST the events (https://…); never a private or loopback address.")],
    events: Annotated[
        str,
        typer.Option("--events", help="Event types, comma-separated (vote.cast,proposal.created,…), or '*' for all."),
    ],
    database_url: DatabaseOption = None,
    as_json: JsonOption = False,
):
    """Register URL for the given events from now on; each event's `….reverted` follows if a reorg removes it."""
    from api.hooks.endpoints import add_endpoint
    from api.hooks.targets import parse_networks

    endpoint = add_endpoint(_engine(database_url), url, events, parse_networks(get_settings().webhook_allowed_networks))
    if as_json:
        return print_json(endpoint)
    out.print(
        f"Endpoint {endpoint['id']} added for {', '.join(endpoint['events'])}: the API processes deliver to it from the next event on."
    )


@app.command("list")
def list_command(database_url: DatabaseOption = None, as_json: JsonOption = False):
    """Every endpoint, whether it is enabled (a 410 Gone answer disables one), and its deliveries by status."""
    from api.hooks.endpoints import list_endpoints

    endpoints = list_endpoints(_engine(database_url))
    if as_json:
        return print_json(endpoints)
    if not endpoints:
        out.print("No webhook endpoints; add one with `commons hooks add URL --events …`.")
    for e in endpoints:
        state = "enabled" if e["enabled"] else f"disabled ({e['disabled_reason']})"
        counts = ", ".join(f"{n} {status}" for status, n in sorted(e["deliveries"].items())) or "nothing sent yet"
        out.print(f"{e['id']}  {escape(e['url'])}  {' '.join(e['events'])}  {state}; {counts}")


@app.command("remove")
def remove(endpoint_id: Annotated[int, typer.Argument(metavar="ID")], database_url: DatabaseOption = None):
    """Stop delivering to an endpoint and forget its queue (its delivery log stays)."""
    from api.hooks.endpoints import remove_endpoint

    if not remove_endpoint(_engine(database_url), endpoint_id):
        fail(f"there is no webhook endpoint {endpoint_id}; `commons hooks list` shows them.")
    out.print(f"Endpoint {endpoint_id} removed.")


@app.command("replay")
def replay_command(
    event_id: Annotated[str, typer.Argument(metavar="EVENT_ID", help="The webhook-id (msg_…), as `commons hooks log` shows it.")],
    endpoint: Annotated[int | None, typer.Option("--endpoint", metavar="ID", help="Only to this endpoint.")] = None,
    database_url: DatabaseOption = None,
):
    """Send an event again with its original webhook-id (so a receiver that already has it knows it is a replay)."""
    from api.hooks.delivery import replay

    count = replay(_engine(database_url), event_id, endpoint)
    if not count:
        fail(f"no enabled endpoint had {event_id}; `commons hooks log` lists what was sent.")
    out.print(f"{event_id} queued again for {count} endpoint{'s' if count != 1 else ''}.")


@app.command("log")
def log_command(
    endpoint: Annotated[int | None, typer.Option("--endpoint", metavar="ID", help="Only this endpoint.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    database_url: DatabaseOption = None,
    as_json: JsonOption = False,
):
    """The newest delivery attempts: when, which event, what the endpoint answered or why it could not be reached."""
    from api.hooks.endpoints import delivery_log

    attempts = delivery_log(_engine(database_url), endpoint, limit)
    if as_json:
        return print_json(attempts)
    for a in attempts:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(a["at"]))
        said = [f"HTTP {a['status_code']}"] if a["status_code"] is not None else []
        answer = ": ".join(said + ([escape(a["error"])] if a["error"] else []))  # a redirect has both
        out.print(f"{when}  endpoint {a['endpoint_id']}  {a['event_id']} {a['type']}  {answer}")
