"""The vote relay's store in the cache database (SQLite or PostgreSQL): ballots and relay transactions (and, through
`api/relay_act_store.py`, initiative acts).

Unlike the rest of the cache, these rows are not derived from the chain: they are what the relay
promised members (a ballot answered 202) and what it broadcast, so they survive restarts and are
shared by every API process on one database. A lock keeps exactly one process sending for a
relayer account (a session advisory lock on PostgreSQL, a file lock beside a SQLite file); whoever
holds it sends every replica's ballots, and it passes to another process when the holder stops or
dies.
"""

import fcntl
import json
import threading
from collections.abc import Sequence
from typing import TextIO

import sqlalchemy as sa
from eth_utils import keccak
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from api.relay_act_store import SqlActStore
from api.relay_records import RecordReads
from governance.ballots import Ballot
from governance.relay_store import COUNTED, LIVE, REFUSED, SENT, ActRecord, BallotRecord, RelayTransaction

HASH = 66


class RelayBallot(SQLModel, table=True):
    """One ballot the relay accepted, and where it is (see governance/relay_store.py)."""

    __tablename__ = "relay_ballot"
    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(max_length=HASH, unique=True)
    proposal_id: str = Field(max_length=78)  # uint256 as decimal text
    voter: str = Field(max_length=42, index=True)
    support: int
    nonce: str = Field(max_length=78)
    reason: str = Field(sa_type=sa.Text)
    extended: bool
    signature: str = Field(max_length=132)
    status: str = Field(max_length=8, index=True)
    accepted_at: float
    accepted_block: int = Field(sa_type=sa.BigInteger)
    relay_nonce: int | None = Field(default=None, sa_type=sa.BigInteger)
    tx_hash: str | None = Field(default=None, max_length=HASH)
    block_number: int | None = Field(default=None, sa_type=sa.BigInteger)
    counted_by_relay: bool | None = None
    error: str | None = Field(default=None, sa_type=sa.Text)
    batch_size: int | None = None
    attempts: int = 0


class RelayTransactionRow(SQLModel, table=True):
    """One relay transaction by (sender, nonce), with every version broadcast at that nonce."""

    __tablename__ = "relay_transaction"
    sender: str = Field(max_length=42, primary_key=True)
    nonce: int = Field(sa_type=sa.BigInteger, primary_key=True)
    to: str = Field(max_length=42)
    data: str = Field(sa_type=sa.Text)
    gas: int = Field(sa_type=sa.BigInteger)
    max_fee: str = Field(max_length=78)
    tip: str = Field(max_length=78)
    raw: str = Field(sa_type=sa.Text)
    ballot_ids: str = Field(sa_type=sa.Text)  # JSON list
    hashes: str = Field(sa_type=sa.Text)  # JSON list, oldest first
    sent_at: float
    done: bool = Field(index=True)


BALLOTS = RelayBallot.__table__
TRANSACTIONS = RelayTransactionRow.__table__
MUTABLE = ("status", "relay_nonce", "tx_hash", "block_number", "counted_by_relay", "error", "batch_size", "attempts")


def _row_of(record: BallotRecord) -> dict:
    b = record.ballot
    return {
        "id": record.id,
        "proposal_id": str(b.proposal_id),
        "voter": b.voter,
        "support": b.support,
        "nonce": str(b.nonce),
        "reason": b.reason,
        "extended": b.extended,
        "signature": "0x" + record.signature.hex(),
        "accepted_at": record.accepted_at,
        "accepted_block": record.accepted_block,
        **{name: getattr(record, name) for name in MUTABLE},
    }


def _record_of(row) -> BallotRecord:
    ballot = Ballot(int(row.proposal_id), row.support, row.voter, int(row.nonce), row.reason, row.extended)
    return BallotRecord(
        row.id,
        ballot,
        bytes.fromhex(row.signature[2:]),
        accepted_at=row.accepted_at,
        accepted_block=row.accepted_block,
        **{name: getattr(row, name) for name in MUTABLE},
    )


def _transaction_of(row) -> RelayTransaction:
    return RelayTransaction(
        row.sender,
        row.nonce,
        row.to,
        row.data,
        row.gas,
        int(row.max_fee),
        int(row.tip),
        row.raw,
        json.loads(row.ballot_ids),
        row.sent_at,
        json.loads(row.hashes),
        row.done,
    )


class SqlRelayStore(RecordReads[BallotRecord]):
    """The RelayStore on the cache database's engine (tables from migration 0003)."""

    def __init__(self, engine: Engine):
        super().__init__(engine, BALLOTS, _record_of)
        self.postgres = engine.dialect.name == "postgresql"
        self._lock_connection: Connection | None = None
        self._lock_guard = threading.Lock()
        self._lock_file: TextIO | None = None
        self.acts = SqlActStore(engine)

    # ---- ballots --------------------------------------------------------------------------

    def add(self, record: BallotRecord) -> BallotRecord:
        """Insert the ballot unless a copy is stored; a refused copy is replaced (this one passed the checks anew)."""
        row = _row_of(record)
        insert = (postgresql.insert if self.postgres else sqlite.insert)(BALLOTS)
        with self.engine.begin() as conn:
            if conn.execute(insert.values(**row).on_conflict_do_nothing(index_elements=["id"])).rowcount == 1:
                return record
            replaced = conn.execute(
                BALLOTS.update().where(BALLOTS.c.id == record.id, BALLOTS.c.status == REFUSED).values(**row)
            ).rowcount
            return record if replaced else self._get(conn, record.id)

    def ballots(self, ballot_ids: list[str]) -> list[BallotRecord]:
        return self._of_ids(ballot_ids)

    def live_of_voter(self, voter: str) -> list[BallotRecord]:
        return sorted(self._where(BALLOTS.c.voter == voter, BALLOTS.c.status.in_(LIVE)), key=lambda r: r.ballot.nonce)

    def in_flight_voters(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(BALLOTS.c.voter).where(BALLOTS.c.status == SENT).distinct()).scalars())

    def counted_since(self, block_number: int) -> list[BallotRecord]:
        return self._settled_since(COUNTED, block_number)

    def update(
        self, records: list[BallotRecord], transaction: RelayTransaction | None = None, acts: Sequence[ActRecord] = ()
    ) -> None:
        with self.engine.begin() as conn:
            if transaction is not None:
                self._put_transaction(conn, transaction)
            self.acts.write(conn, acts)
            for record in records:
                values = {name: getattr(record, name) for name in MUTABLE}
                conn.execute(BALLOTS.update().where(BALLOTS.c.id == record.id).values(**values))

    # ---- transactions ---------------------------------------------------------------------

    def _put_transaction(self, conn: Connection, tx: RelayTransaction) -> None:
        values = {
            "to": tx.to,
            "data": tx.data,
            "gas": tx.gas,
            "max_fee": str(tx.max_fee),
            "tip": str(tx.tip),
            "raw": tx.raw,
            "ballot_ids": json.dumps(tx.ballot_ids),
            "hashes": json.dumps(tx.hashes),
            "sent_at": tx.sent_at,
            "done": tx.done,
        }
        key = (TRANSACTIONS.c.sender == tx.sender) & (TRANSACTIONS.c.nonce == tx.nonce)
        if conn.execute(sa.select(TRANSACTIONS.c.nonce).where(key)).first() is None:
            conn.execute(TRANSACTIONS.insert().values(sender=tx.sender, nonce=tx.nonce, **values))
        else:
            conn.execute(TRANSACTIONS.update().where(key).values(**values))

    def pending_transactions(self, sender: str) -> list[RelayTransaction]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(TRANSACTIONS)
                .where(TRANSACTIONS.c.sender == sender, TRANSACTIONS.c.done.is_(False))
                .order_by(TRANSACTIONS.c.nonce)
            ).all()
        return [_transaction_of(row) for row in rows]

    # ---- one sender per database ----------------------------------------------------------

    def acquire_sender(self, sender: str) -> bool:
        """PostgreSQL: hold a session advisory lock for `sender` on a connection of its own (checked alive on
        every call, so a lost connection means a lost claim). SQLite: an exclusive lock on a file beside the
        database, which the system releases when the process ends however it ends."""
        if not self.postgres:
            return self._hold_file_lock()
        with self._lock_guard:
            if self._lock_connection is not None:
                try:
                    self._lock_connection.execute(sa.text("SELECT 1"))
                    return True
                except sa.exc.DBAPIError:
                    self._drop_lock_connection()
            key = int.from_bytes(keccak(text=f"commons-relay:{sender.lower()}")[:8], "big", signed=True)
            conn = self.engine.connect()
            try:
                held = conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
                conn.commit()
            except sa.exc.DBAPIError:
                conn.close()
                return False
            if held:
                self._lock_connection = conn
                return True
            conn.close()
            return False

    def release_sender(self) -> None:
        with self._lock_guard:
            self._drop_lock_connection()
            if self._lock_file is not None:
                self._lock_file.close()  # closing the descriptor releases its flock
                self._lock_file = None

    def _hold_file_lock(self) -> bool:
        path = self.engine.url.database
        if not path or path == ":memory:":
            return True  # a database only this process sees
        with self._lock_guard:
            if self._lock_file is None:
                handle = open(f"{path}.relay-sender.lock", "a")  # noqa: SIM115  (held open while this process sends)
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.close()
                    return False
                self._lock_file = handle
            return True

    def _drop_lock_connection(self) -> None:
        if self._lock_connection is not None:
            try:
                # Closing a pooled connection would return it, lock held, to the pool: end the session instead.
                self._lock_connection.invalidate()
            finally:
                self._lock_connection = None
