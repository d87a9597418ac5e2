"""A lean JSON-RPC client for reading: raw dicts in and out, no web3 formatter layers (the indexer's hot path).

Safe to share between threads (one HTTP session per thread). Hosted providers rate-limit: a `Pacer` shared by the
client's threads spaces requests to the rate the node's HTTP 429 answers teach, and waits as long as a Retry-After says.
With `retries`, node outages (connection resets, 5xx, 429) are retried with backoff before RetryableError is raised.
"""

import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson
import requests

from governance.errors import NodeRateLimited, RetryableError, RpcError
from governance.redaction import redact_url

# JSON-RPC errors some providers send with HTTP 200 when a key is over its rate.
RATE_LIMIT_CODES = {429, -32005}
RATE_LIMIT_WORDS = ("rate limit", "too many requests", "exceeded its compute units", "request rate")


@dataclass(frozen=True, slots=True)
class BlockRef:
    """A block as the indexer remembers it: height, hash, timestamp."""

    number: int
    hash: str
    timestamp: int


class Pacer:
    """Spaces requests to a node so that they stay under its rate limit, learnt from its 429 answers.

    Until the first 429 requests go out as fast as they are asked for. A 429 sets the pace to a little below the rate
    of answers the node gave over the last second, and pauses every caller for the Retry-After it names; each answer
    since then raises the pace slightly, probing for more.
    """

    CUT = 0.95  # the pace after a 429, as a fraction of the answered rate
    PROBE = 1.005  # the pace's growth per answer
    WINDOW = 1.0  # seconds of answers the rate is measured over
    FEWEST = 5  # answers in that window needed to measure a rate

    def __init__(self, rate: float | None = None):
        """`rate`: requests per second to start from (None: unpaced until the node says otherwise)."""
        self.rate = rate
        self._lock = threading.Lock()
        self._next = 0.0
        self._paused_until = 0.0
        self._last_cut = 0.0
        self._started = time.monotonic()
        self._answers: deque[float] = deque()

    def wait(self) -> None:
        """Block until the next request may go."""
        with self._lock:
            now = time.monotonic()
            at = max(now, self._paused_until)
            if self.rate:
                at = max(at, self._next)
                self._next = at + 1.0 / self.rate
        if at > now:
            time.sleep(at - now)

    def answered(self) -> None:
        """The node answered (anything but a 429)."""
        with self._lock:
            now = time.monotonic()
            self._answers.append(now)
            while self._answers and self._answers[0] < now - self.WINDOW:
                self._answers.popleft()
            if self.rate:
                self.rate *= self.PROBE

    def throttled(self, retry_after: float | None) -> None:
        """The node answered 429; `retry_after` seconds if it said how long to wait."""
        with self._lock:
            now = time.monotonic()
            if retry_after:
                self._paused_until = max(self._paused_until, now + retry_after)
            if now - self._last_cut < self.WINDOW / 2:
                return  # one cut per burst of 429s: several requests in flight learn the same thing
            span = min(self.WINDOW, max(now - self._started, 0.05))
            recent = sum(1 for t in self._answers if t >= now - span)
            if recent < self.FEWEST:  # too few answers to tell a rate from: just back off a little
                self._paused_until = max(self._paused_until, now + 0.1)
                return
            self._last_cut = now
            answered = recent / span
            self.rate = max(1.0, min(self.rate or answered, answered) * self.CUT)
            self._next = max(self._next, now + 1.0 / self.rate)


# The largest eth_getLogs answer over several blocks read to the end (about 18,000 logs): a node with no answer cap
# (anvil, a node of one's own) gave a range that reached from sparse blocks into 5,000-vote ones 300,000 logs at
# once, and the backfill held 1.4 GB. Past this the range is refused as a capped provider would, and split.
MAX_LOGS_ANSWER_BYTES = 16 * 2**20


class Rpc:
    """Calls to one node over HTTP(S)."""

    def __init__(
        self,
        url: str,
        timeout: float = 30.0,
        retries: int = 0,
        pacer: Pacer | None = None,
        max_logs_bytes: int = MAX_LOGS_ANSWER_BYTES,
    ):
        """`retries`: how often a call the node did not answer (reset, 5xx, 429) is repeated before RetryableError.
        `max_logs_bytes`: the largest eth_getLogs answer over more than one block that is read (see above)."""
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.pacer = pacer or Pacer()
        self.max_logs_bytes = max_logs_bytes
        self._local = threading.local()
        self._ids = itertools.count(1)

    @property
    def session(self) -> requests.Session:
        """This thread's HTTP session (requests' sessions are not meant to be shared between threads)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def call(self, method: str, params: list, max_bytes: int | None = None) -> Any:
        """The `result` of `method`; RpcError for a JSON-RPC error or an answer longer than `max_bytes`, RetryableError
        if the node does not answer (NodeRateLimited for a 429), after `retries` more attempts."""
        attempt = 0
        while True:
            self.pacer.wait()
            try:
                result = self._call_once(method, params, max_bytes)
            except NodeRateLimited as exc:
                self.pacer.throttled(exc.retry_after)
                # A rate limit is the node asking for patience, not an outage: it gets a larger allowance.
                if attempt >= self.retries * 10:
                    raise
            except RetryableError:
                if attempt >= self.retries:
                    raise
                time.sleep(min(2.0, 0.05 * 2**attempt))
            else:
                self.pacer.answered()
                return result
            attempt += 1

    def _call_once(self, method: str, params: list, max_bytes: int | None) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        where = redact_url(self.url)
        try:
            with self.session.post(
                self.url,
                data=json.dumps(body),
                headers={"Content-Type": "application/json"},
                timeout=self.timeout,
                stream=max_bytes is not None,
            ) as response:
                if response.status_code == 429:
                    raise NodeRateLimited(
                        f"The node at {where} answered HTTP 429 (rate limited); try again later.", _seconds(response)
                    )
                if response.status_code >= 500:
                    raise RetryableError(f"The node at {where} answered HTTP {response.status_code}; try again later.")
                content = response.content if max_bytes is None else _read_at_most(response, method, max_bytes)
        except (requests.RequestException, OSError) as exc:
            raise RetryableError(f"No chain node answers at {where}: {exc.__class__.__name__}.") from exc
        try:
            answer = orjson.loads(content)  # a backfill's eth_getLogs answers are megabytes of JSON
        except ValueError as exc:
            raise RetryableError(f"The node at {where} answered something that is not JSON-RPC.") from exc
        if "error" in answer:
            error = answer["error"] if isinstance(answer["error"], dict) else {"message": str(answer["error"])}
            message = str(error.get("message", error))
            if error.get("code") in RATE_LIMIT_CODES and any(w in message.lower() for w in RATE_LIMIT_WORDS):
                raise NodeRateLimited(f"The node at {where} is rate-limiting: {message}", _seconds(response))
            raise RpcError(method, int(error.get("code", 0)), message)
        return answer.get("result")

    def chain_id(self) -> int:
        return int(self.call("eth_chainId", []), 16)

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber", []), 16)

    def block(self, number: int | str) -> BlockRef | None:
        """The block at height `number` ("latest" allowed), or None if the chain is not that long."""
        tag = hex(number) if isinstance(number, int) else number
        raw = self.call("eth_getBlockByNumber", [tag, False])
        if raw is None:
            return None
        return BlockRef(int(raw["number"], 16), raw["hash"], int(raw["timestamp"], 16))

    def logs(self, from_block: int, to_block: int, addresses: list[str], topics: list[str]) -> list[dict]:
        """Raw logs of `addresses` with any of `topics` as topic0, in [from_block, to_block]. A range of several
        blocks whose answer runs past `max_logs_bytes` is refused (RpcError, too_many_results); one block never is."""
        query = {"fromBlock": hex(from_block), "toBlock": hex(to_block), "address": addresses, "topics": [topics]}
        return self.call("eth_getLogs", [query], self.max_logs_bytes if to_block > from_block else None)

    def balance(self, address: str, block: int) -> int:
        return int(self.call("eth_getBalance", [address, hex(block)]), 16)

    def eth_call(self, to: str, data: bytes, block: int | str = "latest") -> bytes:
        """Raw output of a read-only call."""
        tag = hex(block) if isinstance(block, int) else block
        return bytes.fromhex(self.call("eth_call", [{"to": to, "data": "0x" + data.hex()}, tag])[2:])


def _read_at_most(response: requests.Response, method: str, max_bytes: int) -> bytes:
    """The answer's body, or RpcError (worded as a capped provider's refusal) once it runs past `max_bytes`."""
    chunks, size = [], 0
    for chunk in response.iter_content(1 << 20):
        size += len(chunk)
        if size > max_bytes:
            raise RpcError(method, -32005, f"response size exceeds the {max_bytes:,} bytes this client reads at once")
        chunks.append(chunk)
    return b"".join(chunks)


def _seconds(response: requests.Response) -> float | None:
    """The Retry-After header in seconds (None when absent or an HTTP date)."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
