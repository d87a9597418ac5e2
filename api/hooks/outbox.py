"""The outbox: decision-log entries become webhook events, and events a reorg removed become `….reverted` events.

An event's id is fixed by the chain fact it reports (chain, governor, block hash, log index), so every API process
derives the same id for it and the primary key keeps one row however many of them try; its body is written once and
sent as it is on every retry. One pass runs in one transaction, under an advisory lock on PostgreSQL.
"""

import datetime as dt
import hashlib
import json
import time

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from api.cache.projection import SETTING_EVENTS
from api.cache.tables import BLOCKS, CURSOR, LOG
from api.hooks.tables import DELIVERIES, ENDPOINTS, EVENTS
from api.notify.words import Names, entry_said
from governance.decision_log import canonical_json

EVENT_TYPES = {
    "ProposalCreated": "proposal.created",
    "VoteCast": "vote.cast",
    "VoteCastWithParams": "vote.cast",
    "ProposalExtended": "proposal.extended",
    "ProposalQueued": "proposal.queued",
    "ProposalExecuted": "proposal.executed",
    "ProposalCanceled": "proposal.canceled",
    "MemberAdmitted": "member.admitted",
    "MemberRemoved": "member.removed",
    "MemberResigned": "member.resigned",
    "DelegateChanged": "member.delegated",
    "StewardAppointed": "steward.appointed",
    "StewardRecalled": "steward.recalled",
    "CallScheduled": "timelock.scheduled",
    "CallExecuted": "timelock.executed",
    "Cancelled": "timelock.cancelled",
    "RoleGranted": "power.changed",
    "RoleRevoked": "power.changed",
    "OwnershipTransferred": "power.changed",
    "TimelockChange": "power.changed",
} | {kind: "setting.changed" for kind in SETTING_EVENTS}
KNOWN_TYPES = frozenset(EVENT_TYPES.values()) | {"treasury.changed"}
REVERTED = ".reverted"
SCAN_CHUNK = 500
OUTBOX_LOCK = 0x636F6D6D6F6E73  # "commons": one outbox pass at a time across API processes (PostgreSQL)


def event_type(kind: str) -> str:
    return EVENT_TYPES.get(kind, "treasury.changed")


def wanted(events_text: str, type_: str) -> bool:
    """Whether an endpoint subscribed to `events_text` (space-separated types, or '*') gets an event of `type_`;
    a subscriber to a type also gets its `….reverted`."""
    subscribed = events_text.split()
    return "*" in subscribed or type_.removesuffix(REVERTED) in subscribed


def message_id(*parts: object) -> str:
    """`msg_` + 40 hex digits of SHA-256 over `parts`: the same in every process for the same fact."""
    return "msg_" + hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()[:40]


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _insert(conn: Connection, table: sa.Table, rows: list[dict]) -> None:
    """Insert `rows`, leaving any that another process already wrote."""
    if rows:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


def links(public_url: str, number: int | None) -> dict:
    base = public_url.rstrip("/")
    return {"page": f"{base}/#/proposal/{number}" if number else f"{base}/#/decisions", "audit": f"{base}/#/audit"}


def event_body(entry, type_: str, names: Names, public_url: str) -> str:
    """The JSON body of the event for decision-log row `entry` (Standard Webhooks: type, timestamp, data).

    `proposal_number` and the page link name the proposal the entry is about or, for a timelock entry, the one whose
    vote decided its call (none outside the vote); `call` is a timelock entry's call in words as the log's page answer
    serves it (`outside_the_vote`, `warning`, …), null for other kinds. All read as the page and the CSV export read it,
    from the entry's own transaction and position."""
    data = json.loads(entry.data)
    said = entry_said(entry.kind, data, names, entry.tx_hash, entry.seq)
    number = said.proposal_number
    body = {
        "type": type_,
        "timestamp": _iso(entry.timestamp),
        "data": {
            "in_words": said.words,
            "kind": entry.kind,
            "subject": entry.subject,
            "proposal_number": number,
            "call": said.call.public() if said.call is not None else None,
            "args": data,
            "proof": {
                "transaction": entry.tx_hash,
                "block_number": entry.block_number,
                "block_hash": entry.block_hash,
                "log_index": entry.log_index,
                "decision_log_seq": entry.seq,
                "decision_log_hash": entry.hash,
            },
            "links": links(public_url, number),
        },
    }
    return canonical_json(body)


def _deliveries_for(
    conn: Connection, event_id: str, type_: str, seq: int, now: float, only: set[int] | None = None
) -> list[dict]:
    endpoints = conn.execute(sa.select(ENDPOINTS).where(ENDPOINTS.c.enabled.is_(True), ENDPOINTS.c.after_seq < seq)).all()
    return [
        {"event_id": event_id, "endpoint_id": e.id, "status": "pending", "attempts": 0, "next_attempt_at": now}
        for e in endpoints
        if wanted(e.events, type_) and (only is None or e.id in only)
    ]


def _revert_gone(conn: Connection, at, now: float) -> int:
    """Mark events whose log entry a reorg removed; drop their pending deliveries; for each that some endpoint
    already received, a `….reverted` event to those endpoints. Returns how many events were removed."""
    oldest = conn.execute(sa.select(sa.func.min(BLOCKS.c.number))).scalar()
    if oldest is None:
        return 0
    still = sa.exists().where(
        LOG.c.block_number == EVENTS.c.block_number,
        LOG.c.log_index == EVENTS.c.log_index,
        LOG.c.block_hash == EVENTS.c.block_hash,
    )
    gone = conn.execute(
        sa.select(EVENTS).where(EVENTS.c.reverts.is_(None), EVENTS.c.gone.is_(False), EVENTS.c.block_number >= oldest, ~still)
    ).all()
    for event in gone:
        conn.execute(sa.update(EVENTS).where(EVENTS.c.id == event.id).values(gone=True))
        conn.execute(
            sa.update(DELIVERIES)
            .where(DELIVERIES.c.event_id == event.id, DELIVERIES.c.status == "pending")
            .values(status="dropped", claimed_by=None, claimed_until=None)
        )
        received = {
            r.endpoint_id
            for r in conn.execute(
                sa.select(DELIVERIES.c.endpoint_id).where(DELIVERIES.c.event_id == event.id, DELIVERIES.c.status == "delivered")
            )
        }
        if not received:
            continue
        original = json.loads(event.body)
        reverted_id = message_id(event.id, "reverted")
        type_ = event.type + REVERTED
        body = {
            "type": type_,
            "timestamp": _iso(at["block_timestamp"]),
            "data": {
                "reverted_id": event.id,
                "in_words": f"a chain reorganisation removed block {event.block_number} ({event.block_hash}), and with it: "
                + original["data"]["in_words"],
                "reverted": original["data"],
                "proof": {"indexed_block": at["block_number"], "indexed_block_hash": at["block_hash"]},
                "links": original["data"]["links"],
            },
        }
        _insert(
            conn,
            EVENTS,
            [
                {
                    "id": reverted_id,
                    "type": type_,
                    "seq": event.seq,
                    "block_number": event.block_number,
                    "block_hash": event.block_hash,
                    "log_index": event.log_index,
                    "body": canonical_json(body),
                    "gone": False,
                    "reverts": event.id,
                    "created_at": now,
                }
            ],
        )
        _insert(conn, DELIVERIES, _deliveries_for(conn, reverted_id, type_, event.seq + 1, now, received) or [])
    return len(gone)


def _add_new(conn: Connection, at, public_url: str, now: float) -> int:
    """Events for the decision-log entries after the newest one the outbox holds (at most SCAN_CHUNK); how many."""
    first_wanted = conn.execute(sa.select(sa.func.min(ENDPOINTS.c.after_seq)).where(ENDPOINTS.c.enabled.is_(True))).scalar()
    if first_wanted is None:
        return 0
    newest = conn.execute(
        sa.select(sa.func.max(EVENTS.c.seq)).where(EVENTS.c.reverts.is_(None), EVENTS.c.gone.is_(False))
    ).scalar()
    after = max(newest or 0, first_wanted)
    rows = conn.execute(sa.select(LOG).where(LOG.c.seq > after).order_by(LOG.c.seq).limit(SCAN_CHUNK)).all()
    if not rows:
        return 0
    names = Names.read(conn)
    for entry in rows:
        type_ = event_type(entry.kind)
        event_id = message_id(at["chain_id"], at["governor"].lower(), entry.block_hash, entry.log_index)
        row = {
            "id": event_id,
            "type": type_,
            "seq": entry.seq,
            "block_number": entry.block_number,
            "block_hash": entry.block_hash,
            "log_index": entry.log_index,
            "body": event_body(entry, type_, names, public_url),
            "gone": False,
            "reverts": None,
            "created_at": now,
        }
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        # The same fact back after a reorg undid its removal: it is in the log again.
        conn.execute(dialect.insert(EVENTS).values(row).on_conflict_do_update(index_elements=["id"], set_={"gone": False}))
        _insert(conn, DELIVERIES, _deliveries_for(conn, event_id, type_, entry.seq, now))
    return len(rows)


def sync_outbox(engine: Engine, public_url: str = "") -> int:
    """One pass: removed events reverted, then new entries added as events with a delivery per subscribed endpoint.
    Returns how many events it looked at (0: nothing to do)."""
    now = time.time()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": OUTBOX_LOCK})
        at = conn.execute(sa.select(CURSOR).where(CURSOR.c.id == 1)).mappings().first()
        if at is None or conn.execute(sa.select(ENDPOINTS.c.id).where(ENDPOINTS.c.enabled.is_(True)).limit(1)).first() is None:
            return 0
        return _revert_gone(conn, at, now) + _add_new(conn, at, public_url, now)
