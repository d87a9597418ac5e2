"""Members (current and former), one member with everything they did, and stewards."""

from enum import Enum
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from sqlalchemy.engine import Connection

from api.deps import LOG, MAX_PAGE, ApiError, connection, entry_public, indexed_cursor, parse_address
from api.models import Member, MemberDetail, MembersPublic, Proposal, Steward, StewardsPublic
from api.routes.proposals import SUMMARY_COLUMNS, V, proposal_public, vote_public, votes_of

router = APIRouter(prefix="/api", tags=["members"])
M, S, P = Member.__table__, Steward.__table__, Proposal.__table__
MEMBER_KINDS = ("MemberAdmitted", "MemberRemoved", "MemberResigned", "DelegateChanged", "StewardAppointed", "StewardRecalled")


class MemberStatus(str, Enum):
    current = "current"
    former = "former"
    all = "all"


class StewardStatus(str, Enum):
    active = "active"
    all = "all"


def member_public(row, stewards: set[str]) -> dict:
    return {"address": row.address, "handle": row.handle, "member_number": row.member_number, "is_member": row.is_member,
            "steward": row.address in stewards, "delegate": row.delegate, "first_admitted_time": row.first_admitted_time,
            "admitted_block": row.admitted_block, "admitted_time": row.admitted_time, "left_how": row.left_how,
            "left_time": row.left_time}


def active_stewards(conn: Connection) -> set[str]:
    return {r[0] for r in conn.execute(sa.select(S.c.address).where(S.c.active.is_(True)))}


@router.get("/members", response_model=MembersPublic)
def list_members(
    conn: Annotated[Connection, Depends(connection)],
    status: Annotated[MemberStatus, Query(description="current, former or all")] = MemberStatus.current,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="Keyset cursor: member numbers above this (from next_after)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
):
    """Members by member number, with handle, delegate and whether they steward."""
    indexed_cursor(conn)
    conditions = [] if status is MemberStatus.all else [M.c.is_member.is_(status is MemberStatus.current)]
    count = conn.execute(sa.select(sa.func.count()).select_from(M).where(*conditions)).scalar()
    if after is not None:
        conditions.append(M.c.member_number > after)
    rows = conn.execute(sa.select(M).where(*conditions).order_by(M.c.member_number).limit(limit)).all()
    stewards = active_stewards(conn)
    return {"data": [member_public(r, stewards) for r in rows], "count": count,
            "next_after": rows[-1].member_number if len(rows) == limit else None}


@router.get("/members/{address}", response_model=MemberDetail)
def get_member(address: str, conn: Annotated[Connection, Depends(connection)]):
    """One member (current or former): membership and steward history, every vote, every proposal they made."""
    timestamp = indexed_cursor(conn)["block_timestamp"]
    who = parse_address(address)
    row = conn.execute(sa.select(M).where(M.c.address == who)).first()
    if row is None:
        raise ApiError(404, "unknown_member", f"{who} has never been a member of this commons (at the indexed block).")
    history = conn.execute(sa.select(LOG).where(LOG.c.subject == who, LOG.c.kind.in_(MEMBER_KINDS)).order_by(LOG.c.seq))
    proposed = conn.execute(sa.select(*SUMMARY_COLUMNS).where(P.c.proposer == who).order_by(P.c.number)).all()
    return {**member_public(row, active_stewards(conn)), "history": [entry_public(e) for e in history],
            "votes": [vote_public(v) for v in votes_of(conn, V.c.voter == who)],
            "proposed": [proposal_public(p, timestamp) for p in proposed]}


@router.get("/stewards", response_model=StewardsPublic)
def list_stewards(conn: Annotated[Connection, Depends(connection)],
                  status: Annotated[StewardStatus, Query(description="active or all (with recalled ones)")] = StewardStatus.active):
    """Stewards, with when they were appointed (and recalled)."""
    indexed_cursor(conn)
    query = sa.select(S, M.c.handle).select_from(S.outerjoin(M, M.c.address == S.c.address)).order_by(S.c.appointed_block, S.c.address)
    if status is StewardStatus.active:
        query = query.where(S.c.active.is_(True))
    rows = conn.execute(query).mappings().all()
    return {"data": [dict(r) for r in rows], "count": len(rows)}
