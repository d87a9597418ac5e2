"""Members (current and former), one member with everything they did, and stewards."""

from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.engine import Connection

from api.cache import queries
from api.deps import MAX_PAGE, ApiError, connection, indexed_cursor, parse_address
from api.schemas import MemberDetail, MembersPublic, StewardsPublic

router = APIRouter(prefix="/api", tags=["members"])


class MemberStatus(str, Enum):
    current = "current"
    former = "former"
    all = "all"


class StewardStatus(str, Enum):
    active = "active"
    all = "all"


# The `is_member` a status asks for (None: either).
IS_MEMBER = {MemberStatus.current: True, MemberStatus.former: False, MemberStatus.all: None}


@router.get("/members", response_model=MembersPublic)
def list_members(
    conn: Annotated[Connection, Depends(connection)],
    status: Annotated[MemberStatus, Query(description="current, former or all")] = MemberStatus.current,
    after: Annotated[
        int | None, Query(ge=0, le=2**62, description="Keyset cursor: member numbers above this (from next_after)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
):
    """Members by member number, with handle, delegate and whether they steward."""
    indexed_cursor(conn)
    return queries.members_page(conn, IS_MEMBER[status], after, limit)


@router.get("/members/{address}", response_model=MemberDetail)
def get_member(address: str, conn: Annotated[Connection, Depends(connection)]):
    """One member (current or former): membership and steward history, every vote (long reasons cut), every
    proposal they made."""
    timestamp = indexed_cursor(conn)["block_timestamp"]
    who = parse_address(address)
    member = queries.member_detail(conn, who, timestamp)
    if member is None:
        raise ApiError(404, "unknown_member", f"{who} has never been a member of this commons (at the indexed block).")
    return member


@router.get("/stewards", response_model=StewardsPublic)
def list_stewards(
    conn: Annotated[Connection, Depends(connection)],
    status: Annotated[StewardStatus, Query(description="active or all (with recalled ones)")] = StewardStatus.active,
):
    """Stewards, with when they were appointed (and recalled)."""
    indexed_cursor(conn)
    return queries.stewards_list(conn, active_only=status is StewardStatus.active)
