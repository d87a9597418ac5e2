"""One member's subscription: read, saved and deleted by that member (after sign-in) or deleted by an unsubscribe
link; and counts for operators, which name no one."""

import re
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from api.cache.tables import MEMBERS
from api.reminders.tables import SENT, SUBSCRIPTIONS
from governance.errors import InvalidInput

# A deliberately plain address: one @, no spaces, quotes, brackets, commas or control characters (so it can never
# carry a second recipient or a header), and a dotted domain.
EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+"
)
MAX_HOURS_BEFORE_CLOSE = 24 * 14


@dataclass(frozen=True)
class Preferences:
    email: str
    vote_opened: bool = True
    hours_before_close: int = 24
    delegate_not_voted: bool = True

    def checked(self) -> "Preferences":
        """These preferences, or InvalidInput with a sentence."""
        email = self.email.strip()
        # "=?" starts an RFC 2047 encoded word, which the mail library decodes when it writes the To header: an
        # address like =?utf-8?q?a=0A…?=@x.org would become a line feed and a header (or a message never written).
        if len(email) > 254 or not EMAIL.fullmatch(email) or "=?" in email:
            raise InvalidInput("That is not an email address this page can send to (name@example.org).")
        if not 0 <= self.hours_before_close <= MAX_HOURS_BEFORE_CLOSE:
            raise InvalidInput(f"The reminder before a close must be between 0 (none) and {MAX_HOURS_BEFORE_CLOSE} hours.")
        return Preferences(email, self.vote_opened, self.hours_before_close, self.delegate_not_voted)


def read(engine: Engine, address: str) -> dict | None:
    """`address`'s subscription (with its email address: for that member only), or None."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.address == address)).mappings().first()
    return dict(row) if row else None


def save(engine: Engine, address: str, preferences: Preferences) -> dict:
    """Subscribe `address`, or change its subscription; the subscription as read back. A new email address waits for
    its owner's confirmation (confirmed_at None) before anything is sent to it; the same one stays as it was."""
    prefs = preferences.checked()
    now = time.time()
    values: dict = {
        "email": prefs.email,
        "vote_opened": prefs.vote_opened,
        "hours_before_close": prefs.hours_before_close,
        "delegate_not_voted": prefs.delegate_not_voted,
        "updated_at": now,
    }
    with engine.begin() as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(SUBSCRIPTIONS).values(address=address, created_at=now, **values)
        changed = {"confirmed_at": sa.case((SUBSCRIPTIONS.c.email == prefs.email, SUBSCRIPTIONS.c.confirmed_at), else_=None)}
        conn.execute(insert.on_conflict_do_update(index_elements=["address"], set_={**changed, **values}))
    saved = read(engine, address)
    assert saved is not None
    return saved


def delete(engine: Engine, address: str, email: str | None = None) -> bool:
    """Forget `address`'s subscription (only while its email is `email`, when given) and its pending reminders;
    whether there was one (deleting twice is fine)."""
    which = [SUBSCRIPTIONS.c.address == address] + ([SUBSCRIPTIONS.c.email == email] if email is not None else [])
    with engine.begin() as conn:
        if not conn.execute(sa.delete(SUBSCRIPTIONS).where(*which)).rowcount:
            return False
        conn.execute(sa.delete(SENT).where(SENT.c.address == address, SENT.c.status == "pending"))
        return True


def confirm(engine: Engine, address: str, email: str) -> bool:
    """Mark `address`'s subscription confirmed, while its email is still `email`; whether it is confirmed now."""
    with engine.begin() as conn:
        mine = SUBSCRIPTIONS.c.address == address, SUBSCRIPTIONS.c.email == email
        conn.execute(
            sa.update(SUBSCRIPTIONS).where(*mine, SUBSCRIPTIONS.c.confirmed_at.is_(None)).values(confirmed_at=time.time())
        )
        return conn.execute(sa.select(SUBSCRIPTIONS.c.confirmed_at).where(*mine)).scalar() is not None


def forget_former_members(conn: Connection) -> int:
    """Delete the subscriptions (email addresses: private, with no purpose left) of accounts that are not a member at
    the indexed block, and their pending reminders; how many."""
    current = sa.select(MEMBERS.c.address).where(MEMBERS.c.is_member.is_(True))
    gone = [a for (a,) in conn.execute(sa.select(SUBSCRIPTIONS.c.address).where(SUBSCRIPTIONS.c.address.not_in(current)))]
    if gone:
        conn.execute(sa.delete(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.address.in_(gone)))
        conn.execute(sa.delete(SENT).where(SENT.c.address.in_(gone), SENT.c.status == "pending"))
    return len(gone)


def counts(engine: Engine) -> dict:
    """Subscribers (and how many of them have not confirmed their address), and reminders by kind and status: numbers
    only, no address or email."""
    with engine.connect() as conn:
        subscribers = conn.execute(sa.select(sa.func.count()).select_from(SUBSCRIPTIONS)).scalar() or 0
        waiting = sa.select(sa.func.count()).select_from(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.confirmed_at.is_(None))
        unconfirmed = conn.execute(waiting).scalar() or 0
        rows = conn.execute(sa.select(SENT.c.kind, SENT.c.status, sa.func.count()).group_by(SENT.c.kind, SENT.c.status)).all()
    reminders: dict[str, dict[str, int]] = {}
    for kind, status, count in rows:
        reminders.setdefault(kind, {})[status] = count
    return {"subscribers": subscribers, "unconfirmed": unconfirmed, "reminders": reminders}
