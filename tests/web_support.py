"""What the browser tests need: the app served over real HTTP, and a test wallet for the page.

The wallet is an EIP-1193 provider injected into the page (announced by EIP-6963, or as
window.ethereum). It holds no key: every request goes through a function exposed by playwright to
this test process, which signs with the test key and talks to anvil. So the key never reaches the
page, and the page's own network traffic stays same-origin (as its CSP requires).
"""

import json
import socket
import threading
import time
from pathlib import Path

import uvicorn
from eth_account.messages import encode_typed_data
from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from hexbytes import HexBytes
from web3 import Web3

from api.routes.relay import router as relay_router
from governance.chain import GAS_HEADROOM, KeySigner, fee_fields
from governance.client import Commons

STATIC = Path(__file__).resolve().parent.parent / "api" / "static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def web_app() -> FastAPI:
    """The relay, a read API and the static client behind a strict CSP, as create_app will serve them.

    The read API here is a stand-in answered from the chain (api/app.py does not exist yet); the
    web client reads it through the field names in api/static/shapes.js.
    """
    app = FastAPI()
    app.include_router(relay_router)
    app.include_router(stand_in_read_api())

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    app.mount("/", StaticFiles(directory=STATIC, html=True), name="static")
    return app


def stand_in_read_api():
    """Until api/app.py lands: the read API's proposal routes answered straight from the chain."""
    from fastapi import APIRouter

    router = APIRouter()

    def commons(request: Request) -> Commons:
        return request.app.state.relayer.commons

    def votes_of(c: Commons, proposal_id: int) -> list[dict]:
        handles = {f["address"]: f["handle"] for f in c.manifest.founders}  # cheap; enough for tests
        logs = c.governor.events.VoteCast().get_logs(from_block=c.manifest.deployment_block)
        return [{"voter": e["args"]["voter"], "handle": handles.get(e["args"]["voter"], ""), "support": e["args"]["support"],
                 "weight": e["args"]["weight"], "reason": e["args"]["reason"], "tx_hash": e["transactionHash"].to_0x_hex()}
                for e in logs if e["args"]["proposalId"] == proposal_id]

    def public(c: Commons, view, with_votes: bool) -> dict:
        body = {"id": str(view.id), "title": view.title, "description": view.description, "proposer": view.proposer,
                "state": view.state, "snapshot": view.snapshot, "deadline": view.deadline, "votes_for": view.votes_for,
                "votes_against": view.votes_against, "votes_abstain": view.votes_abstain, "quorum": view.quorum,
                "actions_in_words": view.actions_in_words, "timeline": [{"step": "proposed", "timestamp": view.snapshot}]}
        if with_votes:
            body["votes"] = votes_of(c, view.id)
        return body

    @router.get("/api/commons")
    def overview(request: Request):
        c = commons(request)
        o = c.overview()
        head = c.w3.eth.block_number
        return {"name": o.name, "chain_id": o.chain_id, "addresses": o.addresses, "indexed_block": head, "chain_head": head}

    @router.get("/api/proposals")
    def proposals(request: Request):
        c = commons(request)
        data = [public(c, v, False) for v in c.proposals()]
        return {"data": data, "count": len(data)}

    @router.get("/api/proposals/{proposal_id}")
    def proposal(proposal_id: str, request: Request):
        c = commons(request)
        return public(c, c.proposal(int(proposal_id)), True)

    return router


class Server:
    """uvicorn serving `app` on a free port in a thread (the browser needs real HTTP)."""

    def __init__(self, app: FastAPI):
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Server":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


WALLET_JS = """
(() => {
  const config = %(config)s;
  const listeners = {};
  const emit = (event, value) => (listeners[event] || []).forEach((fn) => fn(value));
  const provider = {
    isTestWallet: true,
    async request({ method, params }) {
      const answer = JSON.parse(await window.testWallet(method, JSON.stringify(params || [])));
      if (answer.error) { const e = new Error(answer.error.message); e.code = answer.error.code; throw e; }
      if (answer.event) emit(answer.event.name, answer.event.value);
      return answer.result;
    },
    on(event, fn) { (listeners[event] = listeners[event] || []).push(fn); },
    removeListener(event, fn) { listeners[event] = (listeners[event] || []).filter((f) => f !== fn); },
  };
  const info = { uuid: "6f1c0c3e-test-wallet", name: "Test Wallet", icon: "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>",
                 rdns: "org.commons-ledger.test-wallet" };
  if (config.eip6963) {
    const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
    window.addEventListener("eip6963:requestProvider", announce);
  } else {
    window.ethereum = provider;
  }
})();
"""


class TestWallet:
    """The Python half of the injected wallet: holds the key, answers the page's EIP-1193 requests."""

    __test__ = False  # not a pytest test class

    def __init__(self, w3: Web3, signer: KeySigner, chain_id: int, known_chains: set[int] | None = None):
        self.w3, self.signer, self.chain_id = w3, signer, chain_id
        self.known_chains = set(known_chains or {chain_id})
        self.requests: list[tuple[str, list]] = []

    def install(self, page, eip6963: bool = True) -> None:
        page.expose_function("testWallet", self.handle)
        page.add_init_script(WALLET_JS % {"config": json.dumps({"eip6963": eip6963})})

    def handle(self, method: str, params_json: str) -> str:
        params = json.loads(params_json)
        self.requests.append((method, params))
        try:
            return json.dumps(self.answer(method, params))
        except Exception as exc:  # the page sees a wallet error, as with a real wallet
            return json.dumps({"error": {"code": -32603, "message": str(exc)}})

    def answer(self, method: str, params: list) -> dict:
        address = self.signer.address
        if method in ("eth_requestAccounts", "eth_accounts"):
            return {"result": [address]}
        if method == "eth_chainId":
            return {"result": hex(self.chain_id)}
        if method == "wallet_switchEthereumChain":
            wanted = int(params[0]["chainId"], 16)
            if wanted not in self.known_chains:
                return {"error": {"code": 4902, "message": "Unrecognized chain ID. Try adding the chain first."}}
            self.chain_id = wanted
            return {"result": None, "event": {"name": "chainChanged", "value": hex(wanted)}}
        if method == "wallet_addEthereumChain":
            self.known_chains.add(int(params[0]["chainId"], 16))
            return {"result": None}
        if method == "eth_signTypedData_v4":
            assert Web3.to_checksum_address(params[0]) == address
            signed = self.signer.account.sign_message(encode_typed_data(full_message=json.loads(params[1])))
            return {"result": "0x" + bytes(signed.signature).hex()}
        if method == "eth_sendTransaction":
            return {"result": self.send(params[0])}
        response = self.w3.provider.make_request(method, params)
        return {"result": response.get("result")} if "error" not in response else {"error": response["error"]}

    def send(self, request: dict) -> str:
        tx = {"from": self.signer.address, "to": Web3.to_checksum_address(request["to"]), "data": HexBytes(request.get("data", "0x")),
              "value": int(request.get("value", "0x0"), 16)}
        tx["gas"] = int(self.w3.eth.estimate_gas(tx) * GAS_HEADROOM)
        tx["nonce"] = self.w3.eth.get_transaction_count(self.signer.address, "pending")
        tx["chainId"] = self.w3.eth.chain_id
        tx.update(fee_fields(self.w3))
        del tx["from"]
        return self.signer.send(self.w3, tx).to_0x_hex()
