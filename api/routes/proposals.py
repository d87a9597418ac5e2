"""Proposals: list with state/proposer filters and keyset pagination; one proposal with everything; its votes."""

from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.engine import Connection

from api.answer_cache import AnswerCache, json_body, request_key
from api.cache import queries
from api.deps import MAX_PAGE, ApiError, answers, connection, indexed_cursor, parse_address, parse_uint256
from api.schemas import ProposalDetail, ProposalsPublic, VotePublic, VotesPublic
from governance.vocabulary import PROPOSAL_STATES

router = APIRouter(prefix="/api/proposals", tags=["proposals"])
State = Enum("State", {s: s for s in PROPOSAL_STATES}, type=str)


def find_proposal(conn: Connection, reference: str):
    """The proposal row for an id (decimal or 0x-hex) or a number in the commons; ApiError 400 if malformed, 404 if
    unknown."""
    row = queries.proposal_row(conn, parse_uint256(reference, "proposal id"))
    if row is None:
        raise ApiError(404, "unknown_proposal", f"This commons has no proposal {reference} (at the indexed block).")
    return row


@router.get("", response_model=ProposalsPublic)
def list_proposals(
    conn: Annotated[Connection, Depends(connection)],
    state: Annotated[State | None, Query(description="Only proposals in this state at the indexed block")] = None,
    proposer: Annotated[str | None, Query(description="Only proposals by this address")] = None,
    before: Annotated[
        int | None, Query(ge=1, le=2**62, description="Keyset cursor: proposals numbered below this (from next_before)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
):
    """Proposals, newest first, with their state at the indexed block."""
    timestamp = indexed_cursor(conn)["block_timestamp"]
    by = parse_address(proposer, "proposer") if proposer is not None else None
    return queries.proposals_page(conn, timestamp, state.value if state else None, by, before, limit)


@router.get("/{proposal_ref}", response_model=ProposalDetail)
def get_proposal(
    proposal_ref: str,
    request: Request,
    conn: Annotated[Connection, Depends(connection)],
    cache: Annotated[AnswerCache, Depends(answers)],
):
    """One proposal (by id or by number): text, decoded actions, timeline, tallies, quorum progress and its first 100
    votes (long reasons cut; the vote's own route has them whole); `votes_next_after` pages on through its votes."""
    cursor = indexed_cursor(conn)

    def detail() -> bytes:  # shaped as ProposalDetail dumps it
        return json_body(queries.proposal_detail(conn, find_proposal(conn, proposal_ref), cursor))

    return cache.answer(request_key(request.scope, cursor["block_hash"]), detail)


@router.get("/{proposal_ref}/votes", response_model=VotesPublic)
def list_votes(
    proposal_ref: str,
    request: Request,
    conn: Annotated[Connection, Depends(connection)],
    cache: Annotated[AnswerCache, Depends(answers)],
    after: Annotated[int | None, Query(ge=0, le=2**62, description="Keyset cursor from next_after")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
):
    """A proposal's votes in the order they were cast, page by page (long reasons cut)."""
    cursor = indexed_cursor(conn)

    def page() -> bytes:  # shaped as VotesPublic dumps it
        return json_body(queries.votes_page(conn, find_proposal(conn, proposal_ref), after, limit))

    return cache.answer(request_key(request.scope, cursor["block_hash"]), page)


@router.get("/{proposal_ref}/votes/{voter}", response_model=VotePublic)
def get_vote(proposal_ref: str, voter: str, conn: Annotated[Connection, Depends(connection)]):
    """One member's vote on a proposal, with its whole reason."""
    indexed_cursor(conn)
    proposal = find_proposal(conn, proposal_ref)
    who = parse_address(voter, "voter")
    vote = queries.one_vote(conn, proposal.proposal_id, who)
    if vote is None:
        raise ApiError(404, "unknown_vote", f"{who} has not voted on proposal {proposal_ref} (at the indexed block).")
    return vote
