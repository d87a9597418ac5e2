"""Raw JSON-RPC logs → typed governance events, decoded with eth-abi directly (no web3 contract objects).

web3's `process_log` builds an AttributeDict per log through several formatter layers (about 4,000
events/s); here each event's decoder is prepared once per topic and a log costs one `eth_abi.decode`
of its data plus a few slices of its topics.
"""

from dataclasses import dataclass
from typing import Any, Callable

from eth_abi import decode
from eth_utils import event_abi_to_log_topic, to_checksum_address

from governance.compiler import load_artifacts

# Which contract's ABI to read events from, by the role the manifest gives each address.
CONTRACT_OF_ROLE = {"membership": "Membership", "governor": "CommonsGovernor", "timelock": "TimelockController"}

# Events that are governance decisions or facts an observer needs; the rest (approvals, vote-power
# bookkeeping, role grants made at deployment) are derivable or irrelevant and are skipped.
GOVERNANCE_EVENTS = {
    "membership": {"MemberAdmitted", "MemberRemoved", "MemberResigned", "DelegateChanged"},
    "governor": {"ProposalCreated", "VoteCast", "VoteCastWithParams", "ProposalExtended", "ProposalQueued",
                 "ProposalExecuted", "ProposalCanceled", "StewardAppointed", "StewardRecalled", "VotingDelaySet",
                 "VotingPeriodSet", "ProposalThresholdSet", "QuorumNumeratorUpdated", "LateQuorumVoteExtensionSet",
                 "TimelockChange"},
    "timelock": {"CallScheduled", "CallExecuted", "Cancelled", "MinDelayChange"},
}


@dataclass(frozen=True, slots=True)
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


def _normalizer(abi_type: str) -> Callable[[Any], Any]:
    if abi_type == "address":
        return to_checksum_address
    if abi_type == "address[]":
        return lambda values: [to_checksum_address(v) for v in values]
    if abi_type in ("bytes", "bytes32") or abi_type.startswith("bytes") and not abi_type.endswith("]"):
        return lambda value: "0x" + value.hex()
    if abi_type == "bytes[]":
        return lambda values: ["0x" + v.hex() for v in values]
    if abi_type.endswith("[]"):
        return list
    return lambda value: value


@dataclass(frozen=True)
class _EventDecoder:
    contract: str
    name: str
    indexed: list[tuple[str, str, Callable]]  # (name, type, normalizer)
    data_names: list[str]
    data_types: list[str]
    data_normalizers: list[Callable]

    def decode(self, topics: list[str], data: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for (name, abi_type, normalize), topic in zip(self.indexed, topics[1:]):
            raw = bytes.fromhex(topic[2:])
            # Indexed static values are one 32-byte word each.
            args[name] = normalize(decode([abi_type], raw)[0])
        if self.data_types:
            values = decode(self.data_types, bytes.fromhex(data[2:]))
            for name, normalize, value in zip(self.data_names, self.data_normalizers, values):
                args[name] = normalize(value)
        return args


class LogDecoder:
    """Decodes raw logs (JSON-RPC dicts) of one commons' three contracts into `Event`s."""

    def __init__(self, addresses: dict[str, str]):
        """`addresses`: role (membership, governor, timelock) → contract address."""
        artifacts = load_artifacts()
        self.role_of_address = {address.lower(): role for role, address in addresses.items()}
        self.addresses = [addresses[role] for role in CONTRACT_OF_ROLE]
        self._decoders: dict[tuple[str, str], _EventDecoder] = {}
        for role, contract in CONTRACT_OF_ROLE.items():
            for entry in artifacts[contract].abi:
                if entry["type"] != "event" or entry["name"] not in GOVERNANCE_EVENTS[role]:
                    continue
                indexed = [(i["name"], i["type"], _normalizer(i["type"])) for i in entry["inputs"] if i["indexed"]]
                data = [i for i in entry["inputs"] if not i["indexed"]]
                topic = "0x" + event_abi_to_log_topic(entry).hex()
                self._decoders[(role, topic)] = _EventDecoder(
                    role, entry["name"], indexed, [i["name"] for i in data], [i["type"] for i in data],
                    [_normalizer(i["type"]) for i in data])

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
        return Event(
            block_number=int(log["blockNumber"], 16),
            block_hash=log["blockHash"],
            tx_hash=log["transactionHash"],
            log_index=int(log["logIndex"], 16),
            timestamp=int(stamp, 16) if stamp is not None else int(timestamp or 0),
            contract=role,
            name=decoder.name,
            args=decoder.decode(topics, log["data"]),
        )
