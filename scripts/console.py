"""How the `commons` command speaks: its consoles, JSON, the failure exit, and quantities in words."""

import json
import os
import sys
from decimal import Decimal

from rich.console import Console
from rich.markup import escape

from governance.manifest import CommonsSettings


def _console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # Into a pipe or a file, lines are not cut at 80 columns: the program reading them decides (COLUMNS still wins).
    wide = not stream.isatty() and "COLUMNS" not in os.environ
    return Console(stderr=stderr, soft_wrap=True, width=4096 if wide else None)


out = _console()
err = _console(stderr=True)


def fail(message: str) -> None:
    """Print `message` as an error and exit with status 1 (its text as it is: brackets are not markup)."""
    err.print(f"[bold red]error:[/] {escape(message)}")
    sys.exit(1)


def print_json(data: object) -> None:
    """`data` as JSON on stdout (big integers and other values as strings)."""
    out.print_json(json.dumps(data, default=str))


def duration(seconds: int) -> str:
    """Seconds in words: '3 days', '1 day 2 hours', '90 seconds'."""
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    if seconds or not parts:
        parts.append(f"{seconds} second{'s' if seconds != 1 else ''}")
    return " ".join(parts[:2])


def eth(wei: int) -> str:
    """An amount in ETH for a person: up to 4 decimals (6 below 0.01 ETH), '≈' when rounded."""
    amount = Decimal(wei) / Decimal(10**18)
    places = Decimal("0.0001") if abs(amount) >= Decimal("0.01") or amount == 0 else Decimal("0.000001")
    rounded = amount.quantize(places)
    text = f"{rounded.normalize():f}"
    return f"{text} ETH" if rounded == amount else f"≈{text} ETH"


def settings_in_words(settings: CommonsSettings) -> str:
    """A commons' governance settings as one sentence."""
    s = settings
    return (
        f"voting opens {duration(s.voting_delay)} after a proposal and lasts {duration(s.voting_period)}; "
        f"quorum {s.quorum_percent}% of members (For and Abstain count); "
        f"voting stays open at least {duration(s.late_quorum_extension)} after quorum is reached; "
        f"a passed proposal waits {duration(s.timelock_delay)} in the timelock"
    )
