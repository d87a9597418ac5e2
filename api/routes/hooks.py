"""What a webhook receiver needs to check a delivery: the public key and the event types. Endpoints themselves are
managed with `commons hooks` and never shown here."""

from fastapi import APIRouter

from api.hooks.outbox import KNOWN_TYPES, REVERTED
from api.hooks.signing import public_key_text, signing_key
from governance.config import get_settings

router = APIRouter(prefix="/api/hooks", tags=["webhooks"])


@router.get("/public-key")
def public_key() -> dict:
    """The ed25519 public key that signs every delivery (Standard Webhooks `v1a`, `whpk_` + base64), and the event
    types; a receiver checks `webhook-signature` over `{webhook-id}.{webhook-timestamp}.{body}`, refuses a timestamp
    more than five minutes off, and ignores a `webhook-id` it has already seen (retries and replays keep their id)."""
    return {
        "algorithm": "ed25519",
        "signature_version": "v1a",
        "public_key": public_key_text(signing_key(get_settings())),
        "event_types": sorted(KNOWN_TYPES),
        "reverted_suffix": REVERTED,
    }
