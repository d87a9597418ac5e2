"""A lean JSON-RPC client for reading: raw dicts in and out, no web3 formatter layers (the indexer's hot path)."""

import json
import re
from dataclasses import dataclass
from typing import Any

import orjson
import requests

from governance.errors import CommonsError, RetryableError

# Nodes word "your range is too big" in many ways; these cover geth, erigon, anvil, Alchemy, Infura, QuickNode.
TOO_MANY_RESULTS = re.compile(r"too many|more than \d+ (results|logs)|range|limit|exceed|too large|response size", re.I)


class RpcError(CommonsError):
    """The node answered a call with a JSON-RPC error (not retryable as it stands)."""

    def __init__(self, method: str, code: int, message: str):
        super().__init__(f"The node refused {method}: {message} (code {code}).")
        self.code = code
        self.node_message = message

    @property
    def too_many_results(self) -> bool:
        """Whether the node asks for a smaller block range."""
        return bool(TOO_MANY_RESULTS.search(self.node_message))


@dataclass(frozen=True, slots=True)
class BlockRef:
    """A block as the indexer remembers it: height, hash, timestamp."""

    number: int
    hash: str
    timestamp: int


class Rpc:
    """Calls to one node over HTTP(S)."""

    def __init__(self, url: str, timeout: float = 30.0):
        self.url = url
        self.timeout = timeout
        self.session = requests.Session()
        self._id = 0

    def call(self, method: str, params: list) -> Any:
        """The `result` of `method`; RpcError for a JSON-RPC error, RetryableError if the node does not answer."""
        self._id += 1
        body = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}
        try:
            response = self.session.post(self.url, data=json.dumps(body), headers={"Content-Type": "application/json"},
                                         timeout=self.timeout)
        except (requests.RequestException, OSError) as exc:
            raise RetryableError(f"No chain node answers at {self.url}: {exc.__class__.__name__}.") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableError(f"The node at {self.url} answered HTTP {response.status_code}; try again later.")
        try:
            answer = orjson.loads(response.content)  # a backfill's eth_getLogs answers are megabytes of JSON
        except ValueError as exc:
            raise RetryableError(f"The node at {self.url} answered something that is not JSON-RPC.") from exc
        if "error" in answer:
            error = answer["error"]
            raise RpcError(method, error.get("code", 0), error.get("message", str(error)))
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
        """Raw logs of `addresses` with any of `topics` as topic0, in [from_block, to_block]."""
        return self.call("eth_getLogs", [{"fromBlock": hex(from_block), "toBlock": hex(to_block),
                                          "address": addresses, "topics": [topics]}])

    def balance(self, address: str, block: int) -> int:
        return int(self.call("eth_getBalance", [address, hex(block)]), 16)

    def eth_call(self, to: str, data: bytes, block: int | str = "latest") -> bytes:
        """Raw output of a read-only call."""
        tag = hex(block) if isinstance(block, int) else block
        return bytes.fromhex(self.call("eth_call", [{"to": to, "data": "0x" + data.hex()}, tag])[2:])
