"""What the web client (api/static) needs besides the read API: its npm libraries, the words it shares with Python,
and the chain's clock.

The libraries are ES modules served from node_modules at /vendor (exact versions in package.json), so the page
loads nothing from another host. The vocabulary is generated from `governance`, so the page never copies a
support number, a state name or a gas allowance by hand. The clock is the chain's own now, which the indexed
block's time is not on a node that mines only when a transaction arrives.
"""

import time
from functools import lru_cache

import requests
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from web3 import Web3

from api.cache.projection import SETTING_EVENTS
from governance.action_file import KINDS as ACTION_KINDS
from governance.actions import SETTINGS
from governance.chain import CHECKPOINT_ALLOWANCE, GAS_HEADROOM
from governance.client import NOW_CODE
from governance.config import get_settings
from governance.readings import ROLE_NAMES
from governance.vocabulary import (
    GOVERNOR_SETTING_EVENTS,
    INITIATIVE_EVENTS,
    INITIATIVE_SETTING_EVENTS,
    LIFECYCLE_EVENTS,
    MEMBER_EVENTS,
    POWER_EVENTS,
    PROPOSAL_STATES,
    STEWARD_EVENTS,
    SUPPORT,
    TIMELOCK_EVENTS,
    TREASURY_EVENTS,
    VOTE_EVENTS,
)

router = APIRouter()

# The page asks for the clock on every view: a node that does not answer soon gets the wall clock instead.
CLOCK_TIMEOUT_SECONDS = 2.0

# /vendor/<name> → the ES module build under node_modules. Only these files; nothing else under node_modules.
VENDOR = {
    "ethers.js": "ethers/dist/ethers.min.js",
    "markdown-it.js": "markdown-it/dist/browser/markdown-it.esm.min.mjs",
    "purify.js": "dompurify/dist/purify.es.mjs",
}

# The decision log's kinds, grouped as the page's filter offers them (values are the API's `kind`s).
DECISION_GROUPS = {
    "membership": list(MEMBER_EVENTS),
    "stewards": list(STEWARD_EVENTS),
    "proposals": ["ProposalCreated", *LIFECYCLE_EVENTS, *TIMELOCK_EVENTS],
    "votes": list(VOTE_EVENTS),
    "settings": [*GOVERNOR_SETTING_EVENTS, "MinDelayChange", "TimelockChange"],
    "treasury": list(TREASURY_EVENTS),
    "power": list(POWER_EVENTS),
    "initiatives": [*INITIATIVE_EVENTS, *INITIATIVE_SETTING_EVENTS],
}


@router.get("/api/vocabulary", tags=["commons"])
def vocabulary() -> dict:
    """Proposal states (in `state()` order), vote support numbers, decision-log kinds by group, the timelock's roles by id, the event that
    changes each setting (with the setting's name in /api/commons and the argument holding its new value), the
    gas margin a wallet transaction gets (estimate × headroom + checkpoint allowance), and the actions a proposal or
    initiative may take (kind → fields; settings → unit), as the Python side defines them."""
    return {
        "proposal_states": list(PROPOSAL_STATES),
        "support": SUPPORT,
        "decision_groups": DECISION_GROUPS,
        "timelock_roles": ROLE_NAMES,
        "setting_events": {
            event: {"setting": setting, "argument": argument} for event, (setting, argument) in SETTING_EVENTS.items()
        },
        "gas": {"headroom": GAS_HEADROOM, "checkpoint_allowance": CHECKPOINT_ALLOWANCE},
        # The actions a member's draft may take (as `propose several` files write them): kind → its fields.
        "action_kinds": {kind: [*required, *optional] for kind, (required, optional, _) in ACTION_KINDS.items()},
        "settings": {name: unit for name, (_, _, unit) in SETTINGS.items()},
    }


@lru_cache(maxsize=4)
def _node(rpc_url: str) -> Web3:
    return Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": CLOCK_TIMEOUT_SECONDS}))


@router.get("/api/clock", tags=["commons"])
def clock(request: Request) -> dict:
    """Now, in seconds: `chain_time` is the time the chain's next block will carry, which decides whether voting is
    open (null, with `chain_error` saying why, when this API has no node or it does not answer); `server_time` is
    the server's wall clock."""
    answer: dict = {"chain_time": None, "server_time": time.time()}
    rpc_url = request.app.state.rpc_url
    if not rpc_url:
        return {**answer, "chain_error": "This API reads its cache only; it has no chain node to ask."}
    try:
        result = _node(rpc_url).provider.make_request("eth_call", [{"data": NOW_CODE}, "pending"])
        return {**answer, "chain_time": Web3.to_int(hexstr=result["result"])}
    except (requests.RequestException, OSError, KeyError) as exc:
        return {**answer, "chain_error": f"The chain node did not answer ({type(exc).__name__})."}


@router.get("/vendor/{name}", include_in_schema=False)
def vendor_file(name: str):
    """One of the web client's npm libraries (see VENDOR); 404 for anything else."""
    relative = VENDOR.get(name)
    path = get_settings().node_modules / relative if relative else None
    if path is None or not path.is_file():
        return JSONResponse(
            {"detail": f"No library {name!r} here (run `npm ci` if it should be).", "code": "not_found"}, status_code=404
        )
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})
