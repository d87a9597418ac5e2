"""The cache's SQLModel tables and the API's response schemas, side by side (as the FastAPI template does).

Every table is derived from the chain and can be rebuilt from it. uint256 values are `Uint256`
(NUMERIC(78) on PostgreSQL; on SQLite an exact integer) or decimal strings (ids and wei, which can
exceed 64 bits); addresses are checksummed strings; block numbers and log indexes are plain integers.
"""

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class Uint256(sa.types.TypeDecorator):
    """A uint256 that fits SQL arithmetic: NUMERIC(78, 0) on PostgreSQL, INTEGER-compatible on SQLite.

    Only values the contracts bound to far below 2**63 (tallies, weights, timestamps, settings) use it;
    ids and wei amounts are decimal strings.
    """

    impl = sa.Numeric(78, 0)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())  # SQLite integers are exact up to 2**63
        return dialect.type_descriptor(sa.Numeric(78, 0))

    def process_bind_param(self, value, dialect):
        return None if value is None else int(value)

    def process_result_value(self, value, dialect):
        return None if value is None else int(value if not isinstance(value, Decimal) else value.to_integral_value())


def u256(nullable: bool = False, default: Any = None, index: bool = False) -> Any:
    return Field(default=default, sa_type=Uint256, nullable=nullable, index=index)


# ---- tables -------------------------------------------------------------------------------


class SyncCursor(SQLModel, table=True):
    """Where the indexer is: the last indexed block, the chain head it saw, and the decision log's head."""

    __tablename__ = "sync_cursor"
    id: int = Field(default=1, primary_key=True)
    chain_id: int
    name: str = Field(max_length=256)
    membership: str = Field(max_length=42)
    governor: str = Field(max_length=42)
    timelock: str = Field(max_length=42)
    deployment_block: int = Field(sa_type=sa.BigInteger)
    block_number: int = Field(sa_type=sa.BigInteger)
    block_hash: str = Field(max_length=66)
    block_timestamp: int = Field(sa_type=sa.BigInteger)
    head_block: int = Field(sa_type=sa.BigInteger)
    treasury_wei: str = Field(default="0", max_length=78)
    log_seq: int = Field(default=0, sa_type=sa.BigInteger)
    log_head_hash: str = Field(max_length=66)


class IndexedBlock(SQLModel, table=True):
    """Recently indexed blocks, kept to find the common ancestor after a reorg."""

    __tablename__ = "indexed_block"
    number: int = Field(primary_key=True, sa_type=sa.BigInteger, sa_column_kwargs={"autoincrement": False})
    hash: str = Field(max_length=66)
    timestamp: int = Field(sa_type=sa.BigInteger)


class DecisionEntry(SQLModel, table=True):
    """One decision-log entry; `data` is the event's arguments as canonical JSON (integers as strings)."""

    __tablename__ = "decision_entry"
    # A log's place in the chain identifies it: the cache only ever holds one block per height (a reorg's rollback
    # deletes the replaced ones first). Keyed in chain order, this index only ever grows at its end.
    __table_args__ = (sa.UniqueConstraint("block_number", "log_index", name="uq_decision_entry_position"),
                      sa.Index("ix_decision_entry_subject_seq", "subject", "seq"),
                      sa.Index("ix_decision_entry_kind_seq", "kind", "seq"))
    seq: int = Field(primary_key=True, sa_type=sa.BigInteger, sa_column_kwargs={"autoincrement": False})
    block_number: int = Field(sa_type=sa.BigInteger)
    block_hash: str = Field(max_length=66)
    tx_hash: str = Field(max_length=66)
    log_index: int
    timestamp: int = Field(sa_type=sa.BigInteger)
    contract: str = Field(max_length=16)
    kind: str = Field(max_length=40)
    subject: str | None = Field(default=None, max_length=78)
    data: str = Field(sa_type=sa.Text)
    prev_hash: str = Field(max_length=66)
    hash: str = Field(max_length=66)


class Member(SQLModel, table=True):
    """A member, current or former (their history is the decision log entries about them)."""

    __tablename__ = "member"
    address: str = Field(primary_key=True, max_length=42)
    member_number: int = u256()
    handle: str = Field(max_length=256)
    is_member: bool = Field(index=True)
    delegate: str | None = Field(default=None, max_length=42)
    first_admitted_block: int = Field(sa_type=sa.BigInteger)
    first_admitted_time: int = Field(sa_type=sa.BigInteger)
    admitted_block: int = Field(sa_type=sa.BigInteger)
    admitted_time: int = Field(sa_type=sa.BigInteger)
    left_how: str | None = Field(default=None, max_length=16)
    left_block: int | None = Field(default=None, sa_type=sa.BigInteger)
    left_time: int | None = Field(default=None, sa_type=sa.BigInteger)


class Steward(SQLModel, table=True):
    """An account appointed steward (active until recalled)."""

    __tablename__ = "steward"
    address: str = Field(primary_key=True, max_length=42)
    active: bool
    appointed_block: int = Field(sa_type=sa.BigInteger)
    appointed_tx: str = Field(max_length=66)
    appointed_time: int = Field(sa_type=sa.BigInteger)
    recalled_block: int | None = Field(default=None, sa_type=sa.BigInteger)
    recalled_tx: str | None = Field(default=None, max_length=66)
    recalled_time: int | None = Field(default=None, sa_type=sa.BigInteger)


class Setting(SQLModel, table=True):
    """A governance setting's current value and when it was last set."""

    __tablename__ = "setting"
    name: str = Field(primary_key=True, max_length=40)
    value: int = u256()
    block_number: int = Field(sa_type=sa.BigInteger)
    timestamp: int = Field(sa_type=sa.BigInteger)


class Proposal(SQLModel, table=True):
    """A proposal: text, actions (raw and in words), times, tallies, quorum and lifecycle steps."""

    __tablename__ = "proposal"
    proposal_id: str = Field(primary_key=True, max_length=78)
    number: int = Field(unique=True)
    proposer: str = Field(max_length=42, index=True)
    title: str = Field(sa_type=sa.Text)
    description: str = Field(sa_type=sa.Text)
    targets: list = Field(sa_type=sa.JSON)
    values: list = Field(sa_type=sa.JSON)  # wei as decimal strings
    calldatas: list = Field(sa_type=sa.JSON)
    signatures: list = Field(sa_type=sa.JSON)
    actions_in_words: list = Field(sa_type=sa.JSON)
    snapshot: int = u256()
    vote_end: int = u256()
    deadline: int = u256()
    eta: int = u256(default=0)
    votes_for: int = u256(default=0)
    votes_against: int = u256(default=0)
    votes_abstain: int = u256(default=0)
    voter_count: int = Field(default=0)
    quorum: int | None = u256(nullable=True)
    electorate: int | None = Field(default=None)  # members at the snapshot (who could vote)
    created_block: int = Field(sa_type=sa.BigInteger)
    created_tx: str = Field(max_length=66)
    created_time: int = Field(sa_type=sa.BigInteger)
    timelock_id: str | None = Field(default=None, max_length=66, index=True)
    queued_block: int | None = Field(default=None, sa_type=sa.BigInteger)
    queued_tx: str | None = Field(default=None, max_length=66)
    queued_time: int | None = Field(default=None, sa_type=sa.BigInteger)
    executed_block: int | None = Field(default=None, sa_type=sa.BigInteger)
    executed_tx: str | None = Field(default=None, max_length=66)
    executed_time: int | None = Field(default=None, sa_type=sa.BigInteger)
    canceled_block: int | None = Field(default=None, sa_type=sa.BigInteger)
    canceled_tx: str | None = Field(default=None, max_length=66)
    canceled_time: int | None = Field(default=None, sa_type=sa.BigInteger)


class Vote(SQLModel, table=True):
    """One cast vote with its reason, where and when it was cast."""

    __tablename__ = "vote"
    __table_args__ = (sa.UniqueConstraint("block_number", "log_index", name="uq_vote_position"),  # as DecisionEntry
                      sa.Index("ix_vote_proposal_id_id", "proposal_id", "id"))
    # INTEGER on SQLite, where only that spelling auto-increments (it is the 64-bit rowid there).
    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"))
    proposal_id: str = Field(max_length=78)
    voter: str = Field(max_length=42, index=True)
    support: int
    weight: int = u256()
    reason: str = Field(sa_type=sa.Text)
    params: str = Field(default="0x", sa_type=sa.Text)
    block_number: int = Field(sa_type=sa.BigInteger)
    tx_hash: str = Field(max_length=66)
    log_index: int
    timestamp: int = Field(sa_type=sa.BigInteger)


# ---- response schemas (what the API says; uint256 ids and wei as decimal strings) -----------


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


class VotePublic(SQLModel):
    proposal_id: str
    voter: str
    handle: str | None = None
    support: str
    weight: int
    reason: str
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


class ProposalDetail(ProposalPublic):
    """One proposal with everything: text, actions in words, timeline, quorum progress and every vote."""

    description: str
    actions: list[ActionPublic]
    timelock_id: str | None  # its timelock operation once queued: the subject of the timelock's decision-log entries
    quorum_progress: QuorumProgress
    timeline: list[TimelineStep]
    votes: list[VotePublic]


class MemberDetail(MemberPublic):
    """A member with everything they did: membership history, votes, proposals."""

    history: list[DecisionEntryPublic]
    votes: list[VotePublic]
    proposed: list[ProposalPublic]


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


class ParticipationPublic(SQLModel):
    """Who shows up: turnout per proposal, per member and per month."""

    per_proposal: list[ProposalTurnout]
    per_member: list[MemberTurnout]
    over_time: list[PeriodTurnout]


class ErrorPublic(SQLModel):
    detail: str
    code: str
