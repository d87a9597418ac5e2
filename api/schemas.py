"""What the API answers: response schemas (uint256 ids and wei as decimal strings, addresses checksummed).

Each schema is the public shape of a cache table or of a view over several (api/cache/queries.py builds them).
"""

from typing import Any

from sqlmodel import Field, SQLModel

from api.treasury_schemas import FundersPublic, TreasuryFlowPublic


class BlockPublic(SQLModel):
    number: int
    hash: str
    timestamp: int


class CommonsPublic(SQLModel):
    """The commons at the indexed block, and how far the index is behind the chain."""

    name: str
    chain_id: int
    addresses: dict[str, str]
    deployment_block: int
    settings: dict[str, int]
    member_count: int
    former_member_count: int
    steward_count: int
    proposal_count: int
    vote_count: int
    treasury_wei: str
    indexed_block: BlockPublic
    head_block: int
    blocks_behind: int
    decision_log_count: int
    decision_log_head_hash: str
    timelock_roles: dict[str, list[str]] = Field(
        default_factory=dict, description="Who holds each timelock role now (admin, proposer, canceller, executor)"
    )
    power_outside_the_vote: list[str] = Field(
        default_factory=list,
        description="Anyone but the governor able to act on the treasury or membership without a vote, and timelock "
        "calls the governor did not schedule, in words; empty when all power goes through the vote",
    )


class MemberPublic(SQLModel):
    address: str
    handle: str
    member_number: int
    is_member: bool
    steward: bool
    delegate: str | None
    first_admitted_time: int
    admitted_block: int
    admitted_time: int
    left_how: str | None
    left_time: int | None


class MembersPublic(SQLModel):
    data: list[MemberPublic]
    count: int
    next_after: int | None = None


class StewardPublic(SQLModel):
    address: str
    handle: str | None
    active: bool
    appointed_block: int
    appointed_tx: str
    appointed_time: int
    recalled_block: int | None
    recalled_tx: str | None
    recalled_time: int | None


class StewardsPublic(SQLModel):
    data: list[StewardPublic]
    count: int


class DecisionEntryPublic(SQLModel):
    """One decision-log entry exactly as hashed (plus its `hash`)."""

    seq: int
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    timestamp: int
    contract: str
    kind: str
    subject: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str


class DecisionsPublic(SQLModel):
    data: list[DecisionEntryPublic]
    count: int  # entries that match, in the whole log
    head_hash: str  # of the whole log's newest entry
    next_after: int | None = None  # reading forward (`after`): where the next page starts
    next_before: int | None = None  # reading back (`before`): where the page before this one ends


class CallInWordsPublic(SQLModel):
    """What a timelock entry (CallScheduled, CallExecuted, Cancelled) does, read from its call, and whether a vote
    decided it. Served beside the entry, never in it: the entry's hash covers the chain's facts only."""

    in_words: str  # the whole sentence, as the page, the Atom feeds and the webhooks say it
    action: str | None  # the call alone ("Pay 5 ETH from the treasury to 0x…"); None for a cancellation
    known: bool | None  # the call was decoded (False: nobody can say what it does)
    power_change: str | None  # a warning when the call changes who holds power
    proposal_id: str | None  # the passed proposal whose vote decided it (or whose operation was cancelled without one)
    proposal_number: int | None
    outside_the_vote: bool  # scheduled (or cancelled) directly on the timelock, not by the governor for a passed proposal
    warning: str | None  # why, in a sentence, when outside the vote


class DecisionPagePublic(DecisionsPublic):
    """A page of the decision log, and its timelock entries' calls in words by the entries' `seq` (as strings)."""

    calls: dict[str, CallInWordsPublic] = {}


class VotePublic(SQLModel):
    """One vote. In lists a reason longer than 1,000 characters is cut to them (`reason_truncated` says so); the
    vote's own route, `/api/proposals/{id}/votes/{voter}`, answers it whole."""

    proposal_id: str
    voter: str
    handle: str | None = None
    support: str
    weight: int
    reason: str
    reason_truncated: bool = False
    block_number: int
    tx_hash: str
    log_index: int
    timestamp: int


class VotesPublic(SQLModel):
    data: list[VotePublic]
    count: int
    next_after: int | None = None


class ProposalPublic(SQLModel):
    proposal_id: str
    number: int
    title: str
    proposer: str
    state: str
    snapshot: int
    deadline: int
    eta: int
    votes_for: int
    votes_against: int
    votes_abstain: int
    voter_count: int
    quorum: int | None
    electorate: int | None
    created_block: int
    created_time: int


class ProposalsPublic(SQLModel):
    data: list[ProposalPublic]
    count: int
    next_before: int | None = None


class ActionPublic(SQLModel):
    target: str
    value_wei: str
    calldata: str
    in_words: str
    known: bool = Field(default=True, description="False: the call could not be decoded; nobody can say what it does")
    power_change: str | None = Field(default=None, description="How this action changes who holds power, if it does")


class TimelineStep(SQLModel):
    step: str
    block_number: int
    tx_hash: str
    timestamp: int
    detail: dict[str, Any] = {}


class QuorumProgress(SQLModel):
    quorum: int | None
    counted: int
    reached: bool
    percent_of_quorum: float | None


class MemberNamed(SQLModel):
    address: str
    handle: str | None  # None for an address never admitted


class InitiativeOrigin(SQLModel):
    """The members' initiative a proposal came from: its author and co-signers as `InitiativeSubmitted` names them
    (the proposal's on-chain proposer is then the Initiatives contract)."""

    id: int
    revision: int
    author: str
    author_handle: str | None
    supporters: list[MemberNamed] = Field(description="The members whose signatures put it to a vote, the author aside")


class ProposalDetail(ProposalPublic):
    """One proposal with everything: text, actions in words, timeline, quorum progress and its first 100 votes
    (`votes_next_after`: the cursor for /api/proposals/{id}/votes?after=…, None when these are all)."""

    proposed_by: str = Field(
        description="Who proposed it, in words: '@ada (0x…)', or for an initiative '@ada (0x…) through initiative 3, "
        "supported by 4 members, put to a vote by the Initiatives contract (0x…)' (that contract is the on-chain `proposer`)"
    )
    initiative: InitiativeOrigin | None = Field(description="The initiative it came from, if members raised it")
    description: str
    actions: list[ActionPublic]
    timelock_id: str | None  # its timelock operation once queued: the subject of the timelock's decision-log entries
    quorum_progress: QuorumProgress
    timeline: list[TimelineStep]
    votes: list[VotePublic]
    votes_next_after: int | None = None


class MemberDetail(MemberPublic):
    """A member with everything they did: membership history, votes, proposals."""

    history: list[DecisionEntryPublic]
    votes: list[VotePublic]
    proposed: list[ProposalPublic]
    contributions: list[TreasuryFlowPublic] = []  # what they gave the treasury, with their notes


class ProposalTurnout(SQLModel):
    proposal_id: str
    number: int
    title: str
    voters: int
    electorate: int | None
    turnout: float | None


class MemberTurnout(SQLModel):
    address: str
    handle: str
    votes_cast: int
    proposals_open_to_them: int
    rate: float | None


class PeriodTurnout(SQLModel):
    period: str
    proposals: int
    votes: int
    average_turnout: float | None


class InitiativeParticipation(SQLModel):
    """Who raises things: members who drafted an initiative, and members who signed support for one (ever)."""

    drafters: int
    supporters: int


class ParticipationPublic(SQLModel):
    """Who shows up: turnout per proposal, per member and per month."""

    per_proposal: list[ProposalTurnout]
    per_member: list[MemberTurnout]
    over_time: list[PeriodTurnout]
    funders: FundersPublic | None = None  # who funds, beside who votes and who proposes
    initiatives: InitiativeParticipation | None = None  # who drafts and who supports initiatives


class IndexerHealth(SQLModel):
    """The background indexer as /api/health tells it: following the chain, or retrying since when and why."""

    running: bool = Field(description="Whether its thread is alive (false only once the app stops it)")
    state: str = Field(description="starting (first catch-up), following, retrying (after an error, backing off), stopped")
    healthy: bool = Field(description="False once it has been retrying longer than unhealthy_after_seconds, or stopped")
    summary: str = Field(description="The state in words")
    since: str | None = Field(description="When the current state began (ISO 8601, UTC)")
    failures: int = Field(description="Attempts that failed in a row (0 while following)")
    failing_for_seconds: float | None = Field(description="Seconds since the first of those failures")
    next_try_in_seconds: float | None = Field(description="Seconds until it tries again, while retrying")
    last_error: str | None = Field(description="The latest error in words (node URLs cut to scheme and host)")
    last_error_at: str | None
    indexed_block: int | None = Field(description="The cache's cursor (None if the database does not answer)")
    head_block: int | None = Field(description="The chain head the indexer last saw")
    blocks_behind: int | None
    unhealthy_after_seconds: float


class HealthPublic(SQLModel):
    """Whether the API answers and, if it runs the indexer, how the indexer is doing."""

    ok: bool = Field(description="False (and the answer 503) when the indexer has failed for too long")
    indexer: IndexerHealth | None = Field(description="None when this process runs no indexer (a read replica)")
