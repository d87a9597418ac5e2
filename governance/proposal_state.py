"""A proposal's state at a block, computed from indexed facts exactly as the Governor's `state()` does.

OpenZeppelin 5 Governor with GovernorTimelockControl and the timestamp clock: executed and canceled
are facts; otherwise the block's timestamp against snapshot and deadline, then quorum (For + Abstain)
and For > Against, then whether it was queued. A queued proposal reads as its timelock operation's latest step, as
GovernorTimelockControl says: executed once run, canceled while cancelled (directly on the timelock too), queued
again once scheduled again; the cache's projection (api/cache/projection.py) keeps `executed` and `canceled` so.

The rule is written twice, side by side: in Python for one proposal (`proposal_state_at`) and in SQL for a
whole table (`STATE_SQL`), so the API can filter proposals by state in the database.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ProposalFacts:
    """What the index knows about one proposal (`quorum` None while its snapshot is still in the future)."""

    snapshot: int
    deadline: int
    eta: int
    votes_for: int
    votes_against: int
    votes_abstain: int
    quorum: int | None
    executed: bool
    canceled: bool


def proposal_state_at(facts: ProposalFacts, timestamp: int) -> str:
    """The state name (one of PROPOSAL_STATES) of the proposal at a block with this timestamp."""
    if facts.executed:
        return "executed"
    if facts.canceled:
        return "canceled"
    if facts.snapshot >= timestamp:
        return "pending"
    if facts.deadline >= timestamp:
        return "active"
    quorum = facts.quorum if facts.quorum is not None else 0
    if facts.votes_for + facts.votes_abstain < quorum or facts.votes_for <= facts.votes_against:
        return "defeated"
    if not facts.eta:
        return "succeeded"
    return "queued"


# The same rule as one SQL expression over the proposal table's columns (to filter by state in the database), with
# the block's timestamp bound as `:timestamp`. tests/test_proposal_state.py checks that the two agree on every state.
STATE_SQL = """CASE
    WHEN executed_block IS NOT NULL THEN 'executed'
    WHEN canceled_block IS NOT NULL THEN 'canceled'
    WHEN snapshot >= :timestamp THEN 'pending'
    WHEN deadline >= :timestamp THEN 'active'
    WHEN votes_for + votes_abstain < COALESCE(quorum, 0) OR votes_for <= votes_against THEN 'defeated'
    WHEN eta = 0 THEN 'succeeded'
    ELSE 'queued'
END"""
