"""Atom feeds (RFC 4287): the decision log in words, for the commons or one member, and proposals needing a vote."""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.engine import Connection, RowMapping

from api.cache import queries
from api.cache.queries import LogFilter
from api.deps import ApiError, connection, indexed_cursor, page_url, parse_address
from api.notify import reads
from api.notify.atom import FeedEntry, atom_feed
from api.notify.words import Names, entry_said
from governance.calendar import one_line
from governance.readings import duration_words

router = APIRouter(prefix="/api", tags=["calendars and feeds"])
ATOM: dict[int | str, dict[str, Any]] = {200: {"content": {"application/atom+xml": {}}, "description": "An Atom feed (RFC 4287)"}}
FEED_ENTRIES = 50


def utc_text(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _response(body: bytes) -> Response:
    return Response(body, media_type="application/atom+xml; charset=utf-8", headers={"Cache-Control": "public, max-age=60"})


def fact_key(at: RowMapping, *parts: object) -> str:
    """The name of a chain fact in this commons: chain id, governor, then `parts`."""
    return ":".join(str(p) for p in (at["chain_id"], at["governor"].lower(), *parts))


def log_entries(request: Request, conn: Connection, at: RowMapping, wanted: LogFilter) -> list[FeedEntry]:
    """The newest FEED_ENTRIES decision-log entries `wanted`, newest first, in words with their proof."""
    if not at["log_seq"]:
        return []
    page = queries.decisions_page(conn, at, wanted, None, at["log_seq"] + 1, FEED_ENTRIES)
    names = Names.read(conn)
    found = []
    for entry in reversed(page["data"]):
        # Read as the page and the CSV export read it: from the entry's own transaction and position, the proposal
        # whose vote decided a timelock call (linked), or none and a warning when it was scheduled outside the vote.
        said = entry_said(entry["kind"], entry["data"], names, entry["tx_hash"], entry["seq"])
        words, number = said.words, said.proposal_number
        link = page_url(request, f"proposal/{number}" if number else "decisions")
        warning = f"⚠ Outside the vote: {said.call.warning}\n\n" if said.call and said.call.outside_the_vote else ""
        proof = (
            f"Transaction {entry['tx_hash']} (block {entry['block_number']}, log {entry['log_index']}); "
            f"decision-log entry {entry['seq']} with hash {entry['hash']}. Check it against the chain: "
            f"{page_url(request, 'audit')}"
        )
        key = fact_key(at, "log", entry["block_hash"], entry["log_index"])
        found.append(
            FeedEntry(key, one_line(words[:1].upper() + words[1:], 300), entry["timestamp"], link, f"{words}\n\n{warning}{proof}")
        )
    return found


@router.get("/feeds/decisions.atom", response_class=Response, responses=ATOM)
def decisions_feed(request: Request, conn: Annotated[Connection, Depends(connection)]):
    """The newest 50 decision-log entries in words, each with its transaction, its hash and a link to the audit."""
    at = indexed_cursor(conn)
    entries = log_entries(request, conn, at, LogFilter())
    updated = entries[0].updated if entries else at["block_timestamp"]
    return _response(
        atom_feed(
            fact_key(at, "decisions"),
            f"{at['name']}: decisions",
            str(request.url),
            page_url(request, "decisions"),
            updated,
            entries,
        )
    )


@router.get("/members/{address}/feed.atom", response_class=Response, responses=ATOM)
def member_feed(request: Request, address: str, conn: Annotated[Connection, Depends(connection)]):
    """Everything by or about one member (membership, stewardship, delegations to and from them, their votes and
    proposals), newest 50 first; 404 for an address that was never a member."""
    at = indexed_cursor(conn)
    member = parse_address(address, "member")
    if not reads.member_exists(conn, member):
        raise ApiError(404, "member_not_found", f"{member} has never been a member of this commons.")
    entries = log_entries(request, conn, at, LogFilter(member=member))
    who = Names.read(conn).who(member)
    updated = entries[0].updated if entries else at["block_timestamp"]
    return _response(
        atom_feed(
            fact_key(at, "member", member),
            f"{at['name']}: everything by or about {who}",
            str(request.url),
            page_url(request, "decisions"),
            updated,
            entries,
        )
    )


@router.get("/feeds/needs-vote.atom", response_class=Response, responses=ATOM)
def needs_vote_feed(request: Request, conn: Annotated[Connection, Depends(connection)]):
    """The proposals open for voting now, soonest to close first, each with when it closes and a link to vote."""
    at = indexed_cursor(conn)
    now = at["block_timestamp"]
    entries = []
    for row in reads.proposals_needing_a_vote(conn, now):
        title = one_line(row.title)
        left = duration_words(max(0, row.deadline - now))
        text = (
            f"#{row.number} {title} is open for voting and closes in about {left} "
            f"({utc_text(row.deadline)}).\n\n"
            f"Read and vote: {page_url(request, f'proposal/{row.number}')}\n"
            f"Proposed in transaction {row.created_tx}; check it against the chain: {page_url(request, 'audit')}"
        )
        key = fact_key(at, "needs-vote", row.proposal_id)
        entries.append(
            FeedEntry(
                key,
                f"Vote on #{row.number} {title}",
                max(row.snapshot, row.created_time),
                page_url(request, f"proposal/{row.number}"),
                text,
            )
        )
    return _response(
        atom_feed(
            fact_key(at, "needs-vote"),
            f"{at['name']}: proposals needing your vote",
            str(request.url),
            page_url(request, "proposals"),
            max([e.updated for e in entries], default=now),
            entries,
        )
    )
