"""The indexer's fetching side: logs → typed happenings (a batch of events, a rollback) handed to a sink.

It knows the chain, not the database: a `Sink` (the SQL one lives in api/sink.py) applies each
happening atomically, rows and cursor together, so a process killed at any moment resumes from the
cursor with nothing lost and nothing doubled. Reorgs: before each batch the cursor's block hash is
compared with the chain's; if it differs, the sink's remembered recent blocks are walked back to the
newest one still on the chain, and everything after it is rolled back and fetched again.
"""

import gc
import operator
import queue
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator, Protocol

from governance.decision_log import Entry, chain
from governance.errors import CommonsError, RetryableError
from governance.events import Event, LogDecoder
from governance.rpc import BlockRef, Rpc, RpcError

CHAIN_ORDER = operator.attrgetter("block_number", "log_index")
# Allocations between young-generation collections during a backfill (Python's default is 700).
BACKFILL_GC_THRESHOLD = 50_000


@dataclass(frozen=True)
class Batch:
    """Events of blocks (cursor, last]; `blocks` are the block refs worth remembering for reorg checks."""

    first_block: int
    last: BlockRef
    blocks: list[BlockRef]
    events: list[Event]
    head: int
    treasury_wei: int | None  # None: the node no longer keeps that block's state (see Indexer._treasury)
    # The events' decision-log entries, chained on from the log head the sink had when the batch was fetched
    # (a backfill builds them while the previous batch is written); the sink uses them only if that is still its head.
    entries: list[Entry] | None = None


@dataclass(frozen=True)
class Rollback:
    """Undo everything after `ancestor` (None: after the deployment, i.e. everything)."""

    ancestor: BlockRef | None
    treasury_wei: int | None = None  # the timelock's balance at the ancestor, when the node still has that state


Happening = Batch | Rollback


class Sink(Protocol):
    """Where happenings go; `apply` must be atomic (all of a happening, or none of it)."""

    def cursor(self) -> BlockRef | None:
        """The last indexed block, or None before the first batch."""
        ...

    def recent_blocks(self) -> list[BlockRef]:
        """Remembered blocks, newest first, to find the common ancestor after a reorg."""
        ...

    def log_head(self) -> tuple[int, str]:
        """(sequence number, hash) of the decision log's last entry; (0, GENESIS_HASH) when it is empty."""
        ...

    def apply(self, happening: Happening) -> None: ...


@dataclass
class RangePolicy:
    """How many blocks one eth_getLogs asks for: halves when the node refuses, doubles when answers are small."""

    blocks: int = 100  # small at first, so a dense history is fetched in batches (one overlaps the writing of another)
    minimum: int = 1
    maximum: int = 500_000
    target_logs: int = 10_000

    def shrink(self) -> None:
        if self.blocks <= self.minimum:
            raise CommonsError("The node refuses eth_getLogs even for a single block.")
        self.blocks = max(self.minimum, self.blocks // 2)

    def after(self, log_count: int) -> None:
        if log_count < self.target_logs // 4:
            self.blocks = min(self.maximum, self.blocks * 2)
        elif log_count > self.target_logs * 2:
            self.blocks = max(self.minimum, self.blocks // 2)


@dataclass
class Indexer:
    """Follows one commons' contracts from `start_block`, feeding `sink`."""

    rpc: Rpc
    addresses: dict[str, str]  # role → address (membership, governor, timelock)
    start_block: int
    sink: Sink
    confirmations: int = 0
    ranges: RangePolicy = field(default_factory=RangePolicy)

    def __post_init__(self) -> None:
        self.decoder = LogDecoder(self.addresses)
        self.head = 0

    def safe_head(self) -> int:
        """The newest block deep enough to index (head minus the confirmation depth)."""
        self.head = self.rpc.block_number()
        return self.head - self.confirmations

    def find_reorg(self, cursor: BlockRef) -> Rollback | None:
        """A Rollback to the newest remembered block still on the chain, if the cursor's block was replaced."""
        current = self.rpc.block(cursor.number)
        if current is not None and current.hash == cursor.hash:
            return None
        for remembered in self.sink.recent_blocks():
            on_chain = self.rpc.block(remembered.number)
            if on_chain is not None and on_chain.hash == remembered.hash:
                return Rollback(remembered, self._treasury(remembered.number))
        return Rollback(None)

    def step(self) -> Happening | None:
        """Fetch and apply the next happening; None when there is nothing new up to the safe head.

        Raises RetryableError when the node stops answering, RpcError when it refuses a call.
        """
        cursor = self.sink.cursor()
        if cursor is not None:
            rollback = self.find_reorg(cursor)
            if rollback is not None:
                self.sink.apply(rollback)
                return rollback
        first = cursor.number + 1 if cursor else self.start_block
        safe = self.safe_head()
        if first > safe:
            return None
        batch = self._fetch(first, min(safe, first + self.ranges.blocks - 1), cursor)
        if batch is None:  # the chain moved under us; the next step sees the reorg
            return None
        self.sink.apply(batch)
        return batch

    def _fetch(self, first: int, last: int, cursor: BlockRef | None) -> Batch | None:
        while True:
            last_block = self.rpc.block(last)
            if last_block is None:
                return None
            try:
                raw_logs = self.rpc.logs(first, last, self.decoder.addresses, self.decoder.topics)
            except RpcError as exc:
                if not exc.too_many_results:
                    raise
                self.ranges.shrink()
                last = first + self.ranges.blocks - 1
                continue
            break
        # Re-read both ends: if either changed while the logs were read, they may be from another fork.
        if self.rpc.block(last) != last_block or (cursor and self.rpc.block(cursor.number) != cursor):
            return None
        self.ranges.after(len(raw_logs))
        events = self._decode(raw_logs, last_block)
        if events is None:
            return None
        remembered = {last_block.number: last_block}
        for event in events:
            remembered.setdefault(event.block_number, BlockRef(event.block_number, event.block_hash, event.timestamp))
        treasury = self._treasury(last)
        return Batch(first, last_block, sorted(remembered.values(), key=lambda b: b.number), events, self.head, treasury)

    def _treasury(self, block: int) -> int | None:
        """The timelock's balance at `block`; None for an older block whose state the node has pruned (a non-archive
        node, or anvil restarted from a state file), which a backfill's early batches may ask for. Raises at the head."""
        try:
            return self.rpc.balance(self.addresses["timelock"], block)
        except RpcError:
            if block >= self.head - self.confirmations:
                raise
            return None

    def _decode(self, raw_logs: list[dict], last_block: BlockRef) -> list[Event] | None:
        stamps: dict[str, int] = {}
        events = []
        for log in raw_logs:
            if log.get("removed"):
                return None
            stamp = None
            if "blockTimestamp" not in log:  # older nodes: one header per block with events
                if log["blockHash"] not in stamps:
                    block = self.rpc.block(int(log["blockNumber"], 16))
                    if block is None or block.hash != log["blockHash"]:
                        return None
                    stamps[block.hash] = block.timestamp
                stamp = stamps[log["blockHash"]]
            event = self.decoder.decode(log, stamp)
            if event is not None:
                events.append(event)
        events.sort(key=CHAIN_ORDER)  # nodes answer in chain order already; sorting keeps us safe from one that does not
        return events

    def read_events(self, first: int, last: int) -> list[Event]:
        """Every governance event in blocks [first, last], without touching the sink (the audit's way in)."""
        events: list[Event] = []
        while first <= last:
            end = min(last, first + self.ranges.blocks - 1)
            try:
                raw_logs = self.rpc.logs(first, end, self.decoder.addresses, self.decoder.topics)
            except RpcError as exc:
                if not exc.too_many_results:
                    raise
                self.ranges.shrink()
                continue
            self.ranges.after(len(raw_logs))
            decoded = self._decode(raw_logs, BlockRef(end, "", 0))
            if decoded is None:
                raise RetryableError("The chain reorganised while it was being read; run again.")
            events.extend(decoded)
            first = end + 1
        return events

    def sync(self, progress: Callable[[int, int], None] | None = None, stop: threading.Event | None = None) -> int:
        """Index up to the safe head as it is now, or until `stop` is set; returns the number of events applied.

        `progress(indexed_block, target_block)` is called after each batch.
        """
        stop = stop or threading.Event()
        applied = 0
        with fewer_collections():
            for batch in self._prefetched_batches():
                if stop.is_set():
                    break
                self.sink.apply(batch)
                applied += len(batch.events)
                if progress:
                    progress(batch.last.number, self.head - self.confirmations)
            while not stop.is_set():  # what is left: a reorg found on the way, or blocks that arrived meanwhile
                happening = self.step()
                if happening is None:
                    cursor = self.sink.cursor()
                    if cursor is None or cursor.number >= self.head - self.confirmations:
                        break
                    continue
                if isinstance(happening, Batch):
                    applied += len(happening.events)
                    if progress:
                        progress(happening.last.number, self.head - self.confirmations)
        return applied

    def _prefetched_batches(self) -> Iterator[Batch]:
        """Batches from the cursor up to the safe head, each fetched by a helper thread while the caller writes the
        one before it, so the node's answer time overlaps the database's (the backfill's two big waits).

        Each batch is still checked against the chain as `step` checks it (its first block must follow the previous
        batch's last block, unchanged); at the first doubt the helper stops and `step` takes over from the cursor.
        Raises what fetching raised, after the batches fetched before it.
        """
        cursor = self.sink.cursor()
        if cursor is not None and self.find_reorg(cursor) is not None:
            return  # `step` rolls back first
        safe = self.safe_head()
        ready: queue.Queue = queue.Queue(maxsize=2)
        stop = threading.Event()

        def put(item: object) -> None:
            while not stop.is_set():
                try:
                    ready.put(item, timeout=0.1)
                    return
                except queue.Full:
                    continue

        def fetch_ahead() -> None:
            previous = cursor
            first = cursor.number + 1 if cursor else self.start_block
            seq, head = self.sink.log_head()
            try:
                while first <= safe and not stop.is_set():
                    batch = self._fetch(first, min(safe, first + self.ranges.blocks - 1), previous)
                    if batch is None:
                        break
                    entries = list(chain(batch.events, seq, head))
                    if entries:
                        seq, head = entries[-1].seq, entries[-1].hash
                    put(replace(batch, entries=entries))
                    previous, first = batch.last, batch.last.number + 1
            except Exception as exc:  # handed to the caller's thread, which raises it
                put(exc)
            put(None)

        helper = threading.Thread(target=fetch_ahead, name="commons-indexer-fetch", daemon=True)
        helper.start()
        try:
            while (item := ready.get()) is not None:
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            stop.set()
            helper.join()

    def follow(self, stop: threading.Event, poll_seconds: float = 0.2,
               on_error: Callable[[Exception], None] | None = None) -> None:
        """Keep indexing until `stop` is set: each new block is applied as soon as it is safe.

        Node outages are reported to `on_error` and retried; other errors propagate.
        """
        caught_up = False
        while not stop.is_set():
            try:
                if not caught_up:  # first catch up the fast way: a new cache or a restart may be far behind
                    self.sync(stop=stop)
                    caught_up = True
                    continue
                if self.step() is not None:
                    continue  # more may be waiting: do not sleep
            except RetryableError as exc:
                if on_error:
                    on_error(exc)
                stop.wait(min(5.0, poll_seconds * 10))
                continue
            stop.wait(poll_seconds)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while a backfill makes hundreds of thousands of short-lived,
    acyclic objects: at Python's default threshold its collections took a quarter of the backfill's time."""
    before = gc.get_threshold()
    gc.set_threshold(BACKFILL_GC_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def wait_until_caught_up(indexer: Indexer, timeout: float = 30.0) -> None:
    """Block until the sink's cursor reaches the chain's safe head (for tests and benchmarks)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cursor = indexer.sink.cursor()
        if cursor is not None and cursor.number >= indexer.rpc.block_number() - indexer.confirmations:
            return
        time.sleep(0.02)
    raise RetryableError(f"The indexer did not catch up within {timeout:.0f} s.")
