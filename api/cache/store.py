"""A projection's rows in and out of SQL, inside the sink's transaction: reading the rows events change, writing
what the projection made of them, and the quorums that follow from the decision log.
"""

import bisect
import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from api.cache.projection import Held, MemberRow, Projection, ProposalRow, StewardRow, VoteRow
from api.cache.tables import LOG, MEMBERS, PROPOSALS, SETTINGS, STEWARDS, VOTES

# The events that change how many members there are (a delegation does not).
MEMBERSHIP_CHANGES = ("MemberAdmitted", "MemberRemoved", "MemberResigned")


class SqlRows:
    """The cache's rows on `conn`, as a projection's RowSource."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def _one(self, table: sa.Table, column: sa.Column, key: str):
        return self.conn.execute(sa.select(table).where(column == key)).mappings().first()

    def member(self, address: str) -> MemberRow | None:
        row = self._one(MEMBERS, MEMBERS.c.address, address)
        return MemberRow(**row) if row else None

    def steward(self, address: str) -> StewardRow | None:
        row = self._one(STEWARDS, STEWARDS.c.address, address)
        return StewardRow(**row) if row else None

    def proposal(self, proposal_id: str) -> ProposalRow | None:
        row = self._one(PROPOSALS, PROPOSALS.c.proposal_id, proposal_id)
        return ProposalRow(**row) if row else None

    def proposal_of_operation(self, operation_id: str) -> str | None:
        return self.conn.execute(
            sa.select(PROPOSALS.c.proposal_id).where(PROPOSALS.c.timelock_id == operation_id)
        ).scalar_one_or_none()

    def last_proposal_number(self) -> int:
        return self.conn.execute(sa.select(sa.func.max(PROPOSALS.c.number))).scalar() or 0


def write(conn: Connection, projection: Projection) -> None:
    """Write every row `projection` holds: new rows inserted, changed fields updated, votes appended and counted."""
    _write_held(conn, MEMBERS, "address", projection.members.values())
    _write_held(conn, STEWARDS, "address", projection.stewards.values())
    if projection.settings:
        conn.execute(SETTINGS.delete().where(SETTINGS.c.name.in_(list(projection.settings))))
        conn.execute(SETTINGS.insert(), [vars(row) for row in projection.settings.values()])
    _write_held(conn, PROPOSALS, "proposal_id", projection.proposals.values())
    bulk_insert(conn, VOTES, VoteRow._fields, projection.votes)
    for proposal_id, tally in projection.tallies.items():
        added = {column: PROPOSALS.c[column] + count for column, count in vars(tally).items()}
        conn.execute(PROPOSALS.update().where(PROPOSALS.c.proposal_id == proposal_id).values(**added))


def _write_held(conn: Connection, table: sa.Table, key: str, held: list[Held | None]) -> None:
    rows = [h for h in held if h is not None]
    new = [vars(h.row) for h in rows if h.is_new]
    if new:
        conn.execute(table.insert(), new)
    for h in rows:
        if not h.is_new and h.changed:
            changed = {name: getattr(h.row, name) for name in h.changed}
            conn.execute(table.update().where(table.c[key] == getattr(h.row, key)).values(**changed))


def bulk_insert(conn: Connection, table: sa.Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert many plain rows (ints and strings only) at driver speed, inside the current transaction.

    SQLAlchemy's per-row parameter processing costs more than the insert itself in a backfill, so the two
    big tables go straight to the driver: COPY on PostgreSQL, executemany on SQLite.
    """
    if not rows:
        return
    names = ", ".join(f'"{c}"' for c in columns)
    driver = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})", rows)


def fill_quorums(conn: Connection, timestamp: int) -> None:
    """Set the quorum of proposals whose snapshot has passed: members at the snapshot × percentage ÷ 100.

    Both come from the decision log, read once for all such proposals: the members counted as the membership's
    checkpointed total supply counts them (changes at or before the snapshot), the percentage last set by then.
    """
    pending = conn.execute(
        sa.select(PROPOSALS.c.proposal_id, PROPOSALS.c.snapshot).where(
            PROPOSALS.c.quorum.is_(None), PROPOSALS.c.snapshot < timestamp
        )
    ).all()
    if not pending:
        return
    member_times, member_counts, numerator_times, numerators = [], [], [], []
    for kind, at, data in conn.execute(
        sa.select(LOG.c.kind, LOG.c.timestamp, LOG.c.data)
        .where(
            LOG.c.kind.in_((*MEMBERSHIP_CHANGES, "QuorumNumeratorUpdated")),
            LOG.c.timestamp <= max(snapshot for _, snapshot in pending),
        )
        .order_by(LOG.c.seq)
    ):
        if kind == "QuorumNumeratorUpdated":
            numerator_times.append(at)
            numerators.append(int(json.loads(data)["newQuorumNumerator"]))
        else:
            member_times.append(at)
            member_counts.append((member_counts[-1] if member_counts else 0) + (1 if kind == "MemberAdmitted" else -1))
    for proposal_id, snapshot in pending:
        changes = bisect.bisect_right(member_times, snapshot)
        electorate = member_counts[changes - 1] if changes else 0
        settings = bisect.bisect_right(numerator_times, snapshot)
        quorum = electorate * (numerators[settings - 1] if settings else 0) // 100
        conn.execute(
            PROPOSALS.update().where(PROPOSALS.c.proposal_id == proposal_id).values(quorum=quorum, electorate=electorate)
        )
