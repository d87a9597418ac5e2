"""The `commons` command for stewards (and members who like a terminal): parse, call `governance`, print.

Each family of sub-commands lives in scripts/commands/; this module assembles them into one command
and turns every library error into a sentence and exit status 1.
"""

import typer

from governance.errors import CommonsError, Reverted
from scripts.commands import deploy, hooks, node, observe, propose, read, relay, vote
from scripts.commands import initiative as initiative_commands
from scripts.commands import reminders as reminder_commands
from scripts.commands import treasury as treasury_commands
from scripts.console import fail

app = typer.Typer(
    help="Govern a commons on an EVM chain: deploy, propose, vote, queue, execute, read.",
    no_args_is_help=True,
    add_completion=False,
    # Plain help: rich markup would eat anything in square brackets, e.g. "[env COMMONS_RPC_URL]".
    rich_markup_mode=None,
)
app.add_typer(node.app, name="node")
app.command("compile")(deploy.compile_command)
app.command("deploy")(deploy.deploy)
app.command("demo")(deploy.demo)
app.add_typer(propose.app, name="propose")
app.add_typer(relay.app, name="relay")
app.add_typer(hooks.app, name="hooks")
app.add_typer(reminder_commands.app, name="reminders")
app.add_typer(initiative_commands.app, name="initiative")
vote.register(app)
read.register(app)
observe.register(app)
treasury_commands.register(app)


def main() -> None:
    """Entry point: every library error reaches the user as a sentence and a non-zero exit."""
    try:
        app()
    except Reverted as exc:
        fail(f"the chain refused: {exc.reason}.")
    except CommonsError as exc:
        fail(str(exc))
    except Exception as exc:  # a bug: still a sentence, never a traceback
        fail(f"something unexpected went wrong ({type(exc).__name__}: {exc}); please report it.")


if __name__ == "__main__":
    main()
