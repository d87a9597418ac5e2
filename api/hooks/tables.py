"""The webhooks' tables in the cache database. Unlike the rest of the cache they are not derived from the chain:
endpoints are what stewards registered, and deliveries are what was sent; a rebuild of the cache keeps them."""

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class HookEndpoint(SQLModel, table=True):
    """A URL that receives the events of the given types (its URL may hold a chat service's token: never public)."""

    __tablename__ = "hook_endpoint"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_type=sa.Text)
    events: str = Field(sa_type=sa.Text)  # space-separated event types; '*' for all
    enabled: bool = Field(default=True)
    disabled_reason: str | None = Field(default=None, sa_type=sa.Text)
    after_seq: int = Field(sa_type=sa.BigInteger)  # it receives decision-log entries after this one
    created_at: float


class HookEvent(SQLModel, table=True):
    """One event to deliver: a decision-log entry (or the news that a reorg removed one), its body fixed once."""

    __tablename__ = "hook_event"
    __table_args__ = (sa.Index("ix_hook_event_block", "block_number"),)
    id: str = Field(primary_key=True, max_length=64)  # webhook-id: the same on every retry and every process
    type: str = Field(max_length=64)
    seq: int = Field(sa_type=sa.BigInteger, index=True)
    block_number: int = Field(sa_type=sa.BigInteger)
    block_hash: str = Field(max_length=66)
    log_index: int
    body: str = Field(sa_type=sa.Text)  # the exact bytes signed and sent, every time
    gone: bool = Field(default=False)  # a reorg removed the entry this event is about
    reverts: str | None = Field(default=None, max_length=64)  # for a `….reverted` event, the id it reverts
    created_at: float


class HookDelivery(SQLModel, table=True):
    """One event for one endpoint: pending until it answers 2xx, retried with back-off, claimed by one process."""

    __tablename__ = "hook_delivery"
    __table_args__ = (sa.Index("ix_hook_delivery_due", "status", "next_attempt_at"),)
    event_id: str = Field(primary_key=True, max_length=64)
    endpoint_id: int = Field(primary_key=True)
    status: str = Field(max_length=12)  # pending, delivered, failed (retries exhausted), dropped, disabled
    attempts: int = Field(default=0)  # since it was queued or last replayed (the attempt log keeps them all)
    next_attempt_at: float
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: float | None = Field(default=None)
    delivered_at: float | None = Field(default=None)


class HookAttempt(SQLModel, table=True):
    """The delivery log: every attempt with what the endpoint answered (or why it could not be called; while no answer is
    recorded, delivery.IN_FLIGHT, or delivery.INTERRUPTED once its process lost the claim)."""

    __tablename__ = "hook_attempt"
    __table_args__ = (sa.Index("ix_hook_attempt_event", "event_id", "endpoint_id"),)
    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"))
    event_id: str = Field(max_length=64)
    endpoint_id: int
    at: float
    status_code: int | None = Field(default=None)
    error: str | None = Field(default=None, sa_type=sa.Text)
    seconds: float
    process: str = Field(max_length=64)


ENDPOINTS, EVENTS = HookEndpoint.__table__, HookEvent.__table__
DELIVERIES, ATTEMPTS = HookDelivery.__table__, HookAttempt.__table__
