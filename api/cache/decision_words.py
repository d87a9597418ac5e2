"""The timelock's decision-log entries in words: the call each one schedules, carries out or cancels, read by
governance.readings, with the proposal it belongs to or a plain flag that no vote decided it.

A call belongs to proposal #N when the governor scheduled it: the proposal's timelock operation is the entry's and its
ProposalQueued is in the very transaction that scheduled it (governance/power.py says why the operation id alone is
not enough). Anything else was scheduled directly on the timelock by whoever held its proposer role: power outside
the vote, flagged on the entry itself, not only in /api/commons and the audit. The words are derived once, here, and
served beside the hashed entries (the log's page answer `calls`, its Atom feeds, webhooks and the CSV export's
`in_words` column), never inside them: what is hashed stays the chain's facts alone.
"""

import json
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from api.cache.action_words import HandlesOnDemand, cached_addresses
from api.cache.tables import CURSOR, LOG, NOT_A_VOTE, PROPOSALS
from api.cache.treasury_queries import known_tokens
from governance import actions as act
from governance.calendar import one_line
from governance.readings import Context, duration_words, read_action
from governance.vocabulary import TIMELOCK_EVENTS, Addresses

OUTSIDE = "outside the vote"


@dataclass(frozen=True)
class CallInWords:
    """What a timelock entry does, in words (the fields of api/schemas.py CallInWordsPublic, in its order).

    `in_words`: the whole sentence, as the page, the feeds and the webhooks say it; `action`: the call alone (None for
    a cancellation); `known`: whether the call was decoded; `power_change`: a warning if it changes who holds power;
    `proposal_id` and `proposal_number`: the proposal whose vote decided it; `outside_the_vote`: no vote decided it;
    `warning`: why, in a sentence (None when a vote decided it)."""

    in_words: str
    action: str | None
    known: bool | None
    power_change: str | None
    proposal_id: str | None
    proposal_number: int | None
    outside_the_vote: bool
    warning: str | None

    def public(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Proposal:
    proposal_id: str
    number: int
    title: str
    queued_tx: str
    actions: int
    canceled_txs: frozenset[str]


@dataclass
class _Operation:
    """One timelock operation as the cache knows it: the proposals the governor queued it for, and each time it was
    scheduled (sequence number, transaction)."""

    proposals: list[_Proposal] = field(default_factory=list)
    scheduled: list[tuple[int, str]] = field(default_factory=list)

    def proposal_queued_in(self, tx_hash: str) -> _Proposal | None:
        return next((p for p in self.proposals if p.queued_tx == tx_hash.lower()), None)

    def by_vote(self, tx_hash: str | None) -> _Proposal | None:
        """The proposal that scheduled the operation in `tx_hash`; with no transaction given, the proposal only if
        every scheduling of the operation was the governor's (a copy scheduled directly makes every entry suspect)."""
        if tx_hash is not None:
            return self.proposal_queued_in(tx_hash)
        found = [self.proposal_queued_in(tx) for _, tx in self.scheduled]
        return found[0] if found and all(found) else None

    def scheduled_before(self, seq: int | None) -> str | None:
        """The transaction of the last scheduling up to entry `seq` (None: not known)."""
        if seq is None:
            return None
        earlier = [tx for at, tx in self.scheduled if at <= seq]
        return earlier[-1] if earlier else None


class TimelockCalls:
    """Reads timelock entries into CallInWords, looking up each operation in the cache the first time it is named."""

    def __init__(self, connect: Callable[[], AbstractContextManager[Connection]], addresses: Addresses, context: Context | None):
        self.connect = connect
        self.addresses = addresses
        self.operations: dict[str, _Operation] = {}
        self._context = context

    @classmethod
    def read(
        cls, conn: Connection, engine: Engine | None = None, handles: Mapping[str, str] | None = None
    ) -> "TimelockCalls | None":
        """A reader over the cache on `conn`; None before the indexer's first batch (no addresses yet).

        With an `engine` (for a streamed export, which holds no connection open), each later look-up takes a short
        connection of its own, and members are named from `handles` (address → handle, any case)."""
        at = conn.execute(sa.select(CURSOR).where(CURSOR.c.id == 1)).mappings().first()
        if at is None:
            return None
        addresses = cached_addresses(at)
        if engine is None:
            return cls(lambda: nullcontext(conn), addresses, None)
        by_address = {address.lower(): handle for address, handle in (handles or {}).items()}
        return cls(engine.connect, addresses, Context(addresses, by_address, known_tokens(conn)))

    def _operation(self, operation_id: str) -> tuple[_Operation, Context]:
        """The operation as the cache knows it, and the context to read calls in (each read once, on first use)."""
        key = operation_id.lower()
        if key not in self.operations or self._context is None:
            with self.connect() as conn:
                if key not in self.operations:
                    self.operations[key] = _read_operation(conn, key)
                if self._context is None:
                    self._context = Context(self.addresses, HandlesOnDemand(conn), known_tokens(conn))
        return self.operations[key], self._context

    def reading(self, kind: str, data: dict, tx_hash: str | None = None, seq: int | None = None) -> CallInWords | None:
        """The timelock entry of `kind` with `data` (as the log stores it) in words; None for any other kind.

        `tx_hash` and `seq` (the entry's transaction and position) make the reading exact when one operation was
        scheduled both by the governor and directly; without them such an entry reads as outside the vote."""
        if kind not in TIMELOCK_EVENTS:
            return None
        operation, context = self._operation(str(data["id"]))
        if kind == "Cancelled":
            return self._cancelled(str(data["id"]), operation, tx_hash)
        reading = read_action(act.Action(data["target"], int(data["value"]), _bytes(data["data"])), context)
        scheduling = tx_hash if kind == "CallScheduled" else operation.scheduled_before(seq)
        proposal = operation.by_vote(scheduling)
        action = reading.words[:1].lower() + reading.words[1:]
        index = int(data["index"]) + 1
        power = f"; power change: {reading.power}" if reading.power else ""
        if proposal is not None:
            of = f"{_named(proposal)}, action {index} of {proposal.actions}"
            if kind == "CallScheduled":
                words = f"timelock scheduled {of}, to run after {duration_words(int(data['delay']))}: {action}{power}"
            else:
                words = f"timelock carried out {of}: {action}{power}"
            return CallInWords(
                words, reading.words, reading.known, reading.power, proposal.proposal_id, proposal.number, False, None
            )
        short = _short(str(data["id"]))
        warning = (
            f"No vote decided this: timelock operation {short} was scheduled directly on the timelock by whoever held its "
            "proposer role, not by the governor through a passed proposal (power outside the vote)."
        )
        if kind == "CallScheduled":
            words = (
                f"{OUTSIDE}: action {index} of timelock operation {short} scheduled directly on the timelock, not through "
                f"a passed proposal, to run after {duration_words(int(data['delay']))}: {action}{power}"
            )
        else:
            words = (
                f"{OUTSIDE}: the timelock carried out action {index} of operation {short}, which was scheduled directly on "
                f"it, not through a passed proposal: {action}{power}"
            )
        return CallInWords(words, reading.words, reading.known, reading.power, None, None, True, warning)

    def _cancelled(self, operation_id: str, operation: _Operation, tx_hash: str | None) -> CallInWords:
        """A cancellation is the members' own when the governor canceled the proposal in that transaction; anyone else
        holding the canceller role stops what a vote passed (or a call scheduled outside it) without a vote."""
        proposal = operation.proposals[0] if operation.proposals else None
        short = _short(operation_id)
        if proposal is not None:
            by_governor = (tx_hash.lower() in proposal.canceled_txs) if tx_hash is not None else bool(proposal.canceled_txs)
            if by_governor:
                return CallInWords(
                    f"timelock operation of {_named(proposal)} cancelled",
                    None,
                    None,
                    None,
                    proposal.proposal_id,
                    proposal.number,
                    False,
                    None,
                )
            warning = (
                f"No vote decided this: {_named(proposal)} passed, and its timelock operation was cancelled directly on the "
                "timelock by whoever held its canceller role, not by the governor (power outside the vote)."
            )
            words = (
                f"{OUTSIDE}: the timelock operation of {_named(proposal)} cancelled directly on the timelock, not by the governor"
            )
            return CallInWords(words, None, None, None, proposal.proposal_id, proposal.number, True, warning)
        warning = (
            f"No vote decided this: timelock operation {short}, which no passed proposal scheduled, was cancelled directly "
            "on the timelock (power outside the vote)."
        )
        words = f"{OUTSIDE}: timelock operation {short}, scheduled outside any vote, cancelled directly on the timelock"
        return CallInWords(words, None, None, None, None, None, True, warning)


def _read_operation(conn: Connection, operation_id: str) -> _Operation:
    rows = conn.execute(
        sa.select(
            PROPOSALS.c.proposal_id, PROPOSALS.c.number, PROPOSALS.c.title, PROPOSALS.c.queued_tx, PROPOSALS.c.targets
        ).where(PROPOSALS.c.timelock_id == operation_id, PROPOSALS.c.queued_tx.is_not(None))
    ).all()
    proposals = [
        _Proposal(r.proposal_id, r.number, r.title, r.queued_tx.lower(), len(r.targets), _canceled_txs(conn, r.proposal_id))
        for r in rows
    ]
    # NOT_A_VOTE in the partial index's own words, so the (subject, kind) index of entries other than votes serves it.
    scheduled = conn.execute(
        sa.select(LOG.c.seq, LOG.c.tx_hash).where(
            sa.text(NOT_A_VOTE), LOG.c.subject == operation_id, LOG.c.kind == "CallScheduled"
        )
    ).all()
    return _Operation(proposals, sorted((seq, tx.lower()) for seq, tx in scheduled))


def _canceled_txs(conn: Connection, proposal_id: str) -> frozenset[str]:
    """The transactions in which the governor canceled the proposal (ProposalCanceled)."""
    rows = conn.execute(
        sa.select(LOG.c.tx_hash).where(sa.text(NOT_A_VOTE), LOG.c.subject == proposal_id, LOG.c.kind == "ProposalCanceled")
    ).scalars()
    return frozenset(tx.lower() for tx in rows)


def calls_of_rows(conn: Connection, rows: list) -> dict[str, dict]:
    """CallInWordsPublic of each timelock entry among decision-log `rows` (with kind, data, tx_hash, seq), by seq as a
    string; empty when there are none (no query is made then)."""
    timelock = [r for r in rows if r.kind in TIMELOCK_EVENTS]
    if not timelock:
        return {}
    reader = TimelockCalls.read(conn)
    if reader is None:
        return {}
    found = {}
    for row in timelock:
        reading = reader.reading(row.kind, json.loads(row.data), row.tx_hash, row.seq)
        if reading is not None:
            found[str(row.seq)] = reading.public()
    return found


def _named(proposal: _Proposal) -> str:
    return f"#{proposal.number} {one_line(proposal.title)}"


def _short(operation_id: str) -> str:
    return f"{operation_id[:10]}…{operation_id[-4:]}"


def _bytes(value: str) -> bytes:
    """Calldata as the log stores it (0x-hex)."""
    return bytes.fromhex(value[2:])
