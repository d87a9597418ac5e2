"""Proposals: list with state/proposer filters and keyset pagination; one proposal with everything; its votes."""

from enum import Enum
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.engine import Connection

from api.answer_cache import request_key
from api.deps import LOG, MAX_PAGE, AnswerCache, ApiError, answers, connection, entry_public, indexed_cursor, parse_address, parse_uint256
from api.models import Member, Proposal, ProposalDetail, ProposalPublic, ProposalsPublic, Vote, VotesPublic
from governance.proposal_state import ProposalFacts, proposal_state_at
from governance.reverts import PROPOSAL_STATES

router = APIRouter(prefix="/api/proposals", tags=["proposals"])
P, V, M = Proposal.__table__, Vote.__table__, Member.__table__
SUPPORT = ("against", "for", "abstain")
State = Enum("State", {s: s for s in PROPOSAL_STATES}, type=str)
TIMELINE_KINDS = ("ProposalCreated", "ProposalExtended", "ProposalQueued", "ProposalExecuted", "ProposalCanceled")
TIMELOCK_KINDS = ("CallScheduled", "CallExecuted", "Cancelled")
# Proposal ids are 256-bit hashes; a reference below this is a proposal's number in the commons (1, 2, …).
NUMBER_LIMIT = 2**64


def state_of(row, timestamp: int) -> str:
    """The proposal's state at the indexed block (see governance.proposal_state)."""
    facts = ProposalFacts(row.snapshot, row.deadline, row.eta, row.votes_for, row.votes_against, row.votes_abstain,
                          row.quorum, row.executed_block is not None, row.canceled_block is not None)
    return proposal_state_at(facts, timestamp)


def state_sql(timestamp: int):
    """The same rule as `state_of`, as an SQL expression (to filter by state in the database)."""
    return sa.case(
        (P.c.executed_block.is_not(None), "executed"),
        (P.c.canceled_block.is_not(None), "canceled"),
        (P.c.snapshot >= timestamp, "pending"),
        (P.c.deadline >= timestamp, "active"),
        (sa.or_(P.c.votes_for + P.c.votes_abstain < sa.func.coalesce(P.c.quorum, 0), P.c.votes_for <= P.c.votes_against), "defeated"),
        (P.c.eta == 0, "succeeded"),
        else_="queued")


SUMMARY_COLUMNS = [P.c[name] for name in ProposalPublic.model_fields if name != "state"] + [
    P.c.executed_block, P.c.canceled_block]


def proposal_public(row, timestamp: int) -> dict:
    summary = {name: getattr(row, name) for name in ProposalPublic.model_fields if name != "state"}
    return {**summary, "state": state_of(row, timestamp)}


def vote_public(row) -> dict:
    return {"proposal_id": row.proposal_id, "voter": row.voter, "handle": getattr(row, "handle", None),
            "support": SUPPORT[row.support], "weight": row.weight, "reason": row.reason,
            "block_number": row.block_number, "tx_hash": row.tx_hash, "log_index": row.log_index, "timestamp": row.timestamp}


def find_proposal(conn: Connection, reference: str):
    """The proposal row for an id (decimal or 0x-hex) or a number in the commons; 400 if malformed, 404 if unknown."""
    value = parse_uint256(reference, "proposal id")
    condition = P.c.number == value if value < NUMBER_LIMIT else P.c.proposal_id == str(value)
    row = conn.execute(sa.select(P).where(condition)).first()
    if row is None:
        raise ApiError(404, "unknown_proposal", f"This commons has no proposal {reference} (at the indexed block).")
    return row


@router.get("", response_model=ProposalsPublic)
def list_proposals(
    conn: Annotated[Connection, Depends(connection)],
    state: Annotated[State | None, Query(description="Only proposals in this state at the indexed block")] = None,
    proposer: Annotated[str | None, Query(description="Only proposals by this address")] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="Keyset cursor: proposals numbered below this (from next_before)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
):
    """Proposals, newest first, with their state at the indexed block."""
    timestamp = indexed_cursor(conn)["block_timestamp"]
    conditions = []
    if state is not None:
        conditions.append(state_sql(timestamp) == state.value)
    if proposer is not None:
        conditions.append(P.c.proposer == parse_address(proposer, "proposer"))
    count = conn.execute(sa.select(sa.func.count()).select_from(P).where(*conditions)).scalar()
    if before is not None:
        conditions.append(P.c.number < before)
    rows = conn.execute(sa.select(*SUMMARY_COLUMNS).where(*conditions).order_by(P.c.number.desc()).limit(limit)).all()
    data = [proposal_public(r, timestamp) for r in rows]
    return {"data": data, "count": count, "next_before": rows[-1].number if len(rows) == limit else None}


def timeline(conn: Connection, row) -> list[dict]:
    condition = sa.and_(LOG.c.subject == row.proposal_id, LOG.c.kind.in_(TIMELINE_KINDS))
    if row.timelock_id:
        condition = sa.or_(condition, sa.and_(LOG.c.subject == row.timelock_id, LOG.c.kind.in_(TIMELOCK_KINDS)))
    steps = []
    for entry in conn.execute(sa.select(LOG).where(condition).order_by(LOG.c.seq)):
        public = entry_public(entry)
        detail = {k: v for k, v in public["data"].items() if k not in ("description", "calldatas", "signatures", "targets", "values")}
        steps.append({"step": entry.kind, "block_number": entry.block_number, "tx_hash": entry.tx_hash,
                      "timestamp": entry.timestamp, "detail": detail})
    return steps


def votes_of(conn: Connection, condition, after: int | None = None, limit: int | None = None):
    query = (sa.select(V, M.c.handle).select_from(V.outerjoin(M, M.c.address == V.c.voter)).where(condition)
             .order_by(V.c.id))
    if after is not None:
        query = query.where(V.c.id > after)
    if limit is not None:
        query = query.limit(limit)
    return conn.execute(query).all()


@router.get("/{proposal_ref}", response_model=ProposalDetail)
def get_proposal(proposal_ref: str, request: Request, conn: Annotated[Connection, Depends(connection)],
                 cache: Annotated[AnswerCache, Depends(answers)]):
    """One proposal (by id or by number): text, decoded actions, timeline, tallies, quorum progress and every vote."""
    cursor = indexed_cursor(conn)
    return cache.answer(request_key(request.scope, cursor["block_hash"]),
                          lambda: ProposalDetail.model_validate(proposal_detail(conn, proposal_ref, cursor["block_timestamp"])))


def proposal_detail(conn: Connection, proposal_ref: str, timestamp: int) -> dict:
    row = find_proposal(conn, proposal_ref)
    counted = row.votes_for + row.votes_abstain
    actions = [{"target": t, "value_wei": v, "calldata": c, "in_words": w}
               for t, v, c, w in zip(row.targets, row.values, row.calldatas, row.actions_in_words)]
    progress = {"quorum": row.quorum, "counted": counted, "reached": row.quorum is not None and counted >= row.quorum,
                "percent_of_quorum": round(100 * counted / row.quorum, 2) if row.quorum else None}
    votes = [vote_public(v) for v in votes_of(conn, V.c.proposal_id == row.proposal_id)]
    return {**proposal_public(row, timestamp), "description": row.description, "actions": actions,
            "timelock_id": row.timelock_id, "quorum_progress": progress, "timeline": timeline(conn, row), "votes": votes}


@router.get("/{proposal_ref}/votes", response_model=VotesPublic)
def list_votes(
    proposal_ref: str,
    conn: Annotated[Connection, Depends(connection)],
    after: Annotated[int | None, Query(ge=0, le=2**62, description="Keyset cursor from next_after")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
):
    """A proposal's votes in the order they were cast, page by page."""
    indexed_cursor(conn)
    row = find_proposal(conn, proposal_ref)
    rows = votes_of(conn, V.c.proposal_id == row.proposal_id, after, limit)
    return {"data": [vote_public(v) for v in rows], "count": row.voter_count,
            "next_after": rows[-1].id if len(rows) == limit else None}
