"""The cache's SQLModel tables (the API's response schemas are in api/schemas.py).

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


# Conditions of the decision log's partial indexes, in the very words a query must repeat for SQLite to use them.
NOT_A_VOTE = "kind NOT IN ('VoteCast', 'VoteCastWithParams')"
A_DELEGATION = "kind = 'DelegateChanged'"
DELEGATEE = "substr(data, length(data) - 43, 42)"  # a DelegateChanged entry's toDelegate (see DecisionEntry)


# ---- tables -------------------------------------------------------------------------------


class SyncCursor(SQLModel, table=True):
    """Where the indexer is: the last indexed block, the chain head it saw, and the decision log's head; and the
    commons' contracts by role, as its manifest names them."""

    __tablename__ = "sync_cursor"
    id: int = Field(default=1, primary_key=True)
    chain_id: int
    name: str = Field(max_length=256)
    membership: str = Field(max_length=42)
    governor: str = Field(max_length=42)
    timelock: str = Field(max_length=42)
    # The Initiatives and Contributions contracts: "" for a commons without one, None until the indexer's next batch
    # in a cache from before they were kept here (migration 0010).
    initiatives: str | None = Field(default=None, max_length=42)
    contributions: str | None = Field(default=None, max_length=42)
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
    __table_args__ = (
        sa.UniqueConstraint("block_number", "log_index", name="uq_decision_entry_position"),
        sa.Index("ix_decision_entry_subject_seq", "subject", "seq"),
        sa.Index("ix_decision_entry_kind_seq", "kind", "seq"),
        # A proposal's lifecycle among its thousands of votes (which share its subject): the entries other than votes
        # by subject and kind. Partial, so a vote costs it nothing; a query uses it by repeating NOT_A_VOTE word for word.
        sa.Index(
            "ix_decision_entry_subject_kind_not_votes",
            "subject",
            "kind",
            sqlite_where=sa.text(NOT_A_VOTE),
            postgresql_where=sa.text(NOT_A_VOTE),
        ),
        # Delegations to a member, by delegatee: canonical JSON sorts DelegateChanged's keys (delegator, fromDelegate,
        # toDelegate), so its data ends with the delegatee's address and `"}`. DELEGATEE word for word to use it.
        sa.Index(
            "ix_decision_entry_delegatee",
            sa.text(DELEGATEE),
            sqlite_where=sa.text(A_DELEGATION),
            postgresql_where=sa.text(A_DELEGATION),
        ),
    )
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
    # The members' initiative it came from (its proposer is then the Initiatives contract): the subject
    # `initiative:<id>` of the InitiativeSubmitted entry naming its author and supporters.
    initiative_id: int | None = Field(default=None, sa_type=sa.BigInteger)


class Vote(SQLModel, table=True):
    """One cast vote with its reason, where and when it was cast."""

    __tablename__ = "vote"
    __table_args__ = (
        sa.UniqueConstraint("block_number", "log_index", name="uq_vote_position"),  # as DecisionEntry
        sa.Index("ix_vote_proposal_id_id", "proposal_id", "id"),
    )
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


class NamedToken(SQLModel, table=True):
    """A token that a proposal's or an initiative's actions name (a token to track or untrack, or the target of a
    token payment or approval) and the commons has never tracked, as it names itself when the indexer met it: so
    that the action reads by the token's name before any vote. Tracked tokens are the treasury's assets instead."""

    __tablename__ = "named_token"
    address: str = Field(primary_key=True, max_length=42)
    symbol: str = Field(max_length=64)
    name: str = Field(max_length=256)  # governance.treasury.NOT_A_TOKEN for an address that answers as no token
    decimals: int
    # The block it was read at: a rollback past it forgets it, and the proposal indexed again reads it again.
    read_block: int = Field(sa_type=sa.BigInteger)


# The tables as SQLAlchemy Core sees them: the cache is read and written with Core statements (ORM objects
# would cost more than the queries in a backfill or a page of a thousand votes).
CURSOR, BLOCKS, LOG = SyncCursor.__table__, IndexedBlock.__table__, DecisionEntry.__table__
MEMBERS, STEWARDS, SETTINGS = Member.__table__, Steward.__table__, Setting.__table__
PROPOSALS, VOTES = Proposal.__table__, Vote.__table__
NAMED_TOKENS = NamedToken.__table__

# The treasury's tables live in their own module; imported here so that the cache's metadata holds them too.
import api.cache.treasury_tables  # noqa: E402,F401
