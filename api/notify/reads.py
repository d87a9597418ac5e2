"""What calendars and feeds read of the cache: proposals in a window of time, who could vote on them, and how often
their close moved. Reads only."""

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from api.cache.tables import LOG, MEMBERS, PROPOSALS

# A calendar shows deadlines from this long ago on (a large commons stays fast; old votes are history).
WINDOW_PAST_SECONDS = 60 * 24 * 3600
MAX_CALENDAR_PROPOSALS = 500


def could_vote(member: str):
    """A condition on proposals: `member` was a member at the proposal's snapshot (so its deadlines are theirs)."""
    m = MEMBERS.alias("voter")
    return sa.exists(
        sa.select(m.c.address).where(
            m.c.address == member,
            m.c.admitted_time <= PROPOSALS.c.snapshot,
            sa.or_(m.c.left_time.is_(None), m.c.left_time > PROPOSALS.c.snapshot),
        )
    )


def proposals_in_window(conn: Connection, now: int, member: str | None = None) -> list:
    """Proposals with a deadline (close or timelock ETA) no older than the window before `now`, newest first, at most
    MAX_CALENDAR_PROPOSALS; only those `member` could vote on when given. Each row has `extensions`: how many
    times its close moved."""
    latest = (
        sa.func.max(PROPOSALS.c.deadline, PROPOSALS.c.eta)
        if conn.dialect.name == "sqlite"
        else sa.func.greatest(PROPOSALS.c.deadline, PROPOSALS.c.eta)
    )
    extensions = (
        sa.select(sa.func.count())
        .where(LOG.c.kind == "ProposalExtended", LOG.c.subject == PROPOSALS.c.proposal_id)
        .scalar_subquery()
        .label("extensions")
    )
    query = sa.select(PROPOSALS, extensions).where(latest >= now - WINDOW_PAST_SECONDS)
    if member is not None:
        query = query.where(could_vote(member))
    return list(conn.execute(query.order_by(PROPOSALS.c.number.desc()).limit(MAX_CALENDAR_PROPOSALS)).all())


def member_exists(conn: Connection, address: str) -> bool:
    return conn.execute(sa.select(MEMBERS.c.address).where(MEMBERS.c.address == address)).first() is not None


def proposals_needing_a_vote(conn: Connection, now: int, limit: int = 100) -> list:
    """Proposals open for voting at `now` (the indexed block's time), the soonest to close first."""
    from api.cache.queries import in_state

    query = sa.select(PROPOSALS).where(in_state("active", now)).order_by(PROPOSALS.c.deadline, PROPOSALS.c.number)
    return list(conn.execute(query.limit(limit)).all())
