"""The webhooks' signing key and signatures (Standard Webhooks 1.0, asymmetric `v1a`): ed25519 over
`{webhook-id}.{webhook-timestamp}.{body}`. Receivers verify with the public key the API serves."""

import base64
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from governance.config import Settings
from governance.errors import ConfigurationError
from governance.keys import secret_file_text

SECRET_PREFIX, PUBLIC_PREFIX = "whsk_", "whpk_"


def _raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    if isinstance(key, Ed25519PrivateKey):
        return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_from_text(text: str) -> Ed25519PrivateKey:
    """The key from `whsk_` + base64 of its 32-byte seed; ConfigurationError (naming no part of it) otherwise."""
    try:
        seed = base64.b64decode(text.strip().removeprefix(SECRET_PREFIX), validate=True)
        return Ed25519PrivateKey.from_private_bytes(seed)
    except ValueError:
        raise ConfigurationError(
            "The webhook signing key must be whsk_ followed by the base64 of a 32-byte ed25519 seed."
        ) from None


def key_text(key: Ed25519PrivateKey) -> str:
    return SECRET_PREFIX + base64.b64encode(_raw(key)).decode()


def public_key_text(key: Ed25519PrivateKey) -> str:
    """`whpk_` + base64 of the raw public key, as Standard Webhooks writes it."""
    return PUBLIC_PREFIX + base64.b64encode(_raw(key.public_key())).decode()


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """COMMONS_WEBHOOK_SIGNING_KEY, else the key file (COMMONS_WEBHOOK_KEY_FILE, default in the state directory),
    made with mode 0600 on first use. Raises ConfigurationError for a malformed key."""
    if settings.webhook_signing_key is not None:
        return key_from_text(settings.webhook_signing_key.get_secret_value())
    path = Path(settings.webhook_key_file or settings.state_dir / "webhook-signing.key")
    text = secret_file_text(path, lambda: key_text(Ed25519PrivateKey.generate()))
    if not text:
        raise ConfigurationError(f"The webhook key file {path} is empty.")
    return key_from_text(text)


def signed_content(message_id: str, timestamp: int, body: bytes) -> bytes:
    return f"{message_id}.{timestamp}.".encode() + body


def signature_header(key: Ed25519PrivateKey, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1a,` + base64 of the ed25519 signature."""
    return "v1a," + base64.b64encode(key.sign(signed_content(message_id, timestamp, body))).decode()


def verify(public_key: str, message_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether any `v1a,` signature in `header` (space-separated) is valid for this message under `public_key`."""
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key.removeprefix(PUBLIC_PREFIX)))
    for part in header.split():
        version, _, signature = part.partition(",")
        if version != "v1a":
            continue
        try:
            key.verify(base64.b64decode(signature), signed_content(message_id, timestamp, body))
            return True
        except (InvalidSignature, ValueError):
            continue
    return False
