"""A proposal's state at a block, computed from indexed facts exactly as the Governor's `state()` does.

OpenZeppelin 5 Governor with GovernorTimelockControl and the timestamp clock: executed and canceled
are facts; otherwise the block's timestamp against snapshot and deadline, then quorum (For + Abstain)
and For > Against, then whether it was queued. A queued proposal whose timelock operation was run or
cancelled directly on the timelock reads as executed or canceled, as GovernorTimelockControl says.
"""

from dataclasses import dataclass

from governance.reverts import PROPOSAL_STATES

TIME_BASED_STATES = ("pending", "active", "defeated", "succeeded")


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


assert set(TIME_BASED_STATES) <= set(PROPOSAL_STATES)
