"""Initiatives: members' drafts with their support, progress ("4 of 5 supporters") and status."""

from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel
from sqlalchemy.engine import Connection

from api.cache import initiative_queries as queries
from api.deps import MAX_PAGE, ApiError, connection, indexed_cursor, parse_address

router = APIRouter(prefix="/api/initiatives", tags=["initiatives"])


class Status(str, Enum):
    open = "open"
    revised = "revised"
    withdrawn = "withdrawn"
    expired = "expired"
    proposed = "proposed"


class Supporter(BaseModel):
    address: str
    handle: str | None


class SupportSignaturePublic(BaseModel):
    supporter: str
    expiry: str
    signature: str


class InitiativeAction(BaseModel):
    target: str
    value_wei: str
    calldata: str
    in_words: str


class InitiativePublic(BaseModel):
    """An initiative: its latest text and actions, author, supporters that count now, progress and status."""

    id: int
    title: str
    description: str
    author: str
    author_handle: str | None
    author_is_member: bool  # only while a member does the author count, or can the initiative be put to a vote
    revision: int
    status: str
    status_words: str
    supporters: list[Supporter]
    signatures: list[SupportSignaturePublic]
    support_count: int
    needed: int
    progress: str
    threshold_met: bool
    drafted_at: int
    revised_at: int
    expires_at: int
    proposal_id: str | None
    proposal_number: int | None
    targets: list[str]
    values: list[str]
    calldatas: list[str]
    actions: list[InitiativeAction] | None = None


class InitiativesPublic(BaseModel):
    contract: str | None  # the Initiatives contract (null when this API serves without a manifest)
    data: list[InitiativePublic]
    count: int
    page: int
    limit: int


@router.get("", response_model=InitiativesPublic)
def initiatives(
    request: Request,
    conn: Annotated[Connection, Depends(connection)],
    status: Annotated[Status | None, Query(description="open, revised, withdrawn, expired or proposed")] = None,
    author: Annotated[str | None, Query(description="the author's address")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
):
    """Initiatives, newest first, with progress toward the support they need."""
    at = indexed_cursor(conn)
    manifest = request.app.state.manifest
    found = queries.initiatives_page(
        conn, at, status.value if status else None, parse_address(author) if author else None, page, limit
    )
    return found | {"contract": (manifest.initiatives or None) if manifest is not None else None}


@router.get("/{initiative_id}", response_model=InitiativePublic)
def initiative(conn: Annotated[Connection, Depends(connection)], initiative_id: Annotated[int, Path(ge=1, le=2**62)]):
    """One initiative: text, actions in words, author, supporters, progress, status (proposed as #N)."""
    found = queries.initiative_detail(conn, indexed_cursor(conn), initiative_id)
    if found is None:
        raise ApiError(404, "unknown_initiative", f"There is no initiative {initiative_id} in this commons (yet).")
    return found
