"""Sending events: due deliveries are claimed one by one (a conditional UPDATE, so one process sends each), signed,
POSTed to the pinned address, and logged; failures are retried with back-off for about three days, 410 Gone disables
the endpoint, and a delivery can be replayed with its original id. The worker thread runs this in each API process.

Delivery is at least once: each attempt is counted and logged before its request leaves, so a process killed mid-send
(or before it records the answer) leaves the attempt in the log, and the delivery to another process once its claim
expires, which sends it again with the same webhook-id (receivers deduplicate by it)."""

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Engine

from api.hooks.outbox import sync_outbox
from api.hooks.signing import signature_header
from api.hooks.tables import ATTEMPTS, DELIVERIES, ENDPOINTS, EVENTS
from api.hooks.targets import Network, Resolver, TargetRefused, check_target, post, system_resolver

log = logging.getLogger("commons.hooks")
# Seconds after each failed attempt before the next (Standard Webhooks' suggested schedule, stretched), as the README
# says: 10 attempts over 3 days 3 hours 35 minutes; a redirect is a failure like any answer but 2xx (never followed).
RETRY_DELAYS = (5, 300, 1800, 7200, 18000, 36000, 36000, 86400, 86400)
CLAIM_SECONDS = 60.0  # longer than a POST may take; a process that dies mid-send leaves the delivery to another
USER_AGENT = "CommonsLedger-Webhooks/1"
# The delivery log's words for an attempt whose answer is not recorded: while it is under way, and once its process lost
# the claim without recording an answer (it was killed, or outlived its claim); the endpoint may have received it.
IN_FLIGHT = "no answer yet: the request is under way"
INTERRUPTED = "no answer recorded: the process sending it stopped before the endpoint answered (it may have received it)"


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Sender:
    """What sending needs: the key, the networks let through despite being private, a resolver, and who we are."""

    key: Ed25519PrivateKey
    allowed: tuple[Network, ...] = ()
    resolve: Resolver = system_resolver
    process: str = ""
    timeout: float = 10.0


def claim_due(engine: Engine, process: str, now: float, limit: int = 20) -> list[tuple[str, int]]:
    """(event id, endpoint id) of up to `limit` due deliveries this process now holds for CLAIM_SECONDS."""
    free = sa.or_(DELIVERIES.c.claimed_until.is_(None), DELIVERIES.c.claimed_until < now)
    with engine.connect() as conn:
        due = conn.execute(
            sa.select(DELIVERIES.c.event_id, DELIVERIES.c.endpoint_id)
            .join(EVENTS, EVENTS.c.id == DELIVERIES.c.event_id)
            .where(DELIVERIES.c.status == "pending", DELIVERIES.c.next_attempt_at <= now, free)
            .order_by(DELIVERIES.c.next_attempt_at, EVENTS.c.seq, EVENTS.c.created_at)
            .limit(limit)
        ).all()
    claimed = []
    for event_id, endpoint_id in due:
        with engine.begin() as conn:  # a row another process claimed first fails the WHERE and updates nothing
            won = conn.execute(
                sa.update(DELIVERIES)
                .where(
                    DELIVERIES.c.event_id == event_id,
                    DELIVERIES.c.endpoint_id == endpoint_id,
                    DELIVERIES.c.status == "pending",
                    free,
                )
                .values(claimed_by=process[:64], claimed_until=now + CLAIM_SECONDS)
            ).rowcount
        if won:
            claimed.append((event_id, endpoint_id))
    return claimed


def send_one(engine: Engine, sender: Sender, event_id: str, endpoint_id: int) -> str:
    """Attempt one claimed delivery and record it; the delivery's new status, or "lost" when this process no longer
    holds the claim (it expired: another process sends the event, or already has)."""
    with engine.connect() as conn:
        event = conn.execute(sa.select(EVENTS).where(EVENTS.c.id == event_id)).first()
        endpoint = conn.execute(sa.select(ENDPOINTS).where(ENDPOINTS.c.id == endpoint_id)).first()
        attempts = conn.execute(
            sa.select(DELIVERIES.c.attempts).where(DELIVERIES.c.event_id == event_id, DELIVERIES.c.endpoint_id == endpoint_id)
        ).scalar()
    if event is None or endpoint is None or not endpoint.enabled:
        return _finish(
            engine, sender, event_id, endpoint_id, "disabled", attempts or 0, None, "the endpoint was removed or disabled", 0.0
        )
    begun = _begin_attempt(engine, sender.process, event_id, endpoint_id)
    if begun is None:
        return "lost"
    attempt_id, attempts = begun
    started = time.time()
    status_code, error = None, None
    body = event.body.encode()
    try:
        target = check_target(endpoint.url, sender.allowed, sender.resolve)  # resolved again now, and pinned
        timestamp = int(time.time())
        headers = {
            "webhook-id": event.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(sender.key, event.id, timestamp, body),
            "User-Agent": USER_AGENT,
        }
        answer = post(target, body, headers, sender.timeout)
        status_code, error = answer.status, answer.redirect_words()
    except TargetRefused as exc:
        error = str(exc)
    except Exception as exc:  # no answer: a refusal, a timeout, a broken connection, a TLS failure (logged below)
        error = f"no answer: {type(exc).__name__}: {exc}"[:300]  # names no path: an endpoint's path may hold its token
    seconds = time.time() - started
    if status_code is not None and 200 <= status_code < 300:
        status = "delivered"
    elif status_code == 410:
        status = "disabled"
    else:
        status = "pending" if attempts <= len(RETRY_DELAYS) else "failed"
    return _finish(engine, sender, event_id, endpoint_id, status, attempts, status_code, error, seconds, attempt_id)


def _begin_attempt(engine: Engine, process: str, event_id: str, endpoint_id: int) -> tuple[int, int] | None:
    """(attempt log row, attempts so far including this one) for an attempt about to be sent, or None when `process`
    no longer holds the claim. In one transaction: the claim is checked and renewed for CLAIM_SECONDS (a process slowed
    past its claim, e.g. by earlier endpoints of its batch, must not send what another process claimed since), the
    attempt is counted, and logged as IN_FLIGHT before the request leaves, so an attempt whose process dies before the
    answer is recorded stays in the log (as INTERRUPTED once another process holds the delivery)."""
    now = time.time()
    delivery = DELIVERIES.c.event_id == event_id, DELIVERIES.c.endpoint_id == endpoint_id
    with engine.begin() as conn:
        held = DELIVERIES.c.claimed_by == process[:64], DELIVERIES.c.claimed_until >= now, DELIVERIES.c.status == "pending"
        renewed = conn.execute(
            sa.update(DELIVERIES)
            .where(*delivery, *held)
            .values(claimed_until=now + CLAIM_SECONDS, attempts=DELIVERIES.c.attempts + 1)
        ).rowcount
        if not renewed:
            return None
        # Another process's attempt still in flight lost its claim: it stopped (or outlived its claim) unanswered.
        conn.execute(
            sa.update(ATTEMPTS)
            .where(ATTEMPTS.c.event_id == event_id, ATTEMPTS.c.endpoint_id == endpoint_id, ATTEMPTS.c.error == IN_FLIGHT)
            .values(error=INTERRUPTED)
        )
        attempts = conn.execute(sa.select(DELIVERIES.c.attempts).where(*delivery)).scalar_one()
        attempt_id = conn.execute(
            sa.insert(ATTEMPTS)
            .values(event_id=event_id, endpoint_id=endpoint_id, at=now, error=IN_FLIGHT, seconds=0.0, process=process[:64])
            .returning(ATTEMPTS.c.id)
        ).scalar_one()
    return attempt_id, attempts


def _finish(
    engine: Engine,
    sender: Sender,
    event_id: str,
    endpoint_id: int,
    status: str,
    attempts: int,
    status_code: int | None,
    error: str | None,
    seconds: float,
    attempt_id: int | None = None,
) -> str:
    """Record an attempt's outcome: its log row (`attempt_id`, begun by _begin_attempt, or a new row) and, while this
    process still holds the claim, the delivery's status; the status, or "lost" (another process's record stands)."""
    now = time.time()
    values: dict = {"status": status, "attempts": attempts, "claimed_by": None, "claimed_until": None}
    if status == "delivered":
        values["delivered_at"] = now
    if status == "pending":
        values["next_attempt_at"] = now + RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    with engine.begin() as conn:
        if attempt_id is not None:  # what the endpoint answered is logged even if the claim was lost meanwhile
            conn.execute(
                sa.update(ATTEMPTS)
                .where(ATTEMPTS.c.id == attempt_id)
                .values(status_code=status_code, error=error, seconds=seconds)
            )
        mine = DELIVERIES.c.claimed_by == sender.process[:64] if attempt_id is not None else sa.true()
        recorded = conn.execute(
            sa.update(DELIVERIES)
            .where(DELIVERIES.c.event_id == event_id, DELIVERIES.c.endpoint_id == endpoint_id, mine)
            .values(**values)
        ).rowcount
        if not recorded:
            return "lost"
        if attempt_id is None and (status_code is not None or error is not None):
            conn.execute(
                sa.insert(ATTEMPTS).values(
                    event_id=event_id,
                    endpoint_id=endpoint_id,
                    at=now,
                    status_code=status_code,
                    error=error,
                    seconds=seconds,
                    process=sender.process[:64],
                )
            )
        if status_code == 410:  # Gone: the receiver asks for no more, now or later
            conn.execute(
                sa.update(ENDPOINTS)
                .where(ENDPOINTS.c.id == endpoint_id)
                .values(
                    enabled=False,
                    disabled_reason=f"answered 410 Gone to {event_id} at {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(now))}",
                )
            )
            conn.execute(
                sa.update(DELIVERIES)
                .where(DELIVERIES.c.endpoint_id == endpoint_id, DELIVERIES.c.status == "pending")
                .values(status="disabled", claimed_by=None, claimed_until=None)
            )
    return status


def deliver_due(engine: Engine, sender: Sender) -> int:
    """Claim and send every delivery due now; how many were attempted."""
    sent = 0
    while claimed := claim_due(engine, sender.process, time.time()):
        for event_id, endpoint_id in claimed:
            send_one(engine, sender, event_id, endpoint_id)
            sent += 1
    return sent


def replay(engine: Engine, event_id: str, endpoint_id: int | None = None) -> int:
    """Send an event again, with its original id, to one endpoint or every enabled endpoint that had it; how many
    deliveries were put back in the queue. A replay starts the retry schedule afresh (the log keeps every attempt):
    a delivery that had failed for good is otherwise given up after its first failure again."""
    with engine.begin() as conn:
        enabled = sa.select(ENDPOINTS.c.id).where(ENDPOINTS.c.enabled.is_(True))
        query = (
            sa.update(DELIVERIES)
            .where(DELIVERIES.c.event_id == event_id, DELIVERIES.c.endpoint_id.in_(enabled))
            .values(status="pending", attempts=0, next_attempt_at=time.time(), claimed_by=None, claimed_until=None)
        )
        if endpoint_id is not None:
            query = query.where(DELIVERIES.c.endpoint_id == endpoint_id)
        return conn.execute(query).rowcount


class HookWorker:
    """The outbox and deliveries in a thread of an API process; any number of processes may run one."""

    def __init__(self, engine: Engine, sender: Sender, public_url: str = "", interval: float = 1.0):
        self.engine, self.sender, self.public_url, self.interval = engine, sender, public_url, interval
        self.stop_event = threading.Event()
        self.last_error: str | None = None
        self.thread = threading.Thread(target=self._run, name="commons-hooks", daemon=True)

    def step(self) -> None:
        sync_outbox(self.engine, self.public_url)
        deliver_due(self.engine, self.sender)

    def _run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.step()
                self.last_error = None
            except Exception as exc:  # a database hiccup: report (no URL: it may hold a token), try again
                self.last_error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
                log.warning("webhooks: %s", self.last_error)
            self.stop_event.wait(self.interval)

    def start(self) -> "HookWorker":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=15)


def start_worker(engine: Engine, settings) -> HookWorker | None:
    """A running HookWorker with the key and allowed networks of `settings`; None (with a warning) when the signing
    key is unusable, so the API still serves."""
    from api.hooks.signing import signing_key
    from api.hooks.targets import parse_networks
    from governance.errors import ConfigurationError

    try:
        sender = Sender(signing_key(settings), parse_networks(settings.webhook_allowed_networks), process=process_name())
    except (ConfigurationError, ValueError, OSError) as exc:
        log.warning("webhooks are off: %s", exc)
        return None
    return HookWorker(engine, sender, settings.public_url).start()
