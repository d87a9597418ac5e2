"""`commons reminders status`: for the operator, how many members get email reminders and how many reminders were
sent, held back because the ballot came first, or failed; numbers only, never an address."""

from typing import Annotated

import typer

from governance.config import get_settings
from scripts.commands.observe import DatabaseOption
from scripts.console import out, print_json

app = typer.Typer(
    help="Email reminders to members who have not voted (members subscribe on the page; the API sends them).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("status")
def status(
    database_url: DatabaseOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
):
    """Subscribers, and reminders by kind and status; whether this machine's settings name an SMTP server."""
    from api.db import make_engine, migrate
    from api.reminders.subscriptions import counts

    engine = make_engine(database_url)
    migrate(engine)
    settings = get_settings()
    report = {**counts(engine), "smtp": f"{settings.smtp_host}:{settings.smtp_port}" if settings.smtp_host else None}
    if as_json:
        return print_json(report)
    subscribed = f"{report['subscribers']} member{'s' if report['subscribers'] != 1 else ''} subscribed to email reminders"
    out.print(f"{subscribed} ({report['unconfirmed']} not confirmed yet).")
    out.print(
        f"SMTP server: {report['smtp']} ({settings.smtp_security})"
        if report["smtp"]
        else "No SMTP server is set (COMMONS_SMTP_HOST): the API sends no reminders."
    )
    for kind, by_status in sorted(report["reminders"].items()):
        out.print(f"{kind}: " + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items())))
