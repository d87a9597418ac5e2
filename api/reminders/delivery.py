"""Sending reminders: due ones are claimed one by one (a conditional UPDATE, so one process sends each, as webhook
deliveries are claimed), checked again against the cache at that moment (a ballot indexed since, an unsubscribe, a
close passed: nothing is sent), mailed, and recorded. A failed send is retried a few times while the vote is open.
The worker thread runs the pass and the sending in each API process."""

import logging
import threading
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api.cache.queries import in_state
from api.cache.tables import MEMBERS, PROPOSALS, VOTES
from api.hooks.delivery import CLAIM_SECONDS, process_name
from api.hooks.outbox import links, message_id
from api.reminders.due import clock, record_due
from api.reminders.mail import Reminder, Smtp, email_message, hide_emails
from api.reminders.tables import SENT, SUBSCRIPTIONS
from api.reminders.tokens import reminder_secret, unsubscribe_token

log = logging.getLogger("commons.reminders")
RETRY_DELAYS = (60, 300, 1800, 3600)


@dataclass(frozen=True)
class Mailer:
    """What sending needs: the SMTP server, the HMAC secret of unsubscribe links, where the page is, and who we are."""

    smtp: Smtp
    secret: bytes = field(repr=False)
    public_url: str = ""
    process: str = ""


def duration_words(seconds: int) -> str:
    """'2 days', '5 hours', '40 minutes' (rounded down; at least a minute)."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size or unit == "minute":
            count = max(1, seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    raise AssertionError("unreachable")


def unsubscribe_url(mailer: Mailer, address: str, email: str) -> str:
    base = mailer.public_url.rstrip("/")
    return f"{base}/api/reminders/unsubscribe?address={address}&token={unsubscribe_token(mailer.secret, address, email)}"


def claim_due(engine: Engine, process: str, now: float, limit: int = 20) -> list[tuple[str, str, str]]:
    """(address, proposal id, kind) of up to `limit` due reminders this process now holds for CLAIM_SECONDS."""
    free = sa.or_(SENT.c.claimed_until.is_(None), SENT.c.claimed_until < now)
    with engine.connect() as conn:
        due = conn.execute(
            sa.select(SENT.c.address, SENT.c.proposal_id, SENT.c.kind)
            .where(SENT.c.status == "pending", SENT.c.next_attempt_at <= now, free)
            .order_by(SENT.c.next_attempt_at)
            .limit(limit)
        ).all()
    claimed = []
    for key in due:
        with engine.begin() as conn:  # a row another process claimed first fails the WHERE and updates nothing
            won = conn.execute(
                sa.update(SENT)
                .where(*_key(*key), SENT.c.status == "pending", free)
                .values(claimed_by=process[:64], claimed_until=now + CLAIM_SECONDS)
            ).rowcount
        if won:
            claimed.append(tuple(key))
    return claimed


def _key(address: str, proposal_id: str, kind: str) -> tuple:
    return SENT.c.address == address, SENT.c.proposal_id == proposal_id, SENT.c.kind == kind


def _prepare(engine: Engine, mailer: Mailer, address: str, proposal_id: str, kind: str) -> tuple[str, Reminder | None, str]:
    """(status to record if nothing is sent, the reminder, the recipient): the cache read again now."""
    with engine.connect() as conn:
        subscription = conn.execute(sa.select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.address == address)).first()
        member = conn.execute(sa.select(MEMBERS).where(MEMBERS.c.address == address)).first()
        proposal = conn.execute(sa.select(PROPOSALS).where(PROPOSALS.c.proposal_id == proposal_id)).first()
        unconfirmed = subscription is None or subscription.confirmed_at is None
        if unconfirmed or member is None or not member.is_member or proposal is None:
            return "gone", None, ""
        now = clock(conn) or 0
        delegate = member.delegate if kind == "delegate" else None
        voters = {address} | ({delegate} if delegate else set())
        if conn.execute(sa.select(VOTES.c.id).where(VOTES.c.proposal_id == proposal_id, VOTES.c.voter.in_(voters))).first():
            return "voted", None, ""
        still_open = conn.execute(
            sa.select(PROPOSALS.c.proposal_id).where(PROPOSALS.c.proposal_id == proposal_id, in_state("active", now))
        ).first()
        if still_open is None:
            return "closed", None, ""
        handle = conn.execute(sa.select(MEMBERS.c.handle).where(MEMBERS.c.address == delegate)).scalar() if delegate else None
    page = links(mailer.public_url, proposal.number)
    reminder = Reminder(
        kind=kind,
        number=proposal.number,
        title=proposal.title,
        closes_in=duration_words(int(proposal.deadline) - now),
        delegate=f"@{handle}" if handle else delegate,
        page=page["page"],
        audit=page["audit"],
        transaction=proposal.created_tx,
        block_number=proposal.created_block,
        unsubscribe=unsubscribe_url(mailer, address, subscription.email),
    )
    return "pending", reminder, subscription.email


def send_one(engine: Engine, mailer: Mailer, address: str, proposal_id: str, kind: str) -> str:
    """Send one claimed reminder unless its ballot is indexed (or it is otherwise moot); its new status, or "lost"
    when this process no longer holds the claim (another sends it)."""
    if not _still_held(engine, mailer.process, (address, proposal_id, kind)):
        return "lost"
    status, reminder, recipient = _prepare(engine, mailer, address, proposal_id, kind)
    error = None
    if reminder is not None:
        try:  # writing it too: an address the mail library refuses is this reminder's failure, not the worker's
            message = email_message(reminder, mailer.smtp.sender, recipient, message_id(address, proposal_id, kind))
            mailer.smtp.send(message)
            status = "sent"
        except Exception as exc:  # refused, unreachable, TLS, unwritable: recorded (no email address) and retried
            error = hide_emails(f"{type(exc).__name__}: {exc}")[:300]
            log.warning("reminders: the %s reminder of #%s was not sent: %s", kind, reminder.number, error)
    return _finish(engine, mailer.process, (address, proposal_id, kind), status, error)


def _still_held(engine: Engine, process: str, key: tuple[str, str, str]) -> bool:
    """Whether `process` still holds its claim on `key` (renewed for CLAIM_SECONDS): a process slowed past its claim
    (a stalling SMTP server) while another claimed the reminder since must not send it a second time."""
    now = time.time()
    with engine.begin() as conn:
        held = SENT.c.claimed_by == process[:64], SENT.c.claimed_until >= now, SENT.c.status == "pending"
        return bool(conn.execute(sa.update(SENT).where(*_key(*key), *held).values(claimed_until=now + CLAIM_SECONDS)).rowcount)


def _finish(engine: Engine, process: str, key: tuple[str, str, str], status: str, error: str | None) -> str:
    now = time.time()
    with engine.begin() as conn:
        attempts = conn.execute(sa.select(SENT.c.attempts).where(*_key(*key))).scalar() or 0
        values: dict = {"status": status, "claimed_by": None, "claimed_until": None, "error": error}
        if status == "sent":
            values["sent_at"] = now
        if error is not None:
            attempts += 1
            values["status"] = "pending" if attempts <= len(RETRY_DELAYS) else "failed"
            values["next_attempt_at"] = now + RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
        mine = SENT.c.claimed_by == process[:64]  # another process took it over meanwhile: its record stands
        if not conn.execute(sa.update(SENT).where(*_key(*key), mine).values(attempts=attempts, **values)).rowcount:
            return "lost"
    return values["status"]


def send_due(engine: Engine, mailer: Mailer) -> int:
    """Claim and send every reminder due now; how many were looked at."""
    done = 0
    while claimed := claim_due(engine, mailer.process, time.time()):
        for key in claimed:
            send_one(engine, mailer, *key)
            done += 1
    return done


class ReminderWorker:
    """The pass and the sending in a thread of an API process; any number of processes may run one."""

    def __init__(self, engine: Engine, mailer: Mailer, interval: float = 5.0):
        self.engine, self.mailer, self.interval = engine, mailer, interval
        self.stop_event = threading.Event()
        self.last_error: str | None = None
        self.thread = threading.Thread(target=self._run, name="commons-reminders", daemon=True)

    def step(self) -> None:
        record_due(self.engine)
        send_due(self.engine, self.mailer)

    def _run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.step()
                self.last_error = None
            except Exception as exc:  # a database hiccup: report (no address), try again
                self.last_error = hide_emails(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")
                log.warning("reminders: %s", self.last_error)
            self.stop_event.wait(self.interval)

    def start(self) -> "ReminderWorker":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=15)


def start_worker(engine: Engine, settings, interval: float = 5.0) -> ReminderWorker | None:
    """A running ReminderWorker for `settings`; None (with a sentence in the log) when no SMTP server is set or the
    secret is unusable, so the API still serves."""
    from governance.errors import ConfigurationError

    try:
        mailer = Mailer(Smtp.from_settings(settings), reminder_secret(settings), settings.public_url, process_name())
    except (ConfigurationError, OSError) as exc:
        log.info("email reminders are off: %s", exc)
        return None
    if not settings.public_url:
        log.warning("reminders: COMMONS_PUBLIC_URL is not set, so the links in reminders are paths without a host")
    return ReminderWorker(engine, mailer, interval).start()
