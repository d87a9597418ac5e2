"""The relay's initiative acts in the cache database (SQLite or PostgreSQL): signed drafts, revisions, withdrawals and
supports the relay promised to send, and the free actions each member used per UTC day.

Like the ballots beside them (api/relay_store.py), these rows are promises, not derived from the chain. A member's
free actions of a day are numbered slots unique per (member, day), so two replicas accepting at the same moment
cannot both take the last one; an act refused before the relay paid for it gives its slot back (one whose relay
transaction reverted keeps it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from api.relay_records import RecordReads
from governance.relay_store import DONE, QUEUED, REFUSED, ActRecord

HASH = 66
# Tries to take a free slot when other processes take the same ones meanwhile (each loss means another act was kept).
SLOT_TRIES = 8


class RelayInitiativeAct(SQLModel, table=True):
    """One initiative act the relay accepted, and where it is (see governance/relay_store.py ActRecord)."""

    __tablename__ = "relay_initiative_act"
    __table_args__ = (sa.UniqueConstraint("member", "day", "slot", name="uq_relay_initiative_act_slot"),)
    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(max_length=HASH, unique=True)
    kind: str = Field(max_length=8)
    member: str = Field(max_length=42, index=True)
    initiative: str | None = Field(default=None, max_length=78)  # uint256 as decimal text
    data: str = Field(sa_type=sa.Text)  # 0x-hex call to the Initiatives contract
    signature: str = Field(sa_type=sa.Text)
    day: str = Field(max_length=10)
    slot: int | None = None
    status: str = Field(max_length=8, index=True)
    accepted_at: float
    accepted_block: int = Field(sa_type=sa.BigInteger)
    relay_nonce: int | None = Field(default=None, sa_type=sa.BigInteger)
    tx_hash: str | None = Field(default=None, max_length=HASH)
    block_number: int | None = Field(default=None, sa_type=sa.BigInteger)
    by_relay: bool | None = None
    error: str | None = Field(default=None, sa_type=sa.Text)
    attempts: int = 0


ACTS = RelayInitiativeAct.__table__
MUTABLE = ("status", "slot", "relay_nonce", "tx_hash", "block_number", "by_relay", "error", "attempts")


def _row_of(record: ActRecord) -> dict:
    return {
        "id": record.id,
        "kind": record.kind,
        "member": record.member,
        "initiative": None if record.initiative is None else str(record.initiative),
        "data": "0x" + record.data.hex(),
        "signature": "0x" + record.signature.hex(),
        "day": record.day,
        "accepted_at": record.accepted_at,
        "accepted_block": record.accepted_block,
        **{name: getattr(record, name) for name in MUTABLE},
    }


def _record_of(row) -> ActRecord:
    return ActRecord(
        row.id,
        row.kind,
        row.member,
        None if row.initiative is None else int(row.initiative),
        bytes.fromhex(row.data[2:]),
        bytes.fromhex(row.signature[2:]),
        row.day,
        accepted_at=row.accepted_at,
        accepted_block=row.accepted_block,
        **{name: getattr(row, name) for name in MUTABLE},
    )


class SqlActStore(RecordReads[ActRecord]):
    """The ActStore on the cache database's engine (table from migration 0007)."""

    def __init__(self, engine: Engine):
        super().__init__(engine, ACTS, _record_of)

    def add(self, record: ActRecord, allowance: int | None) -> ActRecord | None:
        for _ in range(SLOT_TRIES):
            try:
                return self._add(record, allowance)
            except sa.exc.IntegrityError:
                continue  # another process took this slot, or kept this very act, meanwhile: look again
        raise RuntimeError(f"could not keep act {record.id}: its member's slots kept changing")

    def _add(self, record: ActRecord, allowance: int | None) -> ActRecord | None:
        with self.engine.begin() as conn:
            existing = self._get(conn, record.id)
            if existing is not None and existing.status != REFUSED:
                return existing
            free = None
            if existing is not None and existing.slot is not None and existing.day == record.day:
                free = existing.slot  # refused after the relay paid for it: it still holds that free action
            elif allowance is not None:
                mine = (ACTS.c.member == record.member) & (ACTS.c.day == record.day) & ACTS.c.slot.is_not(None)
                taken = set(conn.execute(sa.select(ACTS.c.slot).where(mine)).scalars())
                free = next((slot for slot in range(allowance) if slot not in taken), None)
                if free is None:
                    return None
            record.slot, record.status = free, QUEUED
            if existing is not None:  # a refused copy: this one passed the checks anew
                conn.execute(ACTS.update().where(ACTS.c.id == record.id).values(**_row_of(record)))
            else:
                conn.execute(ACTS.insert().values(**_row_of(record)))
            return record

    def acts(self, act_ids: list[str]) -> list[ActRecord]:
        return self._of_ids(act_ids)

    def done_since(self, block_number: int) -> list[ActRecord]:
        return self._settled_since(DONE, block_number)

    def used(self, member: str, day: str) -> int:
        with self.engine.connect() as conn:
            query = sa.select(sa.func.count()).where(ACTS.c.member == member, ACTS.c.day == day, ACTS.c.slot.is_not(None))
            return int(conn.execute(query).scalar_one())

    def update(self, records: Sequence[ActRecord]) -> None:
        with self.engine.begin() as conn:
            self.write(conn, records)

    def write(self, conn: Connection, records: Sequence[ActRecord]) -> None:
        """Write the records' status fields on `conn` (inside the caller's transaction)."""
        for record in records:
            values = {name: getattr(record, name) for name in MUTABLE}
            if record.initiative is not None:
                values["initiative"] = str(record.initiative)
            conn.execute(ACTS.update().where(ACTS.c.id == record.id).values(**values))
