"""Double opt-in: a saved email address gets one message with a confirmation link, and no reminder goes to it until
its owner confirms (a GET of the link shows a button, the POST confirms: a mail scanner fetching links confirms
nothing). Mailing that link is rate-limited per member (RESEND_SECONDS between two, whichever address), so a member
cannot use this commons to mail a stranger again and again; the message says who asked and that ignoring it is safe."""

import time
from email.message import EmailMessage
from email.utils import formatdate

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api.cache.tables import MEMBERS
from api.reminders.mail import POLICY, Smtp, one_line
from api.reminders.tables import SUBSCRIPTIONS
from api.reminders.tokens import CONFIRM_SECONDS, confirm_token

RESEND_SECONDS = 600


class TooSoon(Exception):
    """A confirmation was mailed less than RESEND_SECONDS ago; `wait` seconds remain."""

    def __init__(self, wait: int):
        super().__init__(
            f"A confirmation was sent less than {RESEND_SECONDS // 60} minutes ago: ask again in {wait // 60 + 1} minutes."
        )
        self.wait = wait


def confirm_url(public_url: str, secret: bytes, address: str, email: str) -> str:
    token = confirm_token(secret, address, email)
    return f"{public_url.rstrip('/')}/api/reminders/confirm?address={address}&token={token}"


def confirmation_message(sender: str, recipient: str, handle: str | None, address: str, url: str) -> EmailMessage:
    """The confirmation email: who asked (@handle and account), the link, and that ignoring it is safe. Headers hold
    only fixed words and the checked recipient, so nothing a member chose (a handle) can reach them."""
    who = f"@{one_line(handle, 64)} ({address})" if handle else address
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = "Confirm your email address for reminders of votes"
    message["Date"] = formatdate(usegmt=True)
    message["Auto-Submitted"] = "auto-generated"
    text = [
        f"The member {who} of this commons asked for reminders of votes to be sent to this email address.",
        "",
        f"If that is you, confirm it here (the page has one button): {url}",
        f"The link works for {CONFIRM_SECONDS // 3600} hours.",
        "",
        "If it was not you, ignore this email: it is safe to. Nothing more will be sent to this address unless it is "
        "confirmed, and no one learns whether you opened it.",
        "",
    ]
    message.set_content("\n".join(text), cte="quoted-printable")
    return message


def send_confirmation(engine: Engine, smtp: Smtp, secret: bytes, public_url: str, address: str) -> bool:
    """Mail the confirmation link to `address`'s unconfirmed email. False when there is nothing to confirm; TooSoon
    when one was mailed less than RESEND_SECONDS ago (the slot is taken by a conditional UPDATE, so two requests at
    once send one); smtplib.SMTPException or OSError when the server refuses it (the slot is given back)."""
    now = time.time()
    with engine.begin() as conn:
        row = conn.execute(sa.select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.address == address)).first()
        if row is None or row.confirmed_at is not None:
            return False
        free = sa.or_(
            SUBSCRIPTIONS.c.confirmation_sent_at.is_(None), SUBSCRIPTIONS.c.confirmation_sent_at <= now - RESEND_SECONDS
        )
        mine = SUBSCRIPTIONS.c.address == address, SUBSCRIPTIONS.c.email == row.email, SUBSCRIPTIONS.c.confirmed_at.is_(None)
        if not conn.execute(sa.update(SUBSCRIPTIONS).where(*mine, free).values(confirmation_sent_at=now)).rowcount:
            last = conn.execute(sa.select(SUBSCRIPTIONS.c.confirmation_sent_at).where(*mine)).scalar()
            raise TooSoon(int((last or now) + RESEND_SECONDS - now))
        handle = conn.execute(sa.select(MEMBERS.c.handle).where(MEMBERS.c.address == address)).scalar()
    message = confirmation_message(smtp.sender, row.email, handle, address, confirm_url(public_url, secret, address, row.email))
    try:
        smtp.send(message)
    except Exception:
        with engine.begin() as conn:  # not sent: the member may ask again at once
            taken = SUBSCRIPTIONS.c.address == address, SUBSCRIPTIONS.c.confirmation_sent_at == now
            conn.execute(sa.update(SUBSCRIPTIONS).where(*taken).values(confirmation_sent_at=row.confirmation_sent_at))
        raise
    return True
