"""The reminders' tables in the cache database. Like the webhooks' tables they are not derived from the chain, and
unlike everything else there they hold private things (email addresses): no public route, export or log reads them."""

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class ReminderSubscription(SQLModel, table=True):
    """A member's email address and what they want to hear about (one per address; deleted on unsubscribe, or once
    they are no longer a member). Nothing is sent to the address before its owner confirms it (confirmed_at) from the
    link mailed to it; confirmation_sent_at is when that link was last mailed, so asking again is rate-limited."""

    __tablename__ = "reminder_subscription"
    address: str = Field(primary_key=True, max_length=42)
    email: str = Field(max_length=254)
    vote_opened: bool = Field(default=True)
    hours_before_close: int = Field(default=24)  # 0: no reminder before a close
    delegate_not_voted: bool = Field(default=True)
    confirmed_at: float | None = Field(default=None)  # None: waiting for the owner of the email address to confirm
    confirmation_sent_at: float | None = Field(default=None)
    created_at: float
    updated_at: float


class ReminderNonce(SQLModel, table=True):
    """A sign-in nonce spent by a member's sign-in (used_at), kept until expires_at so a copy is refused; nonces
    issued and not used are signed, never stored (api/reminders/signin.py)."""

    __tablename__ = "reminder_nonce"
    __table_args__ = (sa.Index("ix_reminder_nonce_expires", "expires_at"),)
    nonce: str = Field(primary_key=True, max_length=64)
    address: str = Field(max_length=42)
    issued_at: float
    expires_at: float
    used_at: float | None = Field(default=None)


class ReminderSent(SQLModel, table=True):
    """One reminder of one kind to one member about one proposal: written once by whichever process saw it due first,
    then claimed, sent (or dropped once the ballot is indexed) by one process."""

    __tablename__ = "reminder_sent"
    __table_args__ = (sa.Index("ix_reminder_sent_due", "status", "next_attempt_at"),)
    address: str = Field(primary_key=True, max_length=42)
    proposal_id: str = Field(primary_key=True, max_length=78)
    kind: str = Field(primary_key=True, max_length=16)  # opened, closing, delegate
    status: str = Field(max_length=12)  # pending, sent, voted (dropped: the ballot was indexed), gone, failed
    attempts: int = Field(default=0)
    next_attempt_at: float
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: float | None = Field(default=None)
    sent_at: float | None = Field(default=None)
    error: str | None = Field(default=None, sa_type=sa.Text)  # the SMTP server's answer, email addresses removed
    created_at: float


SUBSCRIPTIONS, NONCES, SENT = ReminderSubscription.__table__, ReminderNonce.__table__, ReminderSent.__table__
