"""eth_getLogs over long block spans: ranges sized to what the node allows, several in flight, answers in chain order.

Hosted providers refuse a range that is too wide (a block cap) or whose answer would be too long (a log cap), each in
its own words; the refusal often names the limit ("exceeds limit of 2000", "up to a 2K block range", "this block range
should work: [0x…, 0x…]"). A block cap is remembered for the rest of the run; a log cap shrinks only the range it hit.
"""

import math
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from governance.errors import CommonsError, RpcError
from governance.rpc import Rpc

# A range the node suggests: "[0x1a, 0x7e9]".
SUGGESTED_RANGE = re.compile(r"\[\s*(0x[0-9a-f]+)\s*,\s*(0x[0-9a-f]+)\s*\]", re.I)
# A block cap the node names: "limit of 2000", "up to a 2K block range", "limited to a 10,000 range", "distance: 2000".
NAMED_CAP = re.compile(
    r"(?:limit of|up to a|limited to a|distance:|max(?:imum)? block range(?: is| =|:)?|range limit)\s*(\d[\d,]*)\s*(k\b)?", re.I
)
# Refusals about the answer's size, not the range's width.
LOG_CAP = re.compile(r"more than \d+ (results|logs)|response size|too many (results|logs)", re.I)


def named_span(message: str) -> int | None:
    """The number of blocks a refusal says would be accepted, if it says."""
    suggested = SUGGESTED_RANGE.search(message)
    if suggested:
        return max(1, int(suggested.group(2), 16) - int(suggested.group(1), 16) + 1)
    named = NAMED_CAP.search(message)
    if named:
        return int(named.group(1).replace(",", "")) * (1000 if named.group(2) else 1)
    return None


@dataclass
class RangePolicy:
    """How many blocks one eth_getLogs asks for: learns the node's block cap from its refusals, halves on a log cap,
    doubles while answers are small."""

    # One block at first, doubling while answers are small: a first range of 100 blocks on a history of 5,000 votes a
    # block was answered with up to 500,000 logs at once (the million-vote backfill peaked at 1.7 GB). A sparse
    # history pays about a dozen small requests before its ranges reach a node's usual cap.
    blocks: int = 1
    minimum: int = 1
    maximum: int = 500_000
    target_logs: int = 10_000
    ceiling: int | None = None  # the node's block cap, once learnt
    largest_answered: int = 0  # the widest range the node has answered

    def shrink(self) -> None:
        """Halve the range; CommonsError when it is already the smallest."""
        if self.blocks <= self.minimum:
            raise CommonsError("The node refuses eth_getLogs even for a single block.")
        self.blocks = max(self.minimum, self.blocks // 2)

    def refused(self, span: int, message: str) -> int:
        """The node refused a range of `span` blocks with `message`: returns the span to retry it with.

        Raises CommonsError when even the smallest range is refused."""
        if span <= self.minimum:
            raise CommonsError(f"The node refuses eth_getLogs even for {span} block(s): {message}")
        named = named_span(message)
        if LOG_CAP.search(message):  # this range is dense; the next may not be
            retry = min(named or span // 2, span // 2 if named is None or named >= span else named)
            self.blocks = max(self.minimum, min(self.blocks, retry))
            return max(self.minimum, retry)
        if named is not None and named < span:
            cap = named
        elif self.largest_answered < span:  # no number given: search between what worked and what did not
            cap = max(self.minimum, (self.largest_answered + span) // 2 if self.largest_answered else span // 2)
        else:
            cap = span // 2
        cap = max(self.minimum, min(cap, span - 1))
        self.ceiling = min(self.ceiling or cap, cap)
        self.blocks = min(self.blocks, self.ceiling)
        return self.ceiling

    def after(self, log_count: int, span: int | None = None) -> None:
        """An answer of `log_count` logs for a range of `span` blocks: grow while answers are small.

        Given `span`, the next size follows that range, not the current size: with several ranges in flight, answers
        to ranges asked for before a change would otherwise change it again (four small answers doubled it four
        times, and the next range, dense, held 112,500 logs)."""
        if span is not None:
            self.largest_answered = max(self.largest_answered, span)
            if log_count < self.target_logs // 4:
                self.blocks = min(self.maximum, self.ceiling or self.maximum, max(self.blocks, span * 2))
            elif log_count > self.target_logs * 2:  # as many blocks as would have held the target, not half as many
                self.blocks = max(self.minimum, min(self.blocks, span * self.target_logs // log_count))
            return
        if log_count < self.target_logs // 4:
            self.blocks = min(self.maximum, self.ceiling or self.maximum, self.blocks * 2)
        elif log_count > self.target_logs * 2:
            self.blocks = max(self.minimum, self.blocks // 2)


@dataclass(frozen=True)
class LogRange:
    """The raw logs of blocks [first, last]."""

    first: int
    last: int
    logs: list[dict]


class ConcurrentLogs:
    """Fetches the logs of a block span in ranges, up to `in_flight` requests at once, and yields them in chain order.

    Fewer ranges are kept in flight once the node rate-limits (enough to keep up with the pace it allows, see
    governance.rpc.Pacer); a refused range is split and fetched again; at most a few ranges wait to be yielded.
    """

    def __init__(self, rpc: Rpc, addresses: list[str], topics: list[str], policy: RangePolicy, in_flight: int = 4):
        self.rpc = rpc
        self.addresses = addresses
        self.topics = topics
        self.policy = policy
        self.in_flight = max(1, in_flight)
        self._latency = 0.1  # seconds per eth_getLogs, smoothed
        self._density: float | None = None  # logs per block in the last answer (None: none yet)
        self._lock = threading.Lock()

    def allowed_in_flight(self) -> int:
        """In-flight requests worth having: all of them unpaced, else enough to fill the pace the node allows."""
        rate = self.rpc.pacer.rate
        if not rate:
            return self.in_flight
        return max(1, min(self.in_flight, math.ceil(rate * self._latency * 1.5) + 1))

    def fetch(self, first: int, last: int, stop: threading.Event | None = None) -> Iterator[LogRange]:
        """LogRanges covering [first, last] exactly, in order. Raises what the node raised (RpcError other than a
        range refusal, RetryableError once the Rpc's retries are spent), after the ranges before it."""
        todo: list[tuple[int, int]] = []  # refused ranges to fetch again, in smaller pieces, before going further
        ready: dict[int, LogRange] = {}
        pending: dict[Future, tuple[int, int]] = {}
        next_first, emit = first, first
        with ThreadPoolExecutor(self.in_flight, thread_name_prefix="commons-logs") as pool:
            try:
                while emit <= last:
                    if stop is not None and stop.is_set():
                        return
                    while len(pending) < self.allowed_in_flight() and self._room(ready, pending):
                        if todo:
                            start, end = todo.pop(0)
                            piece_end = min(end, start + self.policy.blocks - 1)
                            if piece_end < end:
                                todo.insert(0, (piece_end + 1, end))
                        elif next_first <= last:
                            start, piece_end = next_first, min(last, next_first + self.policy.blocks - 1)
                            next_first = piece_end + 1
                        else:
                            break
                        pending[pool.submit(self._get, start, piece_end)] = (start, piece_end)
                    done, _ = wait(list(pending), timeout=1.0, return_when=FIRST_COMPLETED)
                    for future in done:
                        start, end = pending.pop(future)
                        try:
                            logs = future.result()
                        except RpcError as exc:
                            if not exc.too_many_results:
                                raise
                            self.policy.refused(end - start + 1, exc.node_message)
                            todo.append((start, end))
                            todo.sort()
                            continue
                        self.policy.after(len(logs), end - start + 1)
                        self._density = len(logs) / (end - start + 1)
                        ready[start] = LogRange(start, end, logs)
                    while emit in ready:
                        piece = ready.pop(emit)
                        emit = piece.last + 1
                        yield piece
            finally:
                for future in pending:
                    future.cancel()

    def _room(self, ready: dict[int, LogRange], pending: dict[Future, tuple[int, int]]) -> bool:
        """Whether another range may be asked for: a few ranges wait to be yielded, and the logs waiting or on their
        way (as dense as the last answer) stay under twice `target_logs`. Dense ranges fetched four at a time and
        held by the dozen took a backfill of 370,000 events to 1 GB; sparse ranges still go `in_flight` at once. With
        nothing on its way, the next range is always asked for."""
        if not pending:
            return True
        if self._density is None:  # how dense the chain is here is unknown until the first answer
            return False
        waiting = sum(len(r.logs) for r in ready.values())
        coming = self._density * sum(last - first + 1 for first, last in pending.values())
        return len(ready) < 4 * self.in_flight and waiting + coming < 2 * self.policy.target_logs

    def _get(self, first: int, last: int) -> list[dict]:
        started = time.monotonic()
        logs = self.rpc.logs(first, last, self.addresses, self.topics)
        with self._lock:
            self._latency = 0.8 * self._latency + 0.2 * (time.monotonic() - started)
        return logs
