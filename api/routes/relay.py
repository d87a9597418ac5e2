"""The gasless vote relay: the typed data a wallet signs, and signed ballots in (see governance/relayer.py).

Every refusal is a 4xx JSON body `{"detail": <a sentence>, "code": <which check>}`; nothing is
sent for a refused ballot. 503 means the relay cannot pay right now (the member can still vote
from their wallet).
"""

import asyncio
import threading
import time
from contextlib import asynccontextmanager

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from governance.ballots import Ballot
from governance.chain import load_key_signer
from governance.client import Commons
from governance.config import get_settings
from governance.errors import BallotRefused, CommonsError, ConfigurationError, InvalidInput, RateLimited, RelayUnavailable
from governance.relayer import RelayOptions, Relayer, parse_signature

# How long POST /ballots waits for its ballot to be sent, so the page can show the transaction hash at once.
SEND_WAIT_SECONDS = 10.0
# Which HTTP status each refusal gets: the signature is wrong (400), the voter cannot vote (403),
# the state does not allow it now (409), or the governor would refuse for another reason (422).
REFUSAL_STATUS = {"bad_signature": 400, "not_member": 403, "unknown_proposal": 404, "voting_not_open": 409,
                  "already_voted": 409, "already_pending": 409, "stale_nonce": 409, "would_revert": 422}

_build_lock = threading.Lock()


@asynccontextmanager
async def relay_lifespan(app):
    """Stop the relay's threads when the app stops (the relay itself starts on first use)."""
    yield
    relayer = getattr(app.state, "relayer", None)
    if relayer is not None:
        relayer.stop()


# No prefix: besides /api/relay/* this router serves the web client's npm libraries at /vendor/*.
router = APIRouter(tags=["relay"], lifespan=relay_lifespan)

# The web client's JavaScript libraries, served from node_modules (exact versions in package.json),
# so the page loads nothing from another host. Only these files; nothing else under node_modules.
VENDOR = {
    "ethers.umd.min.js": "ethers/dist/ethers.umd.min.js",
    "markdown-it.min.js": "markdown-it/dist/browser/markdown-it.umd.min.js",
    "purify.min.js": "dompurify/dist/purify.min.js",
}


class TypedDataRequest(BaseModel):
    proposal_id: str = Field(description="The proposal id (decimal or 0x-hex)")
    support: str = Field(description="for, against or abstain")
    voter: str
    reason: str = ""


class BallotSubmission(BaseModel):
    proposal_id: str = Field(description="The proposal id (decimal or 0x-hex), as signed")
    support: str | int = Field(description="for, against, abstain (or 1, 0, 2), as signed")
    voter: str
    nonce: str | int
    reason: str = ""
    signature: str = Field(description="0x-hex, 65 bytes, from eth_signTypedData_v4")


def build_relayer() -> Relayer:
    """A started Relayer from Settings (its own key, else the signing key); ConfigurationError if none."""
    settings = get_settings()
    keystore = settings.relayer_keystore or settings.keystore
    password = settings.relayer_keystore_password or settings.keystore_password
    key = settings.relayer_private_key or settings.private_key
    signer = load_key_signer(str(keystore) if keystore else None, password.get_secret_value() if password else None,
                             key.get_secret_value() if key else None)
    options = RelayOptions(settings.relay_batch_window_seconds, settings.relay_max_batch, settings.relay_min_balance_wei,
                           settings.relay_voter_rate_per_minute, settings.relay_client_rate_per_minute)
    return Relayer(Commons.connect(settings.rpc_url), signer, options).start()


def relayer_of(request: Request) -> Relayer:
    """The app's relayer, built once on first use (tests may put one on app.state beforehand)."""
    state = request.app.state
    if getattr(state, "relayer", None) is None:
        with _build_lock:
            if getattr(state, "relayer", None) is None:
                state.relayer = build_relayer()
    return state.relayer


def refusal(exc: CommonsError) -> JSONResponse:
    """A domain error as JSON in words, with the status that tells the caller what they can do."""
    headers = {}
    if isinstance(exc, BallotRefused):
        status, code = REFUSAL_STATUS.get(exc.code, 422), exc.code
    elif isinstance(exc, RateLimited):
        status, code, headers = 429, "rate_limited", {"Retry-After": str(exc.retry_after)}
    elif isinstance(exc, (RelayUnavailable, ConfigurationError)):
        status, code = 503, "relay_unavailable"
    elif isinstance(exc, InvalidInput):
        status, code = 400, "invalid_input"
    else:
        status, code = 502, "chain_error"
    message = str(exc) if not isinstance(exc, ConfigurationError) else f"The relay is not set up: {exc}"
    return JSONResponse({"detail": message, "code": code}, status_code=status, headers=headers)


def parse_uint(text: str | int, what: str) -> int:
    """A uint256 from decimal or 0x-hex text; InvalidInput otherwise (ids exceed JSON's safe integers, so they travel as text)."""
    try:
        value = text if isinstance(text, int) else int(text, 16) if str(text).lower().startswith("0x") else int(text)
    except ValueError:
        raise InvalidInput(f"The {what} must be a whole number, not {text!r}.") from None
    if not 0 <= value < 2**256:
        raise InvalidInput(f"The {what} is out of range.")
    return value


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/api/relay/config")
def relay_config(request: Request):
    """What the web client needs to reach the commons' chain: chain id, public RPC URL, contract addresses."""
    settings = get_settings()
    try:
        relayer = relayer_of(request)
    except CommonsError as exc:
        return refusal(exc)
    manifest = relayer.commons.manifest
    return {"name": manifest.name, "chain_id": manifest.chain_id, "rpc_url": settings.public_rpc_url or settings.rpc_url,
            "governor": manifest.governor, "membership": manifest.membership, "timelock": manifest.timelock,
            "relayer": relayer.address}


@router.get("/api/relay/status")
def relay_status(request: Request):
    """The relay's account, balance, whether it can pay now, and ballots queued or in flight."""
    try:
        return relayer_of(request).status()
    except CommonsError as exc:
        return refusal(exc)


@router.post("/api/relay/typed-data")
def ballot_typed_data(body: TypedDataRequest, request: Request):
    """The EIP-712 ExtendedBallot for the wallet to sign (eth_signTypedData_v4), with the voter's next nonce.

    uint256 fields are decimal strings so JavaScript does not round them.
    """
    try:
        relayer = relayer_of(request)
        data = relayer.typed_data_for(parse_uint(body.proposal_id, "proposal id"), body.support, body.voter, body.reason)
    except CommonsError as exc:
        return refusal(exc)
    data["message"]["proposalId"] = str(data["message"]["proposalId"])
    data["message"]["nonce"] = str(data["message"]["nonce"])
    return data


@router.post("/api/relay/ballots", status_code=202)
async def submit_ballot(body: BallotSubmission, request: Request):
    """Check a signed ballot and send it (in a batch); answers once it is sent, with its transaction hash.

    The same ballot sent again answers with the same ticket and transaction.
    """
    try:
        relayer = relayer_of(request)
        ballot = Ballot(parse_uint(body.proposal_id, "proposal id"), body.support, body.voter,
                        parse_uint(body.nonce, "nonce"), body.reason)
        signature = parse_signature(body.signature)
        ticket = await run_in_threadpool(relayer.submit, ballot, signature, client_key(request))
    except CommonsError as exc:
        return refusal(exc)
    # Wait without holding a thread: the batcher sets the ticket's status when it sends or drops it.
    deadline = time.monotonic() + relayer.options.batch_window + SEND_WAIT_SECONDS
    while ticket.status == "queued" and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    if ticket.status in ("dropped", "failed"):
        return JSONResponse({"detail": ticket.error, "code": ticket.status, "ballot": ticket.public()}, status_code=422)
    return ticket.public()


@router.get("/api/relay/ballots/{ticket_id}")
def ballot_status(ticket_id: str, request: Request):
    """Where a relayed ballot is: queued, sent (with tx hash), mined (with block), dropped or failed (with why)."""
    try:
        ticket = relayer_of(request).ticket(ticket_id)
    except CommonsError as exc:
        return refusal(exc)
    if ticket is None:
        return JSONResponse({"detail": f"The relay knows no ballot {ticket_id} (it may have restarted).", "code": "unknown_ballot"},
                            status_code=404)
    return ticket.public()


@router.get("/vendor/{name}", include_in_schema=False)
def vendor_file(name: str):
    """One of the web client's npm libraries (see VENDOR); 404 for anything else."""
    relative = VENDOR.get(name)
    path = get_settings().node_modules / relative if relative else None
    if path is None or not path.is_file():
        return JSONResponse({"detail": f"No library {name!r} here (run `npm ci` if it should be).", "code": "not_found"},
                            status_code=404)
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})
