"""The indexer's fetching side: logs → typed happenings (a batch of events, a rollback) handed to a sink.

It knows the chain, not the database: a `Sink` (the SQL one lives in api/sink.py) applies each
happening atomically, rows and cursor together, so a process killed at any moment resumes from the
cursor with nothing lost and nothing doubled. Reorgs: before each batch the cursor's block hash is
compared with the chain's; if it differs, the sink's remembered recent blocks are walked back to the
newest one still on the chain, and everything after it is rolled back and fetched again.

A backfill fetches blocks deeper than `settled_depth` behind the head with several eth_getLogs ranges in flight
(governance/log_ranges.py), one block header per batch; the newest blocks, where reorgs happen, one range at a time
with the fork checks above. Either way batches are applied in chain order, one transaction each.
"""

import gc
import operator
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Protocol

from governance.decision_log import Entry, chain
from governance.errors import RetryableError, RpcError
from governance.events import Event, LogDecoder
from governance.log_ranges import ConcurrentLogs, RangePolicy
from governance.rpc import BlockRef, Rpc

__all__ = ["Backoff", "Batch", "Happening", "Indexer", "RangePolicy", "Rollback", "Sink", "wait_until_caught_up"]

CHAIN_ORDER = operator.attrgetter("block_number", "log_index")
# Allocations between young-generation collections during a backfill (Python's default is 700).
BACKFILL_GC_THRESHOLD = 50_000
# A backfill batch of settled blocks closes at this many events or after this many seconds of fetching (so a killed
# backfill loses little, and progress shows), whichever comes first.
BATCH_EVENTS = 5_000
BATCH_SECONDS = 2.0


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
class Backoff:
    """How long `Indexer.follow` waits before trying again: `first` seconds after a failure, doubling with each failure
    in a row up to `limit`, back to `first` after a success; longer when a rate-limited node asked for longer."""

    first: float = 1.0
    limit: float = 60.0
    delay: float = 0.0  # the wait after the latest failure; 0 while nothing fails

    def failed(self, exc: BaseException) -> float:
        """The wait after one more failure, `exc` (its `retry_after`, when a node said one, is honoured up to `limit`)."""
        self.delay = min(self.limit, self.delay * 2 or self.first)
        asked = getattr(exc, "retry_after", None)
        if isinstance(asked, int | float) and asked > self.delay:
            self.delay = min(self.limit, float(asked))
        return self.delay

    def succeeded(self) -> None:
        """Nothing failed: the next failure waits `first` again."""
        self.delay = 0.0


@dataclass
class Indexer:
    """Follows one commons' contracts from `start_block`, feeding `sink`."""

    rpc: Rpc
    addresses: dict[str, str]  # role → address (membership, governor, timelock)
    start_block: int
    sink: Sink
    confirmations: int = 0
    ranges: RangePolicy = field(default_factory=RangePolicy)
    to_block: int | None = None  # index no further than this block (None: up to the safe head)
    in_flight: int = 4  # eth_getLogs requests at once during a backfill of settled blocks
    settled_depth: int = 64  # blocks deeper than this behind the head are not expected to reorg

    def __post_init__(self) -> None:
        self.decoder = LogDecoder(self.addresses)
        self.head = 0
        self.target = 0

    def safe_head(self) -> int:
        """The newest block to index: head minus the confirmation depth, and no further than `to_block`."""
        self.head = self.rpc.block_number()
        self.target = self.head - self.confirmations
        if self.to_block is not None:
            self.target = min(self.target, self.to_block)
        return self.target

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
                last = first + self.ranges.refused(last - first + 1, exc.node_message) - 1
                continue
            break
        # Re-read both ends: if either changed while the logs were read, they may be from another fork.
        if self.rpc.block(last) != last_block or (cursor and self.rpc.block(cursor.number) != cursor):
            return None
        self.ranges.after(len(raw_logs), last - first + 1)
        return self._batch(first, last_block, raw_logs, lambda: self._treasury(last))

    def _batch(self, first: int, last_block: BlockRef, raw_logs: list[dict], treasury: Callable[[], int | None]) -> Batch | None:
        """The Batch of blocks [first, last_block] from their raw logs; None if a log says it was removed."""
        events = self._decode(raw_logs, last_block)
        if events is None:
            return None
        remembered = {last_block.number: last_block}
        for event in events:
            remembered.setdefault(event.block_number, BlockRef(event.block_number, event.block_hash, event.timestamp))
        blocks = sorted(remembered.values(), key=lambda b: b.number)
        return Batch(first, last_block, blocks, events, self.head, treasury())

    def _settled_batches(self, first: int, last: int, stop: threading.Event) -> Iterator[Batch]:
        """Batches of blocks [first, last], all deeper than `settled_depth`: their logs fetched by several ranges in
        flight, then one header for each batch's last block. Stops early (None is not yielded) if a log says removed."""
        fetcher = ConcurrentLogs(self.rpc, self.decoder.addresses, self.decoder.topics, self.ranges, self.in_flight)
        raw: list[dict] = []
        batch_first, started = first, time.monotonic()
        for piece in fetcher.fetch(first, last, stop):
            raw.extend(piece.logs)
            if len(raw) < BATCH_EVENTS and piece.last < last and time.monotonic() - started < BATCH_SECONDS:
                continue
            batch = self._settled_batch(batch_first, piece.last, raw)
            if batch is None:
                return
            yield batch
            raw, batch_first, started = [], piece.last + 1, time.monotonic()

    def _settled_batch(self, first: int, last: int, raw_logs: list[dict]) -> Batch | None:
        last_block = self.rpc.block(last)
        if last_block is None:
            return None
        # The treasury only at the end of the sync: a settled block's state is often pruned, and asking costs a request.
        return self._batch(first, last_block, raw_logs, lambda: self._treasury(last) if last == self.target else None)

    def _treasury(self, block: int) -> int | None:
        """The timelock's balance at `block`; None when the node no longer keeps that block's state (a pruning node
        keeps about 128 blocks; anvil restarted from a state file keeps none before it): the cache then keeps the
        last balance it knew. Raises only at the head, whose state every node has."""
        try:
            return self.rpc.balance(self.addresses["timelock"], block)
        except RpcError:
            if block >= self.head:
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
        return list(self.iter_events(first, last))

    def iter_events(self, first: int, last: int) -> Iterator[Event]:
        """Every governance event in blocks [first, last], one block range at a time (memory bounded by a range's
        answer); RetryableError if the chain reorganises while it is read."""
        while first <= last:
            end = min(last, first + self.ranges.blocks - 1)
            try:
                raw_logs = self.rpc.logs(first, end, self.decoder.addresses, self.decoder.topics)
            except RpcError as exc:
                if not exc.too_many_results:
                    raise
                self.ranges.refused(end - first + 1, exc.node_message)
                continue
            self.ranges.after(len(raw_logs), end - first + 1)
            decoded = self._decode(raw_logs, BlockRef(end, "", 0))
            if decoded is None:
                raise RetryableError("The chain reorganised while it was being read; run again.")
            yield from decoded
            first = end + 1

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
                    progress(batch.last.number, self.target)
            while not stop.is_set():  # what is left: a reorg found on the way, or blocks that arrived meanwhile
                happening = self.step()
                if happening is None:
                    cursor = self.sink.cursor()
                    if cursor is None or cursor.number >= self.target:
                        break
                    continue
                if isinstance(happening, Batch):
                    applied += len(happening.events)
                    if progress:
                        progress(happening.last.number, self.target)
        return applied

    def _prefetched_batches(self) -> Iterator[Batch]:
        """Batches from the cursor up to the safe head, each fetched by a helper thread while the caller writes the
        one before it, so the node's answer time overlaps the database's (the backfill's two big waits). Blocks deeper
        than `settled_depth` come from several ranges in flight (`_settled_batches`).

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
            settled = min(safe, self.head - self.settled_depth)
            try:
                if first <= settled:
                    for batch in self._settled_batches(first, settled, stop):
                        entries = list(chain(batch.events, seq, head))
                        if entries:
                            seq, head = entries[-1].seq, entries[-1].hash
                        put(replace(batch, entries=entries))
                        previous, first = batch.last, batch.last.number + 1
                    if first <= settled:  # stopped, or a log said removed: `step` takes over from the cursor
                        put(None)
                        return
                while first <= safe and not stop.is_set():
                    fetched = self._fetch(first, min(safe, first + self.ranges.blocks - 1), previous)
                    if fetched is None:
                        break
                    entries = list(chain(fetched.events, seq, head))
                    if entries:
                        seq, head = entries[-1].seq, entries[-1].hash
                    put(replace(fetched, entries=entries))
                    previous, first = fetched.last, fetched.last.number + 1
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

    def follow(
        self,
        stop: threading.Event,
        poll_seconds: float = 0.2,
        on_error: Callable[[Exception], None] | None = None,
        on_success: Callable[[], None] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        """Keep indexing until `stop` is set: each new block is applied as soon as it is safe. Returns only then.

        No error ends it. Whatever an attempt raises (the node down or refusing, the database restarting, locked or
        its connection killed, a sink's bug) goes to `on_error`; then it waits `backoff` (default: 1 s doubling to
        60 s) and starts again from the sink's cursor, the fast way (`sync`) as after a restart. Each happening is
        applied in one transaction, so a failed attempt leaves nothing half written. `on_success` is called after
        every poll or backfill batch that raised nothing; the back-off then starts again from its first wait.
        Raises only what `on_error` or `on_success` raise.
        """
        backoff = backoff or Backoff()

        def succeeded() -> None:
            backoff.succeeded()
            if on_success:
                on_success()

        caught_up = False
        while not stop.is_set():
            try:
                if caught_up:
                    more = self.step() is not None  # more may be waiting: do not sleep
                else:  # catch up the fast way first: a new cache, a restart or an outage may have left it far behind
                    self.sync(lambda _block, _target: succeeded(), stop=stop)
                    caught_up = more = True
            except Exception as exc:  # reported, never swallowed: the indexer must not stop following for good
                caught_up = False
                delay = backoff.failed(exc)
                if on_error:
                    on_error(exc)
                stop.wait(delay)
                continue
            succeeded()
            if not more:
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
