"""The reminders' HMAC secret, and what it signs: a sign-in session (an address until a time), an unsubscribe
token (an address and its email, for ever) and a confirmation token (an address and its email until a time). Neither is stored: any API process holding the secret checks them."""

import base64
import hashlib
import hmac
import secrets
import time
from pathlib import Path

from governance.config import Settings
from governance.errors import ConfigurationError
from governance.keys import secret_file_text

SESSION_SECONDS = 3600
CONFIRM_SECONDS = 2 * 86400


def reminder_secret(settings: Settings) -> bytes:
    """COMMONS_REMINDER_SECRET, else the key file (COMMONS_REMINDER_KEY_FILE, default in the state directory), made
    with mode 0600 on first use. Raises ConfigurationError for an empty one."""
    if settings.reminder_secret is not None:
        text = settings.reminder_secret.get_secret_value().strip()
    else:
        path = Path(settings.reminder_key_file or settings.state_dir / "reminder-secret.key")
        text = secret_file_text(path, lambda: secrets.token_urlsafe(32))
    if len(text) < 16:
        raise ConfigurationError("The reminder secret must be at least 16 characters (COMMONS_REMINDER_SECRET).")
    return text.encode()


def _mac(secret: bytes, purpose: str, text: str) -> str:
    digest = hmac.new(secret, f"{purpose}:{text}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def session_token(secret: bytes, address: str, now: float | None = None) -> tuple[str, int]:
    """A bearer token for `address`, and when it expires (SESSION_SECONDS from now)."""
    expires = int((now or time.time()) + SESSION_SECONDS)
    return f"{address}.{expires}.{_mac(secret, 'session', f'{address}.{expires}')}", expires


def session_address(secret: bytes, token: str, now: float | None = None) -> str | None:
    """The address a valid, unexpired session token names; None for anything else."""
    address, _, rest = token.partition(".")
    expires, _, mac = rest.partition(".")
    if not (expires.isascii() and expires.isdigit()) or int(expires) <= (now or time.time()):  # not '²' or '١'
        return None
    expected = _mac(secret, "session", f"{address}.{expires}")
    return address if hmac.compare_digest(mac.encode(), expected.encode()) else None  # bytes: any text is compared


def unsubscribe_token(secret: bytes, address: str, email: str) -> str:
    """The token in the unsubscribe links of reminders to `address` at `email`: it needs no signature and never
    expires. Its first part shows the link is ours, its second that it went to `email`, so a link mailed to an
    address the member has since replaced (an old or shared mailbox) cannot stop the reminders they get now."""
    return f"{_mac(secret, 'unsubscribe', address)}.{_mac(secret, 'unsubscribe-email', f'{address} {email}')[:16]}"


def unsubscribe_valid(secret: bytes, address: str, token: str) -> bool:
    """Whether `token` is from an unsubscribe link this commons wrote for `address` (to whichever email)."""
    ours = _mac(secret, "unsubscribe", address)
    return hmac.compare_digest(token.encode()[: len(ours) + 1], f"{ours}.".encode())


def unsubscribe_reaches(secret: bytes, address: str, email: str, token: str) -> bool:
    """Whether `token`, from a link this commons wrote for `address`, was sent to `email`."""
    return hmac.compare_digest(token.encode(), unsubscribe_token(secret, address, email).encode())


def confirm_token(secret: bytes, address: str, email: str, now: float | None = None) -> str:
    """The token of the link that confirms `email` for `address`, valid CONFIRM_SECONDS. The email address is bound in
    the HMAC, not written in the link (which web servers log): the link confirms only the address it was mailed to."""
    expires = int((now or time.time()) + CONFIRM_SECONDS)
    return f"{expires}.{_mac(secret, 'confirm', f'{address} {email} {expires}')}"


def confirm_valid(secret: bytes, address: str, email: str, token: str, now: float | None = None) -> bool:
    """Whether `token` is from an unexpired confirmation link this commons mailed for `address` to `email`."""
    expires, _, mac = token.partition(".")
    if not (expires.isascii() and expires.isdigit()) or int(expires) <= (now or time.time()):
        return False
    return hmac.compare_digest(mac.encode(), _mac(secret, "confirm", f"{address} {email} {expires}").encode())
