"""Calendars of vote deadlines (RFC 5545), for the commons and for one member: subscribe once, no sign-up."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.engine import Connection, RowMapping

from api.deps import ApiError, connection, indexed_cursor, page_url, parse_address
from api.notify import reads
from governance.calendar import ProposalDeadlines, deadlines_calendar

router = APIRouter(prefix="/api", tags=["calendars and feeds"])
ICS: dict[int | str, dict[str, Any]] = {200: {"content": {"text/calendar": {}}, "description": "An iCalendar file (RFC 5545)"}}


def _deadlines(request: Request, row) -> ProposalDeadlines:
    return ProposalDeadlines(
        proposal_id=int(row.proposal_id),
        number=row.number,
        title=row.title,
        opens=row.snapshot,
        closes=row.deadline,
        executable=row.eta,
        extensions=row.extensions,
        canceled=row.canceled_block is not None,
        created_tx=row.created_tx,
        link=page_url(request, f"proposal/{row.number}"),
        audit_link=page_url(request, "audit"),
    )


def _calendar(request: Request, conn: Connection, at: RowMapping, member: str | None, name: str) -> Response:
    rows = reads.proposals_in_window(conn, at["block_timestamp"], member)
    body = deadlines_calendar(name, [_deadlines(request, r) for r in rows], at["governor"], at["chain_id"], at["block_timestamp"])
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="votes.ics"', "Cache-Control": "public, max-age=300"},
    )


@router.get("/calendar.ics", response_class=Response, responses=ICS)
def commons_calendar(request: Request, conn: Annotated[Connection, Depends(connection)]):
    """Every vote deadline of the commons (voting opens, voting closes with an alarm a day before, can be carried out
    from), from 60 days ago on. Each event keeps its UID; when a late-quorum extension moves a close, the same event
    moves and its SEQUENCE goes up."""
    at = indexed_cursor(conn)
    return _calendar(request, conn, at, None, at["name"])


@router.get("/members/{address}/calendar.ics", response_class=Response, responses=ICS)
def member_calendar(request: Request, address: str, conn: Annotated[Connection, Depends(connection)]):
    """The deadlines of the votes this member could cast (a member at the proposal's snapshot); 404 for an address
    that was never a member."""
    at = indexed_cursor(conn)
    member = parse_address(address, "member")
    if not reads.member_exists(conn, member):
        raise ApiError(404, "member_not_found", f"{member} has never been a member of this commons.")
    return _calendar(request, conn, at, member, f"{at['name']} ({member[:8]}…)")
