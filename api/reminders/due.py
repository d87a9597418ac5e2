"""Which reminders are due: for each subscribed current member (their email address confirmed) and each proposal open for voting that they could
vote on (a member at its snapshot) and have not voted on at the indexed block,

- `opened`   when the vote is open and the member asked for it (not once the close's reminder is due: it says more),
- `closing`  from `hours_before_close` before the close, for a member who holds their own vote,
- `delegate` from that time (24 h when they chose none), for a member who delegated, while the delegate has not voted.

Each is recorded once per member, proposal and kind (the primary key), whichever API process sees it first; one pass
runs in one transaction, under an advisory lock on PostgreSQL, as the webhooks' outbox does, and first deletes the
subscriptions of accounts no longer members."""

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from api.cache.queries import in_state
from api.cache.tables import CURSOR, MEMBERS, PROPOSALS, VOTES
from api.hooks.outbox import _insert
from api.reminders.subscriptions import forget_former_members
from api.reminders.tables import SENT, SUBSCRIPTIONS

REMINDERS_LOCK = 0x72656D696E64  # "remind": one pass at a time across API processes (PostgreSQL)
DEFAULT_DELEGATE_HOURS = 24
# A reminder dropped because a ballot was indexed (or the subscription or membership was gone) is due again when it
# is due now: a reorganisation removed the ballot, or the member subscribed again. One sent is never sent again.
DUE_AGAIN = ("voted", "gone")


def could_vote_at_snapshot():
    """A join condition: the member was a member at the proposal's snapshot (as api/notify/reads.could_vote)."""
    return sa.and_(
        MEMBERS.c.admitted_time <= PROPOSALS.c.snapshot,
        sa.or_(MEMBERS.c.left_time.is_(None), MEMBERS.c.left_time > PROPOSALS.c.snapshot),
    )


def clock(conn: Connection) -> int | None:
    """Now for reminders: the indexed block's time, or the wall clock when the chain has made no block since (a
    quiet chain must not hold back a close's reminder); None before anything is indexed."""
    indexed = conn.execute(sa.select(CURSOR.c.block_timestamp).where(CURSOR.c.id == 1)).scalar()
    return None if indexed is None else max(int(indexed), int(time.time()))


def close_window(subscription, delegating: bool) -> int:
    """Seconds before a close from which the member's reminder of that close is due (0: never)."""
    hours = subscription.hours_before_close
    if delegating:
        return 3600 * (hours or DEFAULT_DELEGATE_HOURS) if subscription.delegate_not_voted else 0
    return 3600 * hours


def due_kinds(subscription, proposal, voted: set, now: int) -> list[str]:
    """The kinds of reminder due now for one subscriber (joined with their member row) and one open proposal; `voted`
    holds the (proposal id, voter) pairs indexed."""
    address, delegate = subscription.address, subscription.delegate
    if (proposal.proposal_id, address) in voted:
        return []
    delegating = delegate is not None and delegate != address
    window = close_window(subscription, delegating)
    closing_due = window > 0 and now >= int(proposal.deadline) - window
    kinds = ["opened"] if subscription.vote_opened and not closing_due else []
    if closing_due and not delegating:
        kinds.append("closing")
    if closing_due and delegating and (proposal.proposal_id, delegate) not in voted:
        kinds.append("delegate")
    return kinds


def record_due(engine: Engine) -> int:
    """One pass: every reminder due now and not yet recorded is recorded as pending (one dropped but due again, as
    DUE_AGAIN says, is pending again). Returns how many it recorded (0:
    nothing new; another process may have recorded the same ones at the same time, and the primary key keeps one)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": REMINDERS_LOCK})
        now = clock(conn)
        if now is None:
            return 0
        forget_former_members(conn)
        subscribers = conn.execute(
            sa.select(SUBSCRIPTIONS, MEMBERS.c.delegate)
            .join(MEMBERS, MEMBERS.c.address == SUBSCRIPTIONS.c.address)
            .where(MEMBERS.c.is_member.is_(True), SUBSCRIPTIONS.c.confirmed_at.is_not(None))
        ).all()
        if not subscribers:
            return 0
        proposals = conn.execute(sa.select(PROPOSALS).where(in_state("active", now))).all()
        if not proposals:
            return 0
        ids = [p.proposal_id for p in proposals]
        voted = {
            tuple(r) for r in conn.execute(sa.select(VOTES.c.proposal_id, VOTES.c.voter).where(VOTES.c.proposal_id.in_(ids)))
        }
        recorded = {
            (r.address, r.proposal_id, r.kind): r.status
            for r in conn.execute(
                sa.select(SENT.c.address, SENT.c.proposal_id, SENT.c.kind, SENT.c.status).where(SENT.c.proposal_id.in_(ids))
            )
        }
        eligible = {
            tuple(r)
            for r in conn.execute(
                sa.select(PROPOSALS.c.proposal_id, MEMBERS.c.address)
                .join(MEMBERS, could_vote_at_snapshot())
                .where(PROPOSALS.c.proposal_id.in_(ids), MEMBERS.c.address.in_([s.address for s in subscribers]))
            )
        }
        rows, again = [], []
        for subscriber in subscribers:
            for proposal in proposals:
                if (proposal.proposal_id, subscriber.address) not in eligible:
                    continue
                for kind in due_kinds(subscriber, proposal, voted, now):
                    key = (subscriber.address, proposal.proposal_id, kind)
                    if recorded.get(key) in DUE_AGAIN:
                        again.append(key)
                    if key in recorded:
                        continue
                    rows.append(
                        {
                            "address": subscriber.address,
                            "proposal_id": proposal.proposal_id,
                            "kind": kind,
                            "status": "pending",
                            "attempts": 0,
                            "next_attempt_at": time.time(),
                            "created_at": time.time(),
                        }
                    )
        _insert(conn, SENT, rows)
        for address, proposal_id, kind in again:
            conn.execute(
                sa.update(SENT)
                .where(SENT.c.address == address, SENT.c.proposal_id == proposal_id, SENT.c.kind == kind)
                .where(SENT.c.status.in_(DUE_AGAIN))
                .values(status="pending", attempts=0, next_attempt_at=time.time(), error=None)
            )
        return len(rows) + len(again)
