"""The SQL sink: applies the indexer's happenings to the cache, each in one database transaction.

A batch appends its decision-log entries, writes the rows they change (api/cache/projection.py says which) and
moves the cursor, all together, so a killed indexer resumes from the cursor with nothing lost or doubled; a batch
at or below the cursor changes nothing. A reorg's rollback is api/cache/rollback.py.
"""

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from api.cache import store
from api.cache.projection import LogRow, Projection
from api.cache.rollback import roll_back
from api.cache.tables import BLOCKS, CURSOR, LOG
from governance.decision_log import GENESIS_HASH, Entry, chain
from governance.errors import ConfigurationError
from governance.indexer import Batch, Happening, Rollback
from governance.manifest import Manifest
from governance.rpc import BlockRef

# Reorgs deeper than this many blocks fall back to a full re-index.
KEEP_BLOCKS = 1024


class SqlSink:
    """Applies happenings to the cache behind `engine` for the commons of `manifest`."""

    def __init__(self, engine: Engine, manifest: Manifest, keep_blocks: int = KEEP_BLOCKS):
        self.engine = engine
        self.manifest = manifest
        self.chain_id = manifest.chain_id
        self.addresses = manifest.addresses
        self.keep_blocks = keep_blocks

    def cursor(self) -> BlockRef | None:
        """The last indexed block; ConfigurationError if the cache belongs to another commons."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(CURSOR).where(CURSOR.c.id == 1)).mappings().first()
        if row is None:
            return None
        if row["governor"] != self.addresses.governor or row["chain_id"] != self.chain_id:
            raise ConfigurationError(
                f"The cache holds the commons {row['governor']} on chain {row['chain_id']}, not "
                f"{self.addresses.governor} on chain {self.chain_id}; use another database."
            )
        return BlockRef(row["block_number"], row["block_hash"], row["block_timestamp"])

    def log_head(self) -> tuple[int, str]:
        """The decision log's newest sequence number and hash (0 and the genesis hash while it is empty)."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(CURSOR.c.log_seq, CURSOR.c.log_head_hash).where(CURSOR.c.id == 1)).first()
        return (row[0], row[1]) if row is not None else (0, GENESIS_HASH)

    def recent_blocks(self) -> list[BlockRef]:
        """The blocks kept to find a reorg's common ancestor, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(BLOCKS).order_by(BLOCKS.c.number.desc())).all()
        return [BlockRef(r.number, r.hash, r.timestamp) for r in rows]

    def apply(self, happening: Happening) -> None:
        """Apply a batch or a rollback atomically."""
        with self.engine.begin() as conn:
            if isinstance(happening, Rollback):
                roll_back(conn, happening, self.addresses)
            else:
                self._apply_batch(conn, happening)

    def _apply_batch(self, conn: Connection, batch: Batch) -> None:
        cursor = _locked_cursor(conn)
        done = cursor["block_number"] if cursor is not None else -1
        if batch.last.number <= done:
            return  # already applied: re-reading a range changes nothing
        events = [e for e in batch.events if e.block_number > done]
        seq, head = (cursor["log_seq"], cursor["log_head_hash"]) if cursor is not None else (0, GENESIS_HASH)
        entries = _entries_to_append(batch, events, seq, head)
        if entries:
            store.bulk_insert(conn, LOG, LogRow._fields, [LogRow.of(e) for e in entries])
            seq, head = entries[-1].seq, entries[-1].hash
        projection = Projection(store.SqlRows(conn), self.addresses)
        for event in events:
            projection.apply(event)
        store.write(conn, projection)
        store.fill_quorums(conn, batch.last.timestamp)
        self._remember(conn, batch)
        self._move_cursor(conn, batch, seq, head, is_first=cursor is None)

    def _move_cursor(self, conn: Connection, batch: Batch, seq: int, head: str, is_first: bool) -> None:
        m = self.manifest
        values = {
            "chain_id": m.chain_id,
            "name": m.name,
            "membership": m.membership,
            "governor": m.governor,
            "timelock": m.timelock,
            "initiatives": m.initiatives,  # "" for a commons without one; written with every batch, as the three above
            "contributions": m.contributions,
            "deployment_block": m.deployment_block,
            "block_number": batch.last.number,
            "block_hash": batch.last.hash,
            "block_timestamp": batch.last.timestamp,
            "head_block": batch.head,
            "log_seq": seq,
            "log_head_hash": head,
        }
        if batch.treasury_wei is not None:  # else the last known balance stands until a batch near the head
            values["treasury_wei"] = str(batch.treasury_wei)
        if is_first:
            conn.execute(CURSOR.insert().values(id=1, **values))
        else:
            conn.execute(CURSOR.update().where(CURSOR.c.id == 1).values(**values))

    def _remember(self, conn: Connection, batch: Batch) -> None:
        oldest = batch.last.number - self.keep_blocks  # older blocks are forgotten anyway
        conn.execute(BLOCKS.delete().where(sa.or_(BLOCKS.c.number < oldest, BLOCKS.c.number >= batch.first_block)))
        conn.execute(
            BLOCKS.insert(),
            [{"number": b.number, "hash": b.hash, "timestamp": b.timestamp} for b in batch.blocks if b.number >= oldest],
        )


def _locked_cursor(conn: Connection):
    """The cursor row (None before the first batch), locked on PostgreSQL: one writer at a time, even if two
    indexers were started."""
    query = sa.select(CURSOR).where(CURSOR.c.id == 1)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).mappings().first()


def _entries_to_append(batch: Batch, events: list, seq: int, head: str) -> list[Entry]:
    """The batch's decision-log entries, chained from the log's head (`seq`, `head`): the indexer's own when it
    chained them from this very head, else chained here."""
    fresh = batch.entries
    if (
        fresh is not None
        and len(events) == len(batch.events)
        and (not fresh or (fresh[0].seq == seq + 1 and fresh[0].prev_hash == head))
    ):
        return fresh
    return list(chain(events, seq, head))
