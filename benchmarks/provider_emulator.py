"""A hosted-provider emulator: a JSON-RPC proxy in front of anvil that behaves like Alchemy, Infura, QuickNode or Ankr.

It adds latency, caps `eth_getLogs` block ranges and result counts with each provider's own refusal, rate-limits with
HTTP 429 (with or without Retry-After), resets or fails some connections, and refuses state (balances, calls) older
than a number of blocks, as a pruning full node does. Tests and benchmarks put it between the indexer and anvil:

    with ProviderEmulator(anvil_url, Faults(block_range=2000, latency=0.1, rate=25)) as emulator:
        Rpc(emulator.url) ...

Test faults come by a counted pattern (every n-th request), never by chance, so a test run is repeatable; the wall-clock
token bucket (`rate`) is for benchmarks. `sparse` makes anvil's short chain look long and sparse: real block r is shown as
block r * sparse and the blocks in between are empty (anvil 1.7's `anvil_mine` slows down with every block it adds:
10,000 blocks took 2 minutes and the next 10,000 took 4, so ten million empty blocks cannot be mined).
"""

import json
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from eth_utils import keccak

# Refusals as the providers word them (collected from public bug reports): code, message template.
RANGE_REFUSALS = {
    "alchemy": (
        -32600,
        "You can make eth_getLogs requests with up to a {cap} block range. "
        "Based on your parameters, this block range should work: [{first:#x}, {suggested:#x}]",
    ),
    "infura": (-32602, "range {span} exceeds limit of {cap}"),
    "quicknode": (-32614, "eth_getLogs is limited to a {cap:,} range"),
    "ankr": (-32600, "maximum [from, to] blocks distance: {cap}"),
}
RESULT_REFUSALS = {
    "alchemy": (
        -32602,
        "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on the "
        "response size, or you can request any block range with a cap of 10K logs in the response. Based on your "
        "parameters and the response size limit, this block range should work: [{first:#x}, {suggested:#x}]",
    ),
    "infura": (-32005, "query returned more than {limit} results. Try with this block range [{first:#x}, {suggested:#x}]."),
    "quicknode": (-32005, "query returned more than {limit} results"),
    "ankr": (-32005, "query returned more than {limit} results"),
}
# Most providers run geth (or a fork): state older than 128 blocks is gone.
PRUNED_STATE = (-32000, "missing trie node {root} (path ) state {root} is not available, not found")
# JSON-RPC methods reading state at a block, and where the block parameter is.
STATE_METHODS = {"eth_getBalance": 1, "eth_call": 1, "eth_getCode": 1, "eth_getTransactionCount": 1, "eth_getStorageAt": 2}


@dataclass
class Faults:
    """What the emulated provider does besides answering. Zero or None turns a behaviour off."""

    provider: str = "infura"  # whose refusal messages: alchemy, infura, quicknode, ankr
    latency: float = 0.0  # seconds added to every answer
    block_range: int | None = None  # eth_getLogs refused over this many blocks
    max_logs: int | None = None  # eth_getLogs refused when the answer would hold more logs
    rate: float | None = None  # requests per second (token bucket, one second of burst); past it, HTTP 429
    retry_after: int | None = None  # seconds, sent as Retry-After with every 429 (None: no header)
    throttle_every: int = 0  # every n-th request answered 429 (counted); alternately with and without Retry-After: 1
    fail_every: int = 0  # every n-th request answered HTTP 503 (or 502, alternately)
    reset_every: int = 0  # every n-th request's connection reset without an answer
    state_depth: int | None = None  # state (balances, calls) refused older than this many blocks behind the head
    sparse: int = 1  # show real block r as block r * sparse, the blocks between empty


@dataclass
class Tally:
    """What the emulator saw and did, for tests and benchmark reports."""

    requests: int = 0
    by_method: Counter = field(default_factory=Counter)
    refused_ranges: int = 0
    refused_results: int = 0
    refused_state: int = 0
    throttled: int = 0
    failed: int = 0
    reset: int = 0


class _TokenBucket:
    def __init__(self, rate: float):
        self.rate, self.tokens, self.at = rate, rate, time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


class ProviderEmulator:
    """A local HTTP JSON-RPC endpoint (`url`) in front of the node at `upstream`, misbehaving as `faults` says."""

    def __init__(self, upstream: str, faults: Faults | None = None, port: int = 0):
        self.upstream = upstream
        self.faults = faults or Faults()
        self.tally = Tally()
        self._lock = threading.Lock()
        self._bucket = _TokenBucket(self.faults.rate) if self.faults.rate else None
        self._local = threading.local()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> str:
        """Serve in a background thread; returns the URL."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="provider-emulator", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "ProviderEmulator":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # What to do with one HTTP request: a fault, or an answer.

    def verdict(self) -> tuple[str, int]:
        """('reset' | 'fail' | 'throttle' | 'answer', request number) for the next request."""
        f = self.faults
        with self._lock:
            self.tally.requests += 1
            n = self.tally.requests
            if f.reset_every and n % f.reset_every == 0:
                self.tally.reset += 1
                return "reset", n
            if f.fail_every and n % f.fail_every == 0:
                self.tally.failed += 1
                return "fail", n
            if f.throttle_every and n % f.throttle_every == 0:
                self.tally.throttled += 1
                return "throttle", n
        if self._bucket is not None and not self._bucket.take():
            with self._lock:
                self.tally.throttled += 1
            return "throttle", n
        return "answer", n

    def answer(self, request: dict) -> dict:
        """The JSON-RPC answer to one request, after the provider's limits."""
        method = request.get("method", "")
        params = list(request.get("params") or [])
        with self._lock:
            self.tally.by_method[method] += 1
        try:
            result = self._answer(method, params)
        except _Refusal as refusal:
            return {"jsonrpc": "2.0", "id": request.get("id"), "error": {"code": refusal.code, "message": refusal.message}}
        if isinstance(result, dict) and "error" in result:
            return {"jsonrpc": "2.0", "id": request.get("id"), "error": result["error"]}
        return {"jsonrpc": "2.0", "id": request.get("id"), "result": result}

    def _upstream(self, method: str, params: list) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        answer = session.post(self.upstream, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=120)
        body = answer.json()
        if "error" in body:
            raise _Refusal(body["error"].get("code", -32000), body["error"].get("message", ""))
        return body.get("result")

    def _answer(self, method: str, params: list) -> Any:
        s = self.faults.sparse
        if method == "eth_blockNumber":
            return hex(int(self._upstream(method, params), 16) * s)
        if method == "eth_getLogs":
            return self._logs(params[0])
        if method == "eth_getBlockByNumber":
            return self._block(params[0], bool(params[1]) if len(params) > 1 else False)
        if method in STATE_METHODS:
            at = STATE_METHODS[method]
            if len(params) > at:
                params[at] = self._state_block(params[at])
        return self._upstream(method, params)

    def _head(self) -> int:
        return int(self._upstream("eth_blockNumber", []), 16) * self.faults.sparse

    def _number(self, tag: Any, head: int) -> int:
        if tag is None or tag in ("latest", "safe", "finalized", "pending"):
            return head
        if tag == "earliest":
            return 0
        return int(tag, 16) if isinstance(tag, str) else int(tag)

    def _state_block(self, tag: Any) -> Any:
        if isinstance(tag, dict):  # EIP-1898 {blockNumber} / {blockHash}: passed through
            return tag
        head = self._head()
        number = self._number(tag, head)
        depth = self.faults.state_depth
        if depth is not None and number < head - depth:
            with self._lock:
                self.tally.refused_state += 1
            root = "0x" + keccak(max(0, number).to_bytes(32, "big")).hex()
            raise _Refusal(PRUNED_STATE[0], PRUNED_STATE[1].format(root=root))
        return (
            tag
            if self.faults.sparse == 1 or not isinstance(tag, str) or not tag.startswith("0x")
            else hex(number // self.faults.sparse)
        )

    def _logs(self, query: dict) -> list:
        f, s = self.faults, self.faults.sparse
        head = self._head()
        first = self._number(query.get("fromBlock", "latest"), head)
        last = self._number(query.get("toBlock", "latest"), head)
        span = last - first + 1
        if f.block_range and span > f.block_range:
            with self._lock:
                self.tally.refused_ranges += 1
            code, text = RANGE_REFUSALS[f.provider]
            raise _Refusal(code, text.format(cap=f.block_range, span=span, first=first, suggested=first + f.block_range - 1))
        real_first, real_last = -(-first // s), last // s
        if real_first > real_last:
            return []
        logs = self._upstream("eth_getLogs", [{**query, "fromBlock": hex(real_first), "toBlock": hex(real_last)}])
        if f.max_logs is not None and len(logs) > f.max_logs:
            with self._lock:
                self.tally.refused_results += 1
            suggested = int(logs[f.max_logs - 1]["blockNumber"], 16) * s - 1
            code, text = RESULT_REFUSALS[f.provider]
            raise _Refusal(code, text.format(limit=f.max_logs, first=first, suggested=max(first, suggested)))
        if s > 1:
            for log in logs:
                log["blockNumber"] = hex(int(log["blockNumber"], 16) * s)
        return logs

    def _block(self, tag: Any, full: bool) -> dict | None:
        s = self.faults.sparse
        if s == 1:
            return self._upstream("eth_getBlockByNumber", [tag, full])
        number = self._number(tag, self._head())
        real = self._upstream("eth_getBlockByNumber", [hex(number // s), full])
        if real is None:
            return None
        if number % s:  # an empty block between two real ones
            real = {**real, "hash": "0x" + keccak(b"sparse" + number.to_bytes(32, "big")).hex(), "transactions": []}
        return {**real, "number": hex(number)}


class _Refusal(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _handler(emulator: ProviderEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the providers do

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            what, n = emulator.verdict()
            if emulator.faults.latency:
                time.sleep(emulator.faults.latency)
            if what == "reset":
                # RST instead of FIN: the client sees "connection reset by peer", as from an overloaded load balancer.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            if what == "fail":
                self._send(503 if n % 2 else 502, b"upstream connect error or disconnect/reset before headers")
                return
            if what == "throttle":
                retry_after = emulator.faults.retry_after
                if retry_after is None and emulator.faults.throttle_every and (n // emulator.faults.throttle_every) % 2:
                    retry_after = 1
                headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                message = b'{"jsonrpc":"2.0","id":null,"error":{"code":429,"message":"Too Many Requests"}}'
                self._send(429, message, headers)
                return
            try:
                request = json.loads(body)
            except ValueError:
                self._send(400, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}')
                return
            if isinstance(request, list):
                answer: Any = [emulator.answer(r) for r in request]
            else:
                answer = emulator.answer(request)
            self._send(200, json.dumps(answer).encode())

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler
