"""Sign-In with Ethereum (EIP-4361) messages: written, read back strictly, and checked (domain, URI, chain, time,
signer); the single-use nonce is the caller's to keep. The `siwe` package pins web3 < 8, so this is our own.

A refusal is SiweRefused with a sentence and a code the API turns into a 4xx.
"""

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import is_checksum_address

from governance.errors import CommonsError

HEADER = " wants you to sign in with your Ethereum account:"
NONCE = re.compile(r"[A-Za-z0-9]{8,64}")
DOMAIN = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")
MAX_MESSAGE = 2000
CLOCK_SKEW_SECONDS = 60  # a wallet's clock a minute ahead of ours is not a reason to refuse


class SiweRefused(CommonsError):
    """A sign-in message or signature that is not accepted; `code` names the check, `status` the HTTP answer."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.status = code, status


@dataclass(frozen=True)
class SiweMessage:
    """The fields of an EIP-4361 message (times are ISO 8601 text as signed)."""

    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: str
    statement: str | None = None
    scheme: str | None = None
    version: str = "1"
    expiration_time: str | None = None
    not_before: str | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = field(default=())

    def text(self) -> str:
        """The message exactly as the wallet shows and signs it."""
        head = (f"{self.scheme}://" if self.scheme else "") + self.domain + HEADER
        lines = [head, self.address, ""]
        if self.statement is not None:
            lines.append(self.statement)
        lines += ["", f"URI: {self.uri}", f"Version: {self.version}", f"Chain ID: {self.chain_id}"]
        lines += [f"Nonce: {self.nonce}", f"Issued At: {self.issued_at}"]
        for label, value in (("Expiration Time", self.expiration_time), ("Not Before", self.not_before)):
            if value is not None:
                lines.append(f"{label}: {value}")
        if self.request_id is not None:
            lines.append(f"Request ID: {self.request_id}")
        if self.resources:
            lines += ["Resources:", *(f"- {r}" for r in self.resources)]
        return "\n".join(lines)


def new_nonce() -> str:
    """17 random alphanumeric characters (more than the 8 EIP-4361 asks for)."""
    return secrets.token_hex(9)[:17]


def iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, what: str) -> float:
    """Seconds since 1970 of an RFC 3339 date-time; SiweRefused otherwise."""
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise SiweRefused("malformed_message", f"The sign-in message's {what} is not a date and time: {text[:40]!r}.") from None
    if when.tzinfo is None:
        raise SiweRefused("malformed_message", f"The sign-in message's {what} must name its time zone (…Z).")
    return when.timestamp()


def _malformed(why: str) -> SiweRefused:
    return SiweRefused("malformed_message", f"This is not a sign-in message of the form EIP-4361 describes: {why}.")


def _field(lines: list[str], at: int, label: str, optional: bool = False) -> tuple[str | None, int]:
    prefix = f"{label}: "
    if at < len(lines) and lines[at].startswith(prefix):
        return lines[at][len(prefix) :], at + 1
    if optional:
        return None, at
    raise _malformed(f"line {at + 1} should be '{label}: …'")


def parse(text: str) -> SiweMessage:
    """The message's fields, read strictly line by line; SiweRefused for anything else."""
    if not isinstance(text, str) or len(text) > MAX_MESSAGE:
        raise _malformed(f"it must be text of at most {MAX_MESSAGE} characters")
    if "\r" in text or any(ord(c) < 32 and c != "\n" for c in text):
        raise _malformed("it may hold no control characters but line ends")
    lines = text.split("\n")
    if len(lines) < 9 or not lines[0].endswith(HEADER):
        raise _malformed("the first line should be '<domain> wants you to sign in with your Ethereum account:'")
    origin = lines[0][: -len(HEADER)]
    scheme, _, domain = origin.rpartition("://")
    if not DOMAIN.fullmatch(domain) or (scheme and not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme)):
        raise _malformed(f"{origin[:80]!r} is not a domain")
    address = lines[1]
    if not ADDRESS.fullmatch(address) or not is_checksum_address(address):
        raise _malformed("the second line must be the account's address with its EIP-55 checksum")
    if lines[2] != "":
        raise _malformed("an empty line must follow the address")
    at, statement = 3, None
    if lines[3] != "":
        statement, at = lines[3], 4
    if lines[at] != "":
        raise _malformed("an empty line must follow the statement")
    at += 1
    uri, at = _field(lines, at, "URI")
    version, at = _field(lines, at, "Version")
    chain, at = _field(lines, at, "Chain ID")
    nonce, at = _field(lines, at, "Nonce")
    issued_at, at = _field(lines, at, "Issued At")
    expiration, at = _field(lines, at, "Expiration Time", optional=True)
    not_before, at = _field(lines, at, "Not Before", optional=True)
    request_id, at = _field(lines, at, "Request ID", optional=True)
    resources: list[str] = []
    if at < len(lines) and lines[at] == "Resources:":
        for line in lines[at + 1 :]:
            if not line.startswith("- "):
                raise _malformed("each resource must be a line '- <URI>'")
            resources.append(line[2:])
        at = len(lines)
    if at != len(lines):
        raise _malformed(f"line {at + 1} is not part of the form")
    if version != "1":
        raise _malformed("the version must be 1")
    if not (chain and chain.isdigit() and len(chain) < 20):
        raise _malformed("the chain id must be a whole number")
    if not (nonce and NONCE.fullmatch(nonce)):
        raise _malformed("the nonce must be at least 8 letters and digits")
    for what, value in (("issued-at time", issued_at), ("expiration time", expiration), ("not-before time", not_before)):
        if value is not None:
            parse_time(value, what)
    return SiweMessage(
        domain=domain,
        address=address,
        uri=uri or "",
        chain_id=int(chain),
        nonce=nonce,
        issued_at=issued_at or "",
        statement=statement,
        scheme=scheme or None,
        version=version,
        expiration_time=expiration,
        not_before=not_before,
        request_id=request_id,
        resources=tuple(resources),
    )


def signer_of(text: str, signature: str) -> str:
    """The address that signed `text` with personal_sign (EIP-191); SiweRefused for a malformed signature."""
    if not isinstance(signature, str) or not SIGNATURE.fullmatch(signature):
        raise SiweRefused("bad_signature", "The signature must be 0x followed by 130 hex digits (65 bytes).")
    try:
        return Account.recover_message(encode_defunct(text=text), signature=signature)
    except Exception:  # eth-keys refuses an impossible v, r or s in several ways
        raise SiweRefused("bad_signature", "The signature cannot be read: no account signed it.") from None


def check(message: SiweMessage, signature: str, text: str, *, domain: str, uri: str, chain_id: int, now: float) -> None:
    """Refuse (SiweRefused) a message not for this domain, scheme (when it names one), origin and chain, not valid at `now`, or not signed by
    the address it names. The nonce is checked and spent by the caller, after this."""
    if message.domain.lower() != domain.lower():
        raise SiweRefused(
            "wrong_domain", f"This sign-in message is for {message.domain[:80]}, not {domain}: sign in from this page."
        )
    scheme = uri.partition("://")[0]
    if message.scheme is not None and message.scheme.lower() != scheme.lower():  # EIP-4361: the page's own scheme
        raise SiweRefused(
            "wrong_scheme", f"This sign-in message is for {message.scheme[:20]}://{message.domain[:80]}, not {uri}."
        )
    if message.uri.rstrip("/") != uri.rstrip("/"):
        raise SiweRefused("wrong_uri", f"This sign-in message names the address {message.uri[:80]}, not {uri}.")
    if message.chain_id != chain_id:
        raise SiweRefused(
            "wrong_chain", f"This sign-in message is for chain {message.chain_id}; this commons is on chain {chain_id}."
        )
    if parse_time(message.issued_at, "issued-at time") > now + CLOCK_SKEW_SECONDS:
        raise SiweRefused("not_yet_valid", "This sign-in message says it was issued in the future; check your clock.")
    if message.expiration_time is not None and parse_time(message.expiration_time, "expiration time") <= now:
        raise SiweRefused("expired", "This sign-in message has expired: sign in again.", 401)
    if message.not_before is not None and parse_time(message.not_before, "not-before time") > now + CLOCK_SKEW_SECONDS:
        raise SiweRefused("not_yet_valid", "This sign-in message is not valid yet.")
    signer = signer_of(text, signature)
    if signer != message.address:
        raise SiweRefused(
            "wrong_signer", f"This message names {message.address} but {signer} signed it: sign with the account it names.", 401
        )
