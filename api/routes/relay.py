"""The gasless vote relay: the typed data a wallet signs, and signed ballots in (see governance/relayer.py); members'
signed initiative acts (drafts, revisions, withdrawals, supports) in, within each member's free actions of the day
(see governance/initiative_relay.py).

Every refusal is a 4xx JSON body `{"detail": <a sentence>, "code": <which check>}`; nothing is
sent for a refused ballot. 503 means the relay cannot pay right now (the member can still vote
from their wallet). Routes raise `governance.errors`; api/errors.py turns them into these answers.
"""

import asyncio
import threading
import time
from contextlib import asynccontextmanager

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api.relay_store import SqlRelayStore
from governance.action_file import actions_from
from governance.actions import Action, checked_address
from governance.ballots import Ballot
from governance.chain import connect
from governance.client import Commons
from governance.config import get_settings
from governance.errors import ConfigurationError, InvalidInput
from governance.initiative_relay import InitiativeRelay, SignedAct
from governance.keys import relayer_signer
from governance.manifest import Manifest
from governance.relay_store import QUEUED, REFUSED, ActRecord, BallotRecord
from governance.relayer import Relayer, RelayOptions, parse_signature
from governance.treasury_acts import resolve_asset

# How long POST /ballots waits for its ballot to be sent, so the page can show the transaction hash at once.
SEND_WAIT_SECONDS = 10.0
# How often a waiting POST reads its ballot from the database when another process sends it.
STORE_POLL_SECONDS = 0.25

_build_lock = threading.Lock()


@asynccontextmanager
async def relay_lifespan(app):
    """Stop the relay's threads when the app stops (the relay itself starts on first use)."""
    yield
    relayer = getattr(app.state, "relayer", None)
    if relayer is not None:
        relayer.stop()


router = APIRouter(tags=["relay"], lifespan=relay_lifespan)


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


def build_relayer(rpc_url: str, manifest: Manifest | None, engine: Engine) -> Relayer:
    """A started Relayer for the commons `manifest` (found by chain id if None) on the node at `rpc_url`, with its
    key and limits from Settings; ConfigurationError if there is no key, RetryableError if the node does not answer."""
    settings = get_settings()
    signer = relayer_signer(settings)
    options = RelayOptions(
        settings.relay_batch_window_seconds,
        settings.relay_max_batch,
        settings.relay_min_balance_wei,
        settings.relay_voter_rate_per_minute,
        settings.relay_client_rate_per_minute,
        initiative_actions_per_day=settings.relay_initiative_actions_per_day,
        submit_initiatives=settings.relay_submit_initiatives,
    )
    commons = Commons(connect(rpc_url), manifest) if manifest else Commons.connect(rpc_url)
    return Relayer(commons, signer, SqlRelayStore(engine), options).start()


def relayer_of(request: Request) -> Relayer:
    """The app's relayer, built once on first use (tests may put one on app.state beforehand)."""
    state = request.app.state
    if getattr(state, "relayer", None) is None:
        with _build_lock:
            if getattr(state, "relayer", None) is None:
                state.relayer = build_relayer(state.rpc_url, state.manifest, state.engine)
    return state.relayer


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
    """What the web client needs to reach the commons' chain: chain id, public RPC URL (COMMONS_PUBLIC_RPC_URL, else
    null: the node the relay uses may carry a provider key), contract addresses."""
    relayer = relayer_of(request)
    manifest = relayer.commons.manifest
    return {
        "name": manifest.name,
        "chain_id": manifest.chain_id,
        "rpc_url": get_settings().public_rpc_url or None,
        "governor": manifest.governor,
        "membership": manifest.membership,
        "timelock": manifest.timelock,
        "relayer": relayer.address,
    }


@router.get("/api/relay/status")
def relay_status(request: Request):
    """The relay's account, balance, whether it can pay now, and ballots queued or in flight."""
    return relayer_of(request).status()


@router.post("/api/relay/typed-data")
def ballot_typed_data(body: TypedDataRequest, request: Request):
    """The EIP-712 ExtendedBallot for the wallet to sign (eth_signTypedData_v4), with the voter's next nonce.

    uint256 fields are decimal strings so JavaScript does not round them.
    """
    relayer = relayer_of(request)
    data = relayer.typed_data_for(parse_uint(body.proposal_id, "proposal id"), body.support, body.voter, body.reason)
    data["message"]["proposalId"] = str(data["message"]["proposalId"])
    data["message"]["nonce"] = str(data["message"]["nonce"])
    return data


@router.post("/api/relay/ballots", status_code=202)
async def submit_ballot(body: BallotSubmission, request: Request):
    """Check a signed ballot, keep it, and send it (in a batch); answers once it is sent, with its transaction hash
    (or still queued, after SEND_WAIT_SECONDS: it stays kept and will be sent).

    The same ballot sent again, however the copies race, answers with the same ticket.
    """
    relayer = relayer_of(request)
    ballot = Ballot(
        parse_uint(body.proposal_id, "proposal id"), body.support, body.voter, parse_uint(body.nonce, "nonce"), body.reason
    )
    signature = parse_signature(body.signature)
    ticket = await run_in_threadpool(relayer.submit, ballot, signature, client_key(request))
    ticket = await wait_until_sent(relayer, ticket)
    if ticket.status == REFUSED:
        return JSONResponse({"detail": ticket.error, "code": "refused", "ballot": ticket.public()}, status_code=422)
    return ticket.public()


async def wait_until_sent(relayer: Relayer, ticket: BallotRecord) -> BallotRecord:
    """The ticket once it has left the queue, or as it is after SEND_WAIT_SECONDS. Waits without holding a thread:
    this process's sender notes what it writes; a ballot another process sends is read from the database."""
    deadline = time.monotonic() + relayer.options.batch_window + SEND_WAIT_SECONDS
    read_at = time.monotonic()
    while ticket.status == QUEUED and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        noted = relayer.recent(ticket.id)
        if noted is not None:
            ticket = noted
        elif time.monotonic() - read_at > STORE_POLL_SECONDS:
            ticket = await run_in_threadpool(relayer.ticket, ticket.id) or ticket
            read_at = time.monotonic()
    return ticket


@router.get("/api/relay/ballots/{ticket_id}")
def ballot_status(ticket_id: str, request: Request):
    """Where a relayed ballot is: queued, sent (with the relay's tx hash), counted (with the transaction that counted
    it, the relay's or anyone else's, and its block) or refused (with why). Kept across restarts."""
    ticket = relayer_of(request).ticket(ticket_id)
    if ticket is None:
        return JSONResponse(
            {"detail": f"The relay has accepted no ballot {ticket_id}.", "code": "unknown_ballot"},
            status_code=404,
        )
    return ticket.public()


# ---- initiatives --------------------------------------------------------------------------------------------------


class InitiativeTypedDataRequest(BaseModel):
    kind: str = Field(description="draft, revise, withdraw or support")
    member: str = Field(description="The author (draft, revise, withdraw) or the supporter")
    initiative: str | int = Field(0, description="The initiative revised, withdrawn or supported")
    actions: list[dict] = Field([], description="Draft or revise: the actions, each a kind and its fields (as `propose several`)")
    text: str = Field("", description="Draft or revise: the Markdown text, first line '# Title'")
    days: int = Field(14, description="Support: how many days the signature counts")
    revision: int | None = Field(None, description="Support: the revision the member read (409 if revised since)")


class InitiativeActSubmission(BaseModel):
    kind: str = Field(description="draft, revise, withdraw or support")
    member: str
    initiative: str | int = 0
    targets: list[str] = []
    values: list[str | int] = []
    calldatas: list[str] = []
    text: str = ""
    nonce: str | int = 0
    deadline: str | int = Field(description="The signed deadline (draft, revise, withdraw) or expiry (support)")
    signature: str = Field(description="0x-hex, 65 bytes, from eth_signTypedData_v4")


def initiative_relay_of(request: Request) -> InitiativeRelay:
    """The relay's initiative side; ConfigurationError (503) for a commons without an Initiatives contract."""
    relay = relayer_of(request).initiatives
    if relay is None:
        raise ConfigurationError("this commons has no Initiatives contract, so the relay carries no initiatives.")
    return relay


def _encoded(actions: list[Action]) -> dict:
    return {
        "targets": [a.target for a in actions],
        "values": [str(a.value) for a in actions],
        "calldatas": ["0x" + a.calldata.hex() for a in actions],
    }


def _hex_bytes(text: str, what: str) -> bytes:
    try:
        return bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise InvalidInput(f"The {what} must be 0x-hex, not {text[:20]!r}.") from None


class ActionsRequest(BaseModel):
    actions: list[dict] = Field(description="The actions, each a kind and its fields (as `propose several` files write them)")


def commons_of(request: Request) -> Commons:
    """The commons the relay serves, read without the relay's key (a member's wallet can still send what it encodes)."""
    state = request.app.state
    if getattr(state, "relayer", None) is not None:
        return state.relayer.commons
    if getattr(state, "actions_commons", None) is None:
        with _build_lock:
            if getattr(state, "actions_commons", None) is None:
                rpc_url = state.rpc_url
                state.actions_commons = Commons(connect(rpc_url), state.manifest) if state.manifest else Commons.connect(rpc_url)
    return state.actions_commons


def _proposal_of(commons: Commons, listed: list[dict]) -> list[Action]:
    return actions_from(listed, commons.addresses, lambda token: resolve_asset(commons, token))


@router.post("/api/relay/initiatives/actions")
def encode_actions(body: ActionsRequest, request: Request):
    """The actions encoded (targets, values as decimal strings, calldatas) and in words, for a draft the member's
    wallet sends itself when the relay cannot; 400 naming the first malformed action."""
    commons = commons_of(request)
    proposal = _proposal_of(commons, body.actions)
    return {**_encoded(proposal), "in_words": [reading.words for reading in commons.read_actions(proposal)]}


@router.post("/api/relay/initiatives/typed-data")
def initiative_typed_data(body: InitiativeTypedDataRequest, request: Request):
    """What a member's wallet signs (eth_signTypedData_v4) for the relay to send their draft, revision, withdrawal
    (a fresh nonce, usable once, and a deadline an hour away) or support (valid for `days`), with the actions encoded
    (a draft's or revision's, for the wallet to send itself if the relay cannot). uint256 fields are decimal strings."""
    relay = initiative_relay_of(request)
    commons = relay.commons
    initiative = parse_uint(body.initiative, "initiative")
    proposal = _proposal_of(commons, body.actions) if body.kind in ("draft", "revise") else []
    typed = relay.typed_data(body.kind, body.member, initiative, proposal, body.text, body.days, body.revision)
    return {"typed_data": _decimal_strings(typed), **_encoded(proposal), "text": body.text}


def _decimal_strings(value):
    """Integers as decimal strings, all the way down (JavaScript would round uint256 values)."""
    if isinstance(value, dict):
        return {k: v if k == "chainId" else _decimal_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimal_strings(v) for v in value]
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


@router.post("/api/relay/initiatives", status_code=202)
async def submit_initiative_act(body: InitiativeActSubmission, request: Request):
    """Check a member's signed draft, revision, withdrawal or support, keep it (one of their free actions of the day)
    and send it; answers once it is sent (or still queued after SEND_WAIT_SECONDS: it stays kept and will be sent).

    The same signed act sent again answers with the same ticket and uses no further free action. 429 when the member's
    free actions of the day are used (post it from the wallet, or wait until they renew)."""
    relay = initiative_relay_of(request)
    if not len(body.targets) == len(body.values) == len(body.calldatas):
        raise InvalidInput("Give as many values and calldatas as targets.")
    act = SignedAct(
        kind=body.kind,
        member=body.member,
        signature=parse_signature(body.signature),
        initiative=parse_uint(body.initiative, "initiative"),
        nonce=parse_uint(body.nonce, "nonce"),
        deadline=parse_uint(body.deadline, "deadline"),
        proposal=[
            Action(checked_address(t, "target"), parse_uint(v, "value"), _hex_bytes(c, "calldata"))
            for t, v, c in zip(body.targets, body.values, body.calldatas)
        ],
        text=body.text,
    )
    ticket = await run_in_threadpool(relay.accept, act, client_key(request))
    ticket = await wait_until_act_sent(relay, ticket)
    if ticket.status == REFUSED:
        return JSONResponse({"detail": ticket.error, "code": "refused", "act": ticket.public()}, status_code=422)
    return ticket.public()


async def wait_until_act_sent(relay: InitiativeRelay, ticket: ActRecord) -> ActRecord:
    """The act once it has left the queue, or as it is after SEND_WAIT_SECONDS (read from the database, which
    whichever process sends writes)."""
    deadline = time.monotonic() + SEND_WAIT_SECONDS
    while ticket.status == QUEUED and time.monotonic() < deadline:
        await asyncio.sleep(STORE_POLL_SECONDS)
        ticket = await run_in_threadpool(relay.store.get, ticket.id) or ticket
    return ticket


@router.get("/api/relay/initiatives/{ticket_id}")
def initiative_act_status(ticket_id: str, request: Request):
    """Where a relayed initiative act is: queued, sent (with the relay's tx hash), done (with the transaction that did
    it, the relay's or anyone else's, and a draft's initiative number) or refused (with why). Kept across restarts."""
    ticket = initiative_relay_of(request).store.get(ticket_id.lower())
    if ticket is None:
        return JSONResponse(
            {"detail": f"The relay has accepted no initiative act {ticket_id}.", "code": "unknown_act"}, status_code=404
        )
    return ticket.public()


@router.get("/api/relay/allowance/{member}")
def initiative_allowance(member: str, request: Request):
    """A member's free initiative acts today (drafts, revisions, withdrawals, supports): used, allowed, left, and when
    they renew (00:00 UTC)."""
    return initiative_relay_of(request).allowance_of(member)
