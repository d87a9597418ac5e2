"""The decision log: every governance event in chain order, hash-chained so an export is tamper-evident.

Each entry is a JSON object; its hash is the SHA-256 of its canonical JSON (keys sorted, no spaces,
UTF-8), and that JSON includes the previous entry's hash. Whoever pins the head hash pins the whole
history before it: changing, inserting or dropping any entry changes every hash after it.
Integers inside `data` are decimal strings, because uint256 values do not fit JSON numbers.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring  # the C string quoter json.dumps(ensure_ascii=False) uses
from typing import Any

from governance.events import Event

GENESIS_HASH = "0x" + "00" * 32

# The subject an entry is about (an address or a proposal id), so history can be read per member or proposal.
SUBJECT_ARG = {
    "MemberAdmitted": "member",
    "MemberRemoved": "member",
    "MemberResigned": "member",
    "DelegateChanged": "delegator",
    "StewardAppointed": "steward",
    "StewardRecalled": "steward",
    "ProposalCreated": "proposalId",
    "VoteCast": "proposalId",
    "VoteCastWithParams": "proposalId",
    "ProposalExtended": "proposalId",
    "ProposalQueued": "proposalId",
    "ProposalExecuted": "proposalId",
    "ProposalCanceled": "proposalId",
    "CallScheduled": "id",
    "CallExecuted": "id",
    "Cancelled": "id",
    "Contributed": "contributor",
    "TokenTracked": "token",
    "TokenUntracked": "token",
    "RoleGranted": "account",
    "RoleRevoked": "account",
    "OwnershipTransferred": "newOwner",
    # An initiative's entries are about it: "initiative:<id>" (its own kind of subject, apart from proposal ids).
    "InitiativeDrafted": "id",
    "InitiativeRevised": "id",
    "InitiativeWithdrawn": "id",
    "SupportPosted": "id",
    "SupportWithdrawn": "id",
    "InitiativeSubmitted": "id",
}


def json_safe(value: Any) -> Any:
    """`value` with every integer as a decimal string (recursively), ready for canonical JSON."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        return str(value)
    if kind is dict:
        return {k: json_safe(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [json_safe(v) for v in value]
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def canonical_json(body: dict) -> str:
    """The one serialisation that is hashed: sorted keys, no whitespace, non-ASCII kept as UTF-8."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(body: dict) -> str:
    """0x-hex SHA-256 of the entry's canonical JSON (the body must not contain its own `hash`)."""
    return "0x" + hashlib.sha256(canonical_json(body).encode()).hexdigest()


def subject_of(event: Event) -> str | None:
    """What the event is about: a member or steward address, a proposal id, a timelock operation; None for settings."""
    arg = SUBJECT_ARG.get(event.name)
    if arg is None:
        return None
    value = event.args[arg]
    if event.contract == "initiatives":
        return f"initiative:{value}"
    return str(value) if isinstance(value, int) else value


@dataclass(slots=True)
class Entry:
    """One decision-log entry: the event at position `seq` chained to `prev_hash`, its hash, its data as canonical JSON.

    `body` (what is hashed) is built on demand: a backfill writes entries straight from these fields.
    """

    event: Event
    seq: int
    prev_hash: str
    subject: str | None
    hash: str
    data_json: str

    @property
    def body(self) -> dict:
        e = self.event
        return {
            "seq": self.seq,
            "block_number": e.block_number,
            "block_hash": e.block_hash,
            "tx_hash": e.tx_hash,
            "log_index": e.log_index,
            "timestamp": e.timestamp,
            "contract": e.contract,
            "kind": e.name,
            "subject": self.subject,
            "data": json_safe(e.args),
            "prev_hash": self.prev_hash,
        }

    def as_json(self) -> dict:
        """The entry as exported: the body plus its hash."""
        return {**self.body, "hash": self.hash}


def data_json(args: dict[str, Any]) -> str:
    """canonical_json(json_safe(args)), written directly when every value is a string, integer or bool (votes,
    memberships, settings: all but ProposalCreated), because this runs once per event in a backfill."""
    names = tuple(args)
    layout = _LAYOUTS.get(names)
    if layout is None:
        layout = [(key, encode_basestring(key) + ":") for key in sorted(names)]
        if len(_LAYOUTS) < 1_000:  # one per kind of event in practice
            _LAYOUTS[names] = layout
    parts = []
    for key, prefix in layout:
        value = args[key]
        kind = type(value)
        if kind is str:
            parts.append(prefix + encode_basestring(value))
        elif kind is int:
            parts.append(f'{prefix}"{value}"')
        elif kind is bool:
            parts.append(prefix + ("true" if value else "false"))
        else:
            return canonical_json(json_safe(args))
    return "{" + ",".join(parts) + "}"


# Argument names in an event's order → (name, its JSON key and colon) in sorted order.
_LAYOUTS: dict[tuple[str, ...], list[tuple[str, str]]] = {}


def make_entry(event: Event, seq: int, prev_hash: str) -> Entry:
    """The entry for `event` at position `seq` (from 1), chained to `prev_hash`."""
    subject = subject_of(event)
    # The same bytes canonical_json(entry.body) gives (a test holds them equal), written out in key order.
    data = data_json(event.args)
    text = (
        f'{{"block_hash":{encode_basestring(event.block_hash)},"block_number":{event.block_number},'
        f'"contract":{encode_basestring(event.contract)},"data":{data},"kind":{encode_basestring(event.name)},'
        f'"log_index":{event.log_index},"prev_hash":{encode_basestring(prev_hash)},"seq":{seq},'
        f'"subject":{"null" if subject is None else encode_basestring(subject)},"timestamp":{event.timestamp},'
        f'"tx_hash":{encode_basestring(event.tx_hash)}}}'
    )
    return Entry(event, seq, prev_hash, subject, "0x" + hashlib.sha256(text.encode()).hexdigest(), data)


def chain(events: Iterable[Event], last_seq: int = 0, last_hash: str = GENESIS_HASH) -> Iterator[Entry]:
    """Entries for `events` (in chain order), continuing a log whose last entry is (`last_seq`, `last_hash`)."""
    for event in events:
        last_seq += 1
        entry = make_entry(event, last_seq, last_hash)
        last_hash = entry.hash
        yield entry


def verify(entries: Iterable[dict], expected_prev: str = GENESIS_HASH, expected_seq: int = 1) -> list[str]:
    """Problems found in a log given as exported dicts (body + `hash`), in words; empty if the chain holds.

    Checks that each entry's hash is the hash of its body, that it names the previous entry's hash,
    and that sequence numbers run without gaps.
    """
    problems: list[str] = []
    prev: str | None = expected_prev
    seq = expected_seq
    for item in entries:
        body = {k: v for k, v in item.items() if k != "hash"}
        number = body.get("seq")
        if number != seq:
            problems.append(f"entry {number}: expected sequence number {seq}")
        if body.get("prev_hash") != prev:
            problems.append(
                f"entry {number}: names previous hash {body.get('prev_hash')}, but the previous entry's hash is {prev}"
            )
        recomputed = entry_hash(body)
        if recomputed != item.get("hash"):
            problems.append(f"entry {number}: its content hashes to {recomputed}, not the {item.get('hash')} it carries")
        prev = item.get("hash")
        seq = (number if isinstance(number, int) else seq) + 1
    return problems
