"""Power outside the vote: who holds each timelock role now, who owns the membership registry, and every
timelock call that the governor did not schedule.

The intended shape: only the governor proposes to and cancels on the timelock, anyone (address 0) may execute
what has been scheduled, the timelock administers itself, and the timelock owns the membership registry.
Anything else lets someone act on the treasury or the membership without a vote, and is reported in words.
Derived from the role, ownership and scheduling events alone (the decision log holds them), so the chain,
the cache and the audit all say the same.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from governance import actions as act
from governance.readings import ROLE_NAMES, ROLE_POWERS, ZERO, Context, read_action
from governance.vocabulary import Addresses

ROLE_ORDER = ("admin", "proposer", "canceller", "executor")


@dataclass
class Power:
    """Who holds each timelock role now (role name → addresses), the membership registry's owner, and findings."""

    holders: dict[str, list[str]] = field(default_factory=lambda: {role: [] for role in ROLE_ORDER})
    membership_owner: str | None = None
    outside_the_vote: list[str] = field(default_factory=list)


def timelock_operation_id(governor: str, targets: list[str], values: list[int], calldatas: list[bytes], description: str) -> str:
    """The timelock operation id GovernorTimelockControl schedules for a proposal (salt: governor ^ description hash)."""
    description_hash = keccak(text=description)
    salt = bytes(a ^ b for a, b in zip(bytes.fromhex(governor[2:]) + bytes(12), description_hash))
    body = encode(["address[]", "uint256[]", "bytes[]", "bytes32", "bytes32"], [targets, values, calldatas, bytes(32), salt])
    return "0x" + keccak(body).hex()


def governor_operations(events: Iterable[tuple[str, Mapping[str, Any], str]], governor: str) -> set[tuple[str, str]]:
    """(timelock operation id, transaction hash) of every proposal the governor queued, from (event name, args,
    transaction hash) holding ProposalCreated and ProposalQueued. An operation is the governor's only in the very
    transaction that queued its proposal: anyone holding the proposer role can schedule a copy of a proposal's
    actions with the same salt (the same operation id) before, or instead of, the governor."""
    operations: dict[int, str] = {}
    queued = set()
    for name, args, tx_hash in events:
        if name == "ProposalCreated":
            calldatas = [bytes.fromhex(c[2:]) if isinstance(c, str) else bytes(c) for c in args["calldatas"]]
            values = [int(v) for v in args["values"]]
            operation = timelock_operation_id(governor, list(args["targets"]), values, calldatas, args["description"])
            operations[int(args["proposalId"])] = operation
        elif name == "ProposalQueued" and int(args["proposalId"]) in operations:
            queued.add((operations[int(args["proposalId"])], str(tx_hash).lower()))
    return queued


def power_from_events(
    events: Iterable[tuple[str, Mapping[str, Any], str]],
    addresses: Addresses,
    scheduled_by_governor: set[tuple[str, str]],
    sender_of: Callable[[str], str | None] = lambda tx_hash: None,
) -> Power:
    """Power now, from (event name, args, transaction hash) in chain order; see the module docstring.

    `scheduled_by_governor`: (operation id, transaction) the governor scheduled (governor_operations); `sender_of`: who sent a transaction, if known.
    """
    held: dict[str, dict[str, None]] = {role: {} for role in ROLE_ORDER}
    power = Power()
    strays: dict[str, tuple[list, str]] = {}
    for name, args, tx_hash in events:
        if name in ("RoleGranted", "RoleRevoked"):
            role = ROLE_NAMES.get(str(args["role"]).lower())
            if role is None:
                continue
            who = to_checksum_address(args["account"])
            if name == "RoleGranted":
                held[role][who] = None
            else:
                held[role].pop(who, None)
        elif name == "OwnershipTransferred":
            power.membership_owner = to_checksum_address(args["newOwner"])
        elif name == "CallScheduled" and (str(args["id"]).lower(), str(tx_hash).lower()) not in scheduled_by_governor:
            strays.setdefault(str(args["id"]).lower(), ([], tx_hash))[0].append(args)
    power.holders = {role: list(holders) for role, holders in held.items()}
    power.outside_the_vote = _findings(power, addresses, strays, sender_of)
    return power


def _findings(power: Power, addresses: Addresses, strays: dict, sender_of: Callable[[str], str | None]) -> list[str]:
    context = Context(addresses, {})
    found = []
    intended = {"admin": {addresses.timelock}, "proposer": {addresses.governor}, "canceller": {addresses.governor}}
    for role in ("admin", "proposer", "canceller"):
        for who in power.holders[role]:
            if who not in intended[role]:
                found.append(
                    f"{context.who(who)} holds the {role} role on the treasury (timelock): it may "
                    f"{ROLE_POWERS[role]} (power outside the vote)"
                )
    executors = power.holders["executor"]
    if ZERO not in executors:
        named = ", ".join(context.who(w) for w in executors) or "nobody"
        found.append(
            f"only {named} may execute passed proposals (the executor role is not open to anyone): "
            "they can delay or withhold what the members decided (power outside the vote)"
        )
    if power.membership_owner is not None and power.membership_owner != addresses.timelock:
        found.append(
            f"{context.who(power.membership_owner)} owns the membership registry: it may admit and remove members "
            "without a vote (power outside the vote)"
        )
    for operation, (calls, tx_hash) in strays.items():
        sender = sender_of(tx_hash)
        words = "; ".join(
            _lower(read_action(act.Action(to_checksum_address(c["target"]), int(c["value"]), _bytes(c["data"])), context).words)
            for c in calls
        )
        by = f"by {context.who(sender)} " if sender else ""
        found.append(
            f"timelock operation {operation} was scheduled {by}directly on the timelock, not by the governor "
            f"(transaction {tx_hash}): {words} (power outside the vote)"
        )
    return found


def _bytes(value: Any) -> bytes:
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def _lower(words: str) -> str:
    return words[:1].lower() + words[1:]


def power_of_events(events: list, addresses: Addresses, sender_of: Callable[[str], str | None] = lambda _: None) -> Power:
    """Power from governance `Event`s (governance.events) of one commons, in chain order."""
    triples = [(e.name, e.args, e.tx_hash) for e in events]
    by_governor = governor_operations(triples, addresses.governor)
    return power_from_events(triples, addresses, by_governor, sender_of)


def power_on_chain(w3, manifest, block: int | str = "latest") -> Power:
    """Power at `block`, read from the chain's logs alone (senders of stray timelock calls from their transactions)."""
    from governance.indexer import Indexer
    from governance.rpc import Rpc

    last = w3.eth.block_number if block == "latest" else int(block)
    reader = Indexer(Rpc(w3.provider.endpoint_uri), manifest.addresses.by_role(), manifest.deployment_block, sink=None)  # type: ignore[arg-type]
    events = reader.read_events(manifest.deployment_block, last)
    return power_of_events(events, manifest.addresses, lambda tx: w3.eth.get_transaction(tx)["from"])
