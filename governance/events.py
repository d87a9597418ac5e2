"""Raw JSON-RPC logs → typed governance events, decoded with eth-abi directly (no web3 contract objects).

web3's `process_log` builds an AttributeDict per log through several formatter layers (about 4,000
events/s); here each event's decoder is prepared once per topic and a log costs one `eth_abi.decode`
of its data plus a few slices of its topics.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from eth_abi import decode
from eth_utils import event_abi_to_log_topic, to_checksum_address

from governance.compiler import load_artifacts
from governance.vocabulary import CONTRACT_OF_ROLE, GOVERNANCE_EVENTS, OPTIONAL_CONTRACT_OF_ROLE


@dataclass(slots=True)
class Event:
    """One decoded log: where it is on the chain and what it says (`args` in Python types, addresses checksummed)."""

    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    timestamp: int
    contract: str  # membership | governor | timelock
    name: str
    args: dict[str, Any]

    @property
    def key(self) -> tuple[str, str, int]:
        """The log's identity: it is the same log only if block hash, transaction hash and index agree."""
        return (self.block_hash, self.tx_hash, self.log_index)


@lru_cache(maxsize=65_536)
def checksummed(address: str) -> str:
    """EIP-55 address, memoised: the same few thousand members and contracts appear in every other log."""
    return to_checksum_address(address)


def _normalizer(abi_type: str) -> Callable[[Any], Any]:
    if abi_type == "address":
        return checksummed
    if abi_type == "address[]":
        return lambda values: [checksummed(v) for v in values]
    if abi_type in ("bytes", "bytes32") or abi_type.startswith("bytes") and not abi_type.endswith("]"):
        return lambda value: "0x" + value.hex()
    if abi_type == "bytes[]":
        return lambda values: ["0x" + v.hex() for v in values]
    if abi_type.endswith("[]"):
        return list
    return lambda value: value


def _word_reader(abi_type: str) -> Callable[[bytes, int], Any] | None:
    """A reader for one head word of a simple ABI type (static elementary, or string/bytes via its offset); None otherwise."""
    if abi_type.startswith("uint"):
        return lambda data, at: int.from_bytes(data[at : at + 32], "big")
    if abi_type.startswith("int"):
        return lambda data, at: int.from_bytes(data[at : at + 32], "big", signed=True)
    if abi_type == "bool":
        return lambda data, at: data[at + 31] == 1
    if abi_type == "address":
        return lambda data, at: checksummed("0x" + data[at + 12 : at + 32].hex())
    if abi_type == "bytes32":
        return lambda data, at: "0x" + data[at : at + 32].hex()
    if abi_type in ("string", "bytes"):

        def dynamic(data: bytes, at: int) -> Any:
            start = int.from_bytes(data[at : at + 32], "big")
            length = int.from_bytes(data[start : start + 32], "big")
            raw = data[start + 32 : start + 32 + length]
            if len(raw) != length:
                raise ValueError("dynamic value runs past the end of the log data")
            return raw.decode("utf-8", errors="replace") if abi_type == "string" else "0x" + raw.hex()

        return dynamic
    return None


def _topic_reader(abi_type: str) -> Callable[[str], Any]:
    """Indexed values are one 32-byte word each (dynamic ones only as their hash)."""
    if abi_type == "address":
        return lambda topic: checksummed("0x" + topic[26:])
    if abi_type.startswith("uint") and not abi_type.endswith("]"):
        return lambda topic: int(topic, 16)
    if abi_type.startswith("int") and not abi_type.endswith("]"):
        return lambda topic: int.from_bytes(bytes.fromhex(topic[2:]), "big", signed=True)
    if abi_type == "bool":
        return lambda topic: topic[-1] == "1"
    return lambda topic: topic


@dataclass(frozen=True)
class _EventDecoder:
    contract: str
    name: str
    indexed: list[tuple[str, Callable]]  # (name, topic reader)
    data_names: list[str]
    data_types: list[str]
    data_normalizers: list[Callable]
    # (name, word reader) per data field when every field is one fixed-size word; set in __post_init__.
    _fast: list[tuple[str, Callable]] | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        readers = [_word_reader(t) for t in self.data_types]
        # Layouts of simple words (votes, memberships, settings) are read by hand, about ten times faster than
        # eth-abi's general decoder; anything with arrays (ProposalCreated) goes through eth-abi.
        object.__setattr__(self, "_fast", list(zip(self.data_names, readers)) if all(readers) else None)

    def decode(self, topics: list[str], data: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for (name, read), topic in zip(self.indexed, topics[1:]):
            args[name] = read(topic)
        if not self.data_types:
            return args
        raw = bytes.fromhex(data[2:])
        fast = self._fast
        if fast is not None and len(raw) >= 32 * len(fast):
            at = 0
            for name, read in fast:
                args[name] = read(raw, at)
                at += 32
            return args
        values = decode(self.data_types, raw)
        for name, normalize, value in zip(self.data_names, self.data_normalizers, values):
            args[name] = normalize(value)
        return args


class LogDecoder:
    """Decodes raw logs (JSON-RPC dicts) of one commons' three contracts into `Event`s."""

    def __init__(self, addresses: dict[str, str]):
        """`addresses`: role (membership, governor, timelock, and contributions if the commons has it) → address."""
        artifacts = load_artifacts()
        self.role_of_address = {address.lower(): role for role, address in addresses.items()}
        contracts = CONTRACT_OF_ROLE | {r: c for r, c in OPTIONAL_CONTRACT_OF_ROLE.items() if r in addresses}
        self.addresses = [addresses[role] for role in contracts]
        self._decoders: dict[tuple[str, str], _EventDecoder] = {}
        for role, contract in contracts.items():
            for entry in artifacts[contract].abi:
                if entry["type"] != "event" or entry["name"] not in GOVERNANCE_EVENTS[role]:
                    continue
                indexed = [(i["name"], _topic_reader(i["type"])) for i in entry["inputs"] if i["indexed"]]
                data = [i for i in entry["inputs"] if not i["indexed"]]
                topic = "0x" + event_abi_to_log_topic(entry).hex()
                self._decoders[(role, topic)] = _EventDecoder(
                    role,
                    entry["name"],
                    indexed,
                    [i["name"] for i in data],
                    [i["type"] for i in data],
                    [_normalizer(i["type"]) for i in data],
                )

    @property
    def topics(self) -> list[str]:
        """Every topic0 this decoder knows, to narrow eth_getLogs to governance events."""
        return sorted({topic for _, topic in self._decoders})

    def decode(self, log: dict, timestamp: int | None = None) -> Event | None:
        """The event in `log`, or None for a log that is not a governance event of this commons.

        `timestamp` is needed only when the node does not put `blockTimestamp` in its logs.
        """
        role = self.role_of_address.get(log["address"].lower())
        topics = log["topics"]
        if role is None or not topics:
            return None
        decoder = self._decoders.get((role, topics[0]))
        if decoder is None:
            return None
        stamp = log.get("blockTimestamp")
        # Positional: block number, block hash, tx hash, log index, timestamp, contract, name, args.
        return Event(
            int(log["blockNumber"], 16),
            log["blockHash"],
            log["transactionHash"],
            int(log["logIndex"], 16),
            int(stamp, 16) if stamp is not None else int(timestamp or 0),
            role,
            decoder.name,
            decoder.decode(topics, log["data"]),
        )
