"""What the relay's two kinds of promise (ballots in api/relay_store.py, initiative acts in api/relay_act_store.py)
read alike: one record by id, several in the order they were accepted, the queue, counts by status, and those
settled since a block."""

from collections.abc import Callable
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from governance.relay_store import QUEUED

Record = TypeVar("Record")


class RecordReads(Generic[Record]):
    """Reads of one relay table whose rows have `id`, `seq` (order of acceptance), `status` and `block_number`."""

    def __init__(self, engine: Engine, table: sa.Table, record_of: Callable[[sa.Row], Record]):
        self.engine = engine
        self._table = table
        self._record_of = record_of

    def _get(self, conn: Connection, record_id: str) -> Record | None:
        row = conn.execute(sa.select(self._table).where(self._table.c.id == record_id)).first()
        return self._record_of(row) if row is not None else None

    def get(self, record_id: str) -> Record | None:
        with self.engine.connect() as conn:
            return self._get(conn, record_id)

    def _where(self, *conditions, limit: int | None = None) -> list[Record]:
        query = sa.select(self._table).where(*conditions).order_by(self._table.c.seq).limit(limit)
        with self.engine.connect() as conn:
            return [self._record_of(row) for row in conn.execute(query).all()]

    def _of_ids(self, record_ids: list[str]) -> list[Record]:
        return self._where(self._table.c.id.in_(record_ids)) if record_ids else []

    def queued(self, limit: int) -> list[Record]:
        return self._where(self._table.c.status == QUEUED, limit=limit)

    def _settled_since(self, status: str, block_number: int) -> list[Record]:
        return self._where(self._table.c.status == status, self._table.c.block_number >= block_number)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(self._table.c.status, sa.func.count()).group_by(self._table.c.status)).all()
        return {status: count for status, count in rows}
