"""Contract reads at one block, many to a request: `eth_call`s sent as JSON-RPC batches.

The audit reads four views per member and up to nine per proposal; one HTTP request and one pass through web3's
layers each cost about 20 ms (measured: 8,489 reads took 176 s of a 217 s audit). Here calls are encoded once per
function (selector and types from the ABI, eth-abi for the arguments and answers) and sent `size` to a request.

Nodes differ in what they accept, so the batch size is learnt from the answers, as the indexer learns its log ranges:
a batch refused whole (HTTP 4xx, an error object instead of a list: "batch too large", "batch requests are not
supported") or answered in part (geth's response-size cap, a provider's per-item rate limit) is sent again at half the
size, down to single requests; a batch answered whole lets the size grow back. An HTTP 429 is waited for with the
client's `Pacer` and the batch sent again smaller. A single request is `Rpc.call`, so a call that fails alone fails
as it always did (a revert is an RpcError), and outages are retried as the client is configured to.
"""

import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import requests
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from governance.errors import RetryableError
from governance.redaction import redact_url
from governance.rpc import RATE_LIMIT_CODES, Rpc, _seconds

MAX_BATCH = 500  # calls per request at most; geth's default cap is 1,000, Alchemy's 1,000, some providers' 100
ATTEMPTS = 8  # outages (resets, 5xx) on one batch before giving up
THROTTLES = 3  # HTTP 429s in a row on one batch before it is sent again smaller


def _type(param: dict) -> str:
    """The canonical ABI type of a parameter (tuples spelled out)."""
    kind = param["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in param["components"]) + ")" + kind[len("tuple") :]
    return kind


def _checksummed(value: Any, kind: str) -> Any:
    """`value` as web3 gives it: addresses checksummed (eth-abi gives them in lower case)."""
    if kind == "address":
        return to_checksum_address(value)
    if kind.endswith("[]") and isinstance(value, (list, tuple)):
        return [_checksummed(v, kind[:-2]) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Read:
    """One view call: the contract, its calldata, and how to decode its answer."""

    to: str
    data: bytes
    function: "Function"

    def decoded(self, raw: bytes) -> Any:
        return self.function.decode(raw)


class Function:
    """A view function of a contract, encoded without web3: `function(*args)` is a `Read`."""

    def __init__(self, address: str, entry: dict):
        self.address = address
        self.inputs = [_type(p) for p in entry["inputs"]]
        self.outputs = [_type(p) for p in entry["outputs"]]
        self.selector = function_signature_to_4byte_selector(f"{entry['name']}({','.join(self.inputs)})")

    def __call__(self, *args: Any) -> Read:
        return Read(self.address, self.selector + encode(self.inputs, list(args)), self)

    def decode(self, raw: bytes) -> Any:
        """The answer as web3's `.call()` gives it: a single value alone, several as a list."""
        values = [_checksummed(v, t) for v, t in zip(decode(self.outputs, raw), self.outputs, strict=True)]
        return values[0] if len(values) == 1 else values


class Contract:
    """A contract's view functions by name (`contract.isMember(who)`), chosen by name and number of arguments."""

    def __init__(self, address: str, abi: list[dict]):
        self._functions: dict[tuple[str, int], Function] = {}
        for entry in abi:
            if entry.get("type") == "function":
                self._functions[(entry["name"], len(entry["inputs"]))] = Function(address, entry)

    def __getattr__(self, name: str) -> Callable[..., Read]:
        functions = self.__dict__.get("_functions", {})
        if not any(key[0] == name for key in functions):
            raise AttributeError(name)
        return lambda *args: functions[(name, len(args))](*args)


class BatchReader:
    """Reads at block `block` through `rpc`, up to `size` calls to a request, the size learnt from the node."""

    def __init__(self, rpc: Rpc, block: int, size: int = MAX_BATCH):
        self.rpc = rpc
        self.block = block
        self.size = max(1, size)
        self.ceiling = max(1, size)  # the largest size the node has not refused
        self.requests = 0  # HTTP requests sent, for reports and tests
        self.refusals = 0  # batches refused whole or in part

    def call(self, read: Read) -> Any:
        """One read, decoded."""
        return self.read([read])[0]

    def read(self, reads: Sequence[Read]) -> list[Any]:
        """The decoded answers to `reads`, in order; RpcError for a call the node refuses alone (e.g. a revert)."""
        answers: list[Any] = [None] * len(reads)
        waiting = deque(range(len(reads)))
        while waiting:
            if self.size == 1:
                index = waiting.popleft()
                answers[index] = self._single(reads[index])
                continue
            chunk = [waiting.popleft() for _ in range(min(self.size, len(waiting)))]
            got, limited = self._batch([reads[i] for i in chunk])
            missing = [i for i, raw in zip(chunk, got, strict=True) if raw is None]
            for i, raw in zip(chunk, got, strict=True):
                if raw is not None:
                    answers[i] = reads[i].decoded(raw)
            if missing:
                self.refusals += 1
                self.size = max(1, len(chunk) // 2)
                if not limited:  # refused for its size: never that large again; a rate limit may pass later
                    self.ceiling = self.size
                waiting.extendleft(reversed(missing))
            elif len(chunk) == self.size and self.size < self.ceiling:
                self.size = min(self.ceiling, self.size * 2)
        return answers

    def read_all(self, reads: Iterable[Read], chunk: int = 5_000) -> Iterable[Any]:
        """The answers to `reads` as they come, `chunk` reads held at a time."""
        pending: list[Read] = []
        for read in reads:
            pending.append(read)
            if len(pending) >= chunk:
                yield from self.read(pending)
                pending = []
        if pending:
            yield from self.read(pending)

    def _single(self, read: Read) -> Any:
        self.requests += 1
        result = self.rpc.call("eth_call", [{"to": read.to, "data": "0x" + read.data.hex()}, hex(self.block)])
        return read.decoded(bytes.fromhex(result[2:]))

    def _batch(self, reads: list[Read]) -> tuple[list[bytes | None], bool]:
        """Each read's raw answer, None for those the node did not answer (refused, rate-limited, missing), and
        whether the node said it was rate-limiting."""
        tag = hex(self.block)
        body = [
            {"jsonrpc": "2.0", "id": n, "method": "eth_call", "params": [{"to": r.to, "data": "0x" + r.data.hex()}, tag]}
            for n, r in enumerate(reads)
        ]
        answer, limited = self._post(json.dumps(body))
        if not isinstance(answer, list):  # refused whole: an error object, or no JSON-RPC at all
            return [None] * len(reads), limited
        raw: list[bytes | None] = [None] * len(reads)
        for item in answer:
            index = item.get("id") if isinstance(item, dict) else None
            if not isinstance(index, int) or not 0 <= index < len(reads):
                continue
            result = item.get("result")
            if isinstance(result, str) and result.startswith("0x"):
                raw[index] = bytes.fromhex(result[2:])
            elif "error" in item:
                error = item["error"] if isinstance(item["error"], dict) else {}
                if error.get("code") in RATE_LIMIT_CODES:
                    limited = True
        if limited:
            self.rpc.pacer.throttled(None)
        return raw, limited

    def _post(self, data: str) -> tuple[Any, bool]:
        """The parsed answer to one batch (None if the node refused it as a request: 4xx, not JSON) and whether an
        HTTP 429 was met. A 429 is waited for as the pacer says and the batch sent again, up to THROTTLES times in
        a row (then None: it is sent again smaller); RetryableError after ATTEMPTS outages (resets, 5xx)."""
        where = redact_url(self.rpc.url)
        outages = throttles = 0
        while outages < ATTEMPTS:
            self.rpc.pacer.wait()
            self.requests += 1
            try:
                response = self.rpc.session.post(
                    self.rpc.url, data=data, headers={"Content-Type": "application/json"}, timeout=self.rpc.timeout
                )
            except (requests.RequestException, OSError):
                time.sleep(min(2.0, 0.05 * 2**outages))
                outages += 1
                continue
            if response.status_code == 429:
                self.rpc.pacer.throttled(_seconds(response))
                throttles += 1
                if throttles >= THROTTLES:
                    return None, True
                continue
            if response.status_code >= 500:
                time.sleep(min(2.0, 0.05 * 2**outages))
                outages += 1
                continue
            self.rpc.pacer.answered()
            if response.status_code != 200:
                return None, False
            try:
                return orjson.loads(response.content), False
            except ValueError:
                return None, False
        raise RetryableError(f"The node at {where} did not answer a batch of calls after {ATTEMPTS} attempts.")
