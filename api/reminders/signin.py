"""Sign-in with Ethereum for reminders: the API writes the EIP-4361 message with a nonce it signs, and takes back
the signed message only for this page's domain and URI, the commons' chain, in time, signed by the account it
names, that account a current member, and its nonce one this API signed, unexpired and unspent (spent in the same
step, so a copy is refused). Only spent nonces are stored."""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from api.cache.tables import CURSOR, MEMBERS
from api.reminders.tables import NONCES
from governance import siwe
from governance.siwe import SiweRefused

NONCE_SECONDS = 600
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
STATEMENT = "Sign in to choose email reminders of votes. This costs nothing and sends no transaction."


@dataclass(frozen=True)
class Origin:
    """Where the page is served from: `domain` is host[:port], `uri` the scheme, host and port."""

    domain: str
    uri: str

    @classmethod
    def of(cls, url: str) -> "Origin":
        scheme, _, rest = url.partition("://")
        domain = rest.split("/", 1)[0]
        return cls(domain, f"{scheme}://{domain}")

    @classmethod
    def of_page(cls, public_url: str, request_url: str) -> "Origin":
        """The origin sign-in messages are written for and checked against: `public_url`'s when set. Without one, the
        URL a request came to, which its Host header names, is believed only for this machine (localhost, 127.0.0.1,
        [::1]): a phishing site would otherwise ask for a message with `Host: its own name`, have it signed on its page
        (the wallet seeing its own domain warns no one) and relay it here. SiweRefused (503) for any other host."""
        if public_url:
            return cls.of(public_url)
        origin = cls.of(request_url)
        domain = origin.domain.lower()
        host = domain[: domain.find("]") + 1] if domain.startswith("[") else domain.split(":", 1)[0]
        if host not in LOOPBACK_HOSTS or not siwe.DOMAIN.fullmatch(domain):
            raise SiweRefused(
                "reminders_unavailable",
                "Sign-in for email reminders needs the page's address: the operator sets COMMONS_PUBLIC_URL "
                "(e.g. https://garden.example.org).",
                503,
            )
        return origin


def _chain_id(conn) -> int:
    chain_id = conn.execute(sa.select(CURSOR.c.chain_id).where(CURSOR.c.id == 1)).scalar()
    if chain_id is None:
        raise SiweRefused("not_indexed", "The commons has not been indexed yet: sign in a little later.", 503)
    return int(chain_id)


def is_member(conn, address: str) -> bool:
    """Whether `address` is a member at the indexed block."""
    return bool(conn.execute(sa.select(MEMBERS.c.is_member).where(MEMBERS.c.address == address)).scalar())


def _nonce_mac(secret: bytes, address: str, expires: str, salt: str) -> str:
    return hmac.new(secret, f"siwe-nonce:{address}:{expires}:{salt}".encode(), hashlib.sha256).hexdigest()[:32]


def make_nonce(secret: bytes, address: str, expires: int) -> str:
    """A nonce for `address` valid until `expires`, which says so itself: its expiry (8 hex digits), 16 random hex
    digits and an HMAC of the three. Nothing is stored when one is issued, so asking for messages fills no table."""
    stamp, salt = f"{expires:08x}", secrets.token_hex(8)
    return stamp + salt + _nonce_mac(secret, address, stamp, salt)


def nonce_expiry(secret: bytes, address: str, nonce: str) -> int | None:
    """When a nonce this API issued to `address` expires; None for any other nonce."""
    stamp, salt, mac = nonce[:8], nonce[8:24], nonce[24:]
    if len(nonce) != 56 or not all(c in "0123456789abcdef" for c in nonce):
        return None
    return int(stamp, 16) if hmac.compare_digest(mac, _nonce_mac(secret, address, stamp, salt)) else None


def issue(engine: Engine, origin: Origin, address: str, secret: bytes, now: float | None = None) -> siwe.SiweMessage:
    """A new message for `address` to sign, its nonce valid for NONCE_SECONDS (signed, not stored)."""
    now = time.time() if now is None else now
    with engine.connect() as conn:
        chain_id = _chain_id(conn)
    return siwe.SiweMessage(
        domain=origin.domain,
        address=address,
        statement=STATEMENT,
        uri=origin.uri,
        chain_id=chain_id,
        nonce=make_nonce(secret, address, int(now + NONCE_SECONDS)),
        issued_at=siwe.iso(now),
        expiration_time=siwe.iso(now + NONCE_SECONDS),
    )


def sign_in(engine: Engine, origin: Origin, text: str, signature: str, secret: bytes, now: float | None = None) -> str:
    """The member's address once `text` (an EIP-4361 message) and its `signature` pass every check; its nonce is
    spent (kept until it expires, so a copy is refused). Raises SiweRefused with a sentence otherwise (nothing is
    spent then)."""
    now = time.time() if now is None else now
    message = siwe.parse(text)
    with engine.connect() as conn:
        chain_id = _chain_id(conn)
    siwe.check(message, signature, text, domain=origin.domain, uri=origin.uri, chain_id=chain_id, now=now)
    expires = nonce_expiry(secret, message.address, message.nonce)
    if expires is None:
        raise SiweRefused("unknown_nonce", "This page did not issue that sign-in nonce to this account: sign in again.", 401)
    if expires <= now:
        raise SiweRefused("nonce_used", "This sign-in message has expired: each one signs in once. Sign in again.", 401)
    with engine.begin() as conn:
        if not is_member(conn, message.address):
            raise SiweRefused("not_member", f"{message.address} is not a member of this commons: reminders are for members.", 403)
        conn.execute(sa.delete(NONCES).where(NONCES.c.expires_at < now))  # spent ones past use: nothing to keep
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        row = {"nonce": message.nonce, "address": message.address, "issued_at": expires - NONCE_SECONDS}
        spend = dialect.insert(NONCES).values(**row, expires_at=expires, used_at=now).on_conflict_do_nothing()
        # RETURNING, not rowcount (which psycopg reports as -1 for an INSERT … ON CONFLICT)
        if conn.execute(spend.returning(NONCES.c.nonce)).first() is None:  # a copy, here first or at the same time
            raise SiweRefused("nonce_used", "This sign-in message was already used: each one signs in once. Sign in again.", 401)
    return message.address
