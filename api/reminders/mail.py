"""A reminder as an email, and sending it through the operator's SMTP server.

Headers are built by `email.message.EmailMessage` under `policy.SMTP` (lines up to 998) from text with every control character
replaced, so a proposal title carrying CR/LF cannot add a header or a recipient; the body is plain text, so markup
in a title is shown, never run. Every message carries its proof (the proposal's page and transaction, the audit view)
and a one-click unsubscribe (RFC 8058) that needs no signature."""

import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import formatdate

from governance.config import Settings
from governance.errors import ConfigurationError

CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
EMAIL_IN_TEXT = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")
MAX_TITLE = 120
SECURITY = ("starttls", "ssl", "none")
LOOPBACK = ("127.0.0.1", "::1", "localhost")
# RFC 5322's hard limit: an unsubscribe URL has no space to fold at, and at 78 characters the header would be written
# as encoded words, which List-Unsubscribe (a URI in angle brackets) does not allow.
POLICY = policy.SMTP.clone(max_line_length=998)


def one_line(text: str, limit: int = MAX_TITLE) -> str:
    """`text` on one line: control characters (CR, LF, tabs…) become a space, and it is cut to `limit` characters."""
    flat = " ".join(CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def hide_emails(text: str) -> str:
    """`text` with any email address replaced by <email>: SMTP servers name the recipient in their refusals, and
    those words reach the record of attempts and the log."""
    return EMAIL_IN_TEXT.sub("<email>", text)


@dataclass(frozen=True)
class Smtp:
    """The operator's SMTP server (from settings); the password is never shown."""

    host: str
    port: int
    security: str
    sender: str
    user: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 20.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "Smtp":
        """The server of COMMONS_SMTP_*; ConfigurationError when reminders cannot be sent as configured."""
        if not settings.smtp_host:
            raise ConfigurationError("no SMTP server is set (COMMONS_SMTP_HOST)")
        if settings.smtp_security not in SECURITY:
            raise ConfigurationError(f"COMMONS_SMTP_SECURITY must be one of {', '.join(SECURITY)}")
        if not settings.smtp_from or "@" not in settings.smtp_from or CONTROL.search(settings.smtp_from):
            raise ConfigurationError("COMMONS_SMTP_FROM must be the address reminders come from")
        if settings.smtp_security == "none" and settings.smtp_user and settings.smtp_host not in LOOPBACK:
            raise ConfigurationError("COMMONS_SMTP_SECURITY=none would send the SMTP password unencrypted; use starttls or ssl")
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
        return cls(
            settings.smtp_host, settings.smtp_port, settings.smtp_security, settings.smtp_from, settings.smtp_user, password
        )

    def send(self, message: EmailMessage) -> None:
        """Hand `message` to the server; raises smtplib.SMTPException or OSError when it is not accepted."""
        context = ssl.create_default_context()
        if self.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.security == "starttls":
                client.starttls(context=context)
            if self.user:
                client.login(self.user, self.password)
            client.send_message(message)


@dataclass(frozen=True)
class Reminder:
    """What one reminder says, in words and links (links absolute when the public URL is set)."""

    kind: str
    number: int
    title: str
    closes_in: str
    delegate: str | None
    page: str
    audit: str
    transaction: str
    block_number: int
    unsubscribe: str


def subject(reminder: Reminder) -> str:
    title = one_line(reminder.title)
    if reminder.kind == "opened":
        return f"Vote open on #{reminder.number}: {title}"
    if reminder.kind == "delegate":
        return f"#{reminder.number} closes in {reminder.closes_in}: your delegate {reminder.delegate} has not voted"
    return f"#{reminder.number} closes in {reminder.closes_in} and you have not voted: {title}"


def body(reminder: Reminder) -> str:
    title = one_line(reminder.title, 300)
    if reminder.kind == "opened":
        lead = f"Voting has opened on #{reminder.number} “{title}”. It closes in {reminder.closes_in}."
    elif reminder.kind == "delegate":
        lead = (
            f"Voting on #{reminder.number} “{title}” closes in {reminder.closes_in}, and your delegate "
            f"{reminder.delegate} has not voted. Your vote is with them: ask them, or take it back before the next vote."
        )
    else:
        lead = f"Voting on #{reminder.number} “{title}” closes in {reminder.closes_in}, and you have not voted yet."
    return "\n".join(
        [
            lead,
            "",
            f"Read it and vote: {reminder.page}",
            "",
            "The proof, so you need not trust this email:",
            f"- proposed in transaction {reminder.transaction} (block {reminder.block_number})",
            f"- check this page against the chain: {reminder.audit}",
            "",
            "You get this because you asked for reminders of votes you have not cast; it stops as soon as your ballot "
            "is recorded.",
            f"Unsubscribe with one click: {reminder.unsubscribe}",
            "",
        ]
    )


def email_message(reminder: Reminder, sender: str, recipient: str, message_id: str) -> EmailMessage:
    """The email for `reminder` to `recipient`; `message_id` is fixed by the reminder, so a retry is the same mail."""
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject(reminder)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{message_id}@commons-ledger.invalid>"
    message["Auto-Submitted"] = "auto-generated"
    message["List-Unsubscribe"] = f"<{reminder.unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(body(reminder), cte="quoted-printable")
    return message
