"""Vote deadlines as an iCalendar feed (RFC 5545): voting opens, voting closes, executable from.

Pure: it takes the facts of each proposal and returns the calendar's bytes; the API reads the facts from the cache.
A deadline keeps its UID for its whole life, so a calendar client that subscribed updates the event in place: when a
late-quorum extension moves the close, the same event moves and its SEQUENCE goes up (the old end time disappears).
"""

import datetime as dt
import re
from dataclasses import dataclass

from icalendar import Alarm, Calendar, Event

PRODUCT_ID = "-//Commons Ledger//Vote deadlines//EN"
DEADLINE_KINDS = ("opens", "closes", "executable")
SUMMARY_OF = {
    "opens": "Voting opens: #{number} {title}",
    "closes": "Voting closes: #{number} {title}",
    "executable": "Can be carried out: #{number} {title}",
}
CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
MAX_TITLE = 200


@dataclass(frozen=True)
class ProposalDeadlines:
    """What a calendar needs of one proposal; times are the chain's unix seconds (its ERC-6372 clock)."""

    proposal_id: int
    number: int
    title: str
    opens: int  # the snapshot: voting opens just after it
    closes: int  # the deadline now, after any late-quorum extension
    executable: int  # the timelock's ETA; 0 until queued
    extensions: int  # how many times the close moved
    canceled: bool
    created_tx: str
    link: str  # the proposal on the page
    audit_link: str


def one_line(text: str, limit: int = MAX_TITLE) -> str:
    """`text` as a single line of at most `limit` characters: line breaks and control characters become a space."""
    flat = CONTROL.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _utc(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def deadline_uid(proposal_id: int, kind: str, governor: str, chain_id: int) -> str:
    """The UID of one deadline: the same for the proposal's whole life on this governor and chain."""
    return f"{kind}-{proposal_id:064x}@{chain_id}.{governor.lower()}.commons-ledger"


def _event(p: ProposalDeadlines, kind: str, at: int, governor: str, chain_id: int, stamp: dt.datetime) -> Event:
    event = Event()
    event.add("uid", deadline_uid(p.proposal_id, kind, governor, chain_id))
    event.add("dtstamp", stamp)
    event.add("dtstart", _utc(at))
    event.add("dtend", _utc(at))  # a moment, not a meeting
    event.add("summary", SUMMARY_OF[kind].format(number=p.number, title=one_line(p.title)))
    event.add("url", p.link)  # many clients ignore URL, so the link is in the description too
    event.add(
        "description",
        f"{one_line(p.title)}\n\nRead and vote: {p.link}\nProposed in transaction {p.created_tx}\n"
        f"Check it against the chain: {p.audit_link}",
    )
    event.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
    # Only the close moves (a late-quorum extension); a cancellation changes every deadline still to come.
    event.add("sequence", (p.extensions if kind == "closes" else 0) + (1 if p.canceled else 0))
    if p.canceled:
        event.add("status", "CANCELLED")
    if kind == "closes" and not p.canceled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", dt.timedelta(days=-1))
        alarm.add("description", f"Voting on #{p.number} closes in a day")
        event.add_component(alarm)
    return event


def deadlines_calendar(
    name: str, proposals: list[ProposalDeadlines], governor: str, chain_id: int, stamp: int, refresh_hours: int = 1
) -> bytes:
    """The calendar (CRLF lines folded at 75 octets) of every deadline of `proposals`; `stamp` (the indexed block's
    time) is every event's DTSTAMP, so the same cache gives the same bytes."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", one_line(f"{name}: votes", 120))
    calendar.add("refresh-interval", dt.timedelta(hours=refresh_hours), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", dt.timedelta(hours=refresh_hours))
    when = _utc(stamp)
    for p in proposals:
        for kind, at in (("opens", p.opens), ("closes", p.closes), ("executable", p.executable)):
            if at:
                calendar.add_component(_event(p, kind, at, governor, chain_id, when))
    return calendar.to_ical()
