"""A reorg's rollback in the cache: back to the common ancestor, inside the sink's transaction.

The decision log is the append-only record and the other tables are views of it kept ready for reading, so a
rollback deletes everything after the ancestor, forgets the rows those entries had changed, and rebuilds them by
replaying the entries that remain.
"""

import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from api.cache import store
from api.cache.projection import JUST_CREATED, SETTING_EVENTS, TALLY_COLUMNS, Projection
from api.cache.tables import BLOCKS, CURSOR, LOG, MEMBERS, PROPOSALS, SETTINGS, STEWARDS, VOTES
from governance.decision_log import GENESIS_HASH
from governance.events import Event
from governance.indexer import Rollback
from governance.rpc import BlockRef
from governance.vocabulary import LIFECYCLE_EVENTS, MEMBER_EVENTS, STEWARD_EVENTS, TIMELOCK_EVENTS, VOTE_EVENTS, Addresses


@dataclass(frozen=True)
class Touched:
    """What the entries after the ancestor were about: the rows to rebuild from the entries that remain."""

    members: frozenset[str]
    stewards: frozenset[str]
    proposal_ids: frozenset[str]
    settings: bool


def roll_back(conn: Connection, rollback: Rollback, addresses: Addresses) -> None:
    """Undo every block after `rollback.ancestor` (every block, when it is None)."""
    ancestor = rollback.ancestor
    last = ancestor.number if ancestor else -1
    touched = _touched_after(conn, last)
    _delete_after(conn, last)
    _forget(conn, touched)
    _reset_proposals(conn, touched.proposal_ids)
    _clear_quorums(conn, since=ancestor.timestamp if ancestor else 0)
    _replay(conn, touched, addresses)
    if ancestor is None:
        conn.execute(CURSOR.delete())
        return
    _move_cursor_back(conn, ancestor, rollback.treasury_wei)
    store.fill_quorums(conn, ancestor.timestamp)


def _touched_after(conn: Connection, last: int) -> Touched:
    removed = conn.execute(sa.select(LOG.c.kind, LOG.c.subject).where(LOG.c.block_number > last)).all()
    proposal_ids = {s for k, s in removed if k in VOTE_EVENTS + LIFECYCLE_EVENTS}
    operations = [s for k, s in removed if k in TIMELOCK_EVENTS]
    if operations:
        queued_as = sa.select(PROPOSALS.c.proposal_id).where(PROPOSALS.c.timelock_id.in_(operations))
        proposal_ids |= set(conn.execute(queued_as).scalars())
    return Touched(
        members=frozenset(s for k, s in removed if k in MEMBER_EVENTS),
        stewards=frozenset(s for k, s in removed if k in STEWARD_EVENTS),
        proposal_ids=frozenset(proposal_ids),
        settings=any(k in SETTING_EVENTS for k, _ in removed),
    )


def _delete_after(conn: Connection, last: int) -> None:
    """The entries, votes, blocks and proposals of the blocks after `last`."""
    for column in (LOG.c.block_number, VOTES.c.block_number, BLOCKS.c.number, PROPOSALS.c.created_block):
        conn.execute(column.table.delete().where(column > last))


def _forget(conn: Connection, touched: Touched) -> None:
    """The member, steward and setting rows the removed entries had changed (the replay rebuilds them)."""
    conn.execute(MEMBERS.delete().where(MEMBERS.c.address.in_(touched.members)))
    conn.execute(STEWARDS.delete().where(STEWARDS.c.address.in_(touched.stewards)))
    if touched.settings:
        conn.execute(SETTINGS.delete())


def _reset_proposals(conn: Connection, proposal_ids: frozenset[str]) -> None:
    """Lifecycle back to 'just created' (the replay redoes the steps that remain), tallies recounted from the votes
    that remain."""
    if not proposal_ids:
        return
    conn.execute(
        PROPOSALS.update().where(PROPOSALS.c.proposal_id.in_(proposal_ids)).values(deadline=PROPOSALS.c.vote_end, **JUST_CREATED)
    )
    tallies = {proposal_id: {column: 0 for column in TALLY_COLUMNS} | {"voter_count": 0} for proposal_id in proposal_ids}
    for proposal_id, support, weight, voters in conn.execute(
        sa.select(VOTES.c.proposal_id, VOTES.c.support, sa.func.sum(VOTES.c.weight), sa.func.count())
        .where(VOTES.c.proposal_id.in_(proposal_ids))
        .group_by(VOTES.c.proposal_id, VOTES.c.support)
    ):
        tallies[proposal_id][TALLY_COLUMNS[support]] = int(weight)
        tallies[proposal_id]["voter_count"] += voters
    for proposal_id, tally in tallies.items():
        conn.execute(PROPOSALS.update().where(PROPOSALS.c.proposal_id == proposal_id).values(**tally))


def _clear_quorums(conn: Connection, since: int) -> None:
    """Quorums of snapshots at or after `since`: the membership counted for them may have changed."""
    conn.execute(PROPOSALS.update().where(PROPOSALS.c.snapshot >= since).values(quorum=None, electorate=None))


def _replay(conn: Connection, touched: Touched, addresses: Addresses) -> None:
    """The remaining entries about what was touched, projected again in chain order."""
    about_touched = sa.or_(
        sa.and_(LOG.c.kind.in_(MEMBER_EVENTS), LOG.c.subject.in_(touched.members)),
        sa.and_(LOG.c.kind.in_(STEWARD_EVENTS), LOG.c.subject.in_(touched.stewards)),
        sa.and_(LOG.c.kind.in_(LIFECYCLE_EVENTS), LOG.c.subject.in_(touched.proposal_ids)),
        LOG.c.kind.in_(TIMELOCK_EVENTS) if touched.proposal_ids else sa.false(),
        LOG.c.kind.in_(list(SETTING_EVENTS)) if touched.settings else sa.false(),
    )
    projection = Projection(store.SqlRows(conn), addresses)
    for row in conn.execute(sa.select(LOG).where(about_touched).order_by(LOG.c.seq)):
        projection.apply(_event_of(row))
    store.write(conn, projection)


def _event_of(row) -> Event:
    """An Event back from a stored decision-log row (integer arguments come back as decimal strings)."""
    return Event(
        row.block_number, row.block_hash, row.tx_hash, row.log_index, row.timestamp, row.contract, row.kind, json.loads(row.data)
    )


def _move_cursor_back(conn: Connection, ancestor: BlockRef, treasury_wei: int | None) -> None:
    """The cursor at the ancestor, the log's head at its newest remaining entry, and the treasury as it was there
    (when the indexer read it)."""
    tail = conn.execute(sa.select(LOG.c.seq, LOG.c.hash).order_by(LOG.c.seq.desc()).limit(1)).first()
    treasury = {} if treasury_wei is None else {"treasury_wei": str(treasury_wei)}
    conn.execute(
        CURSOR.update()
        .where(CURSOR.c.id == 1)
        .values(
            block_number=ancestor.number,
            block_hash=ancestor.hash,
            block_timestamp=ancestor.timestamp,
            log_seq=tail.seq if tail else 0,
            log_head_hash=tail.hash if tail else GENESIS_HASH,
            **treasury,
        )
    )
