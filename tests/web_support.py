"""What the browser tests need: the real app (create_app, with its indexer following the chain) served over
real HTTP, a way to wait until its cache has caught up, and a test wallet for the page.

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

import requests
import uvicorn
from eth_account.messages import encode_defunct, encode_typed_data
from fastapi import FastAPI
from hexbytes import HexBytes
from web3 import Web3

from api.app import create_app
from governance.chain import GAS_HEADROOM, KeySigner, fee_fields
from governance.manifest import Manifest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
POLL_SECONDS = 0.05
TIMEOUT_MS = 20_000
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def served_app(manifest: Manifest, rpc_url: str, cache_file: Path) -> FastAPI:
    """create_app() on a SQLite cache at `cache_file`, its background indexer following `rpc_url`."""
    return create_app(f"sqlite:///{cache_file}", manifest=manifest, rpc_url=rpc_url, run_indexer=True)


def wait_indexed(base_url: str, w3: Web3, timeout: float = 30.0) -> dict:
    """Poll the API until its indexed block is the chain's latest block (same hash); returns /api/commons.

    Raises AssertionError (with the indexer's last error) if it does not catch up within `timeout`.
    """
    head = w3.eth.get_block("latest")
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        answer = requests.get(f"{base_url}/api/commons", timeout=5)
        if answer.status_code == 200:
            body = answer.json()
            indexed = body["indexed_block"]
            if indexed["number"] > head["number"] or (
                indexed["number"] == head["number"] and indexed["hash"] == head["hash"].to_0x_hex()
            ):
                return body
        time.sleep(POLL_SECONDS)
    health = requests.get(f"{base_url}/api/health", timeout=5).json()
    raise AssertionError(f"the API did not index block {head['number']} within {timeout:.0f} s: {body} {health}")


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
        if method == "personal_sign":  # EIP-191 text, as a wallet signs a sign-in message (params: message, account)
            assert Web3.to_checksum_address(params[1]) == address
            text = bytes.fromhex(params[0][2:]).decode() if params[0].startswith("0x") else params[0]
            signed = self.signer.account.sign_message(encode_defunct(text=text))
            return {"result": "0x" + bytes(signed.signature).hex()}
        if method == "eth_sendTransaction":
            return {"result": self.send(params[0])}
        response = self.w3.provider.make_request(method, params)
        return {"result": response.get("result")} if "error" not in response else {"error": response["error"]}

    def send(self, request: dict) -> str:
        tx = {
            "from": self.signer.address,
            "to": Web3.to_checksum_address(request["to"]),
            "data": HexBytes(request.get("data", "0x")),
            "value": int(request.get("value", "0x0"), 16),
        }
        # Like real wallets: the gas limit the page asks for, else an estimate with a margin.
        tx["gas"] = int(request["gas"], 16) if request.get("gas") else int(self.w3.eth.estimate_gas(tx) * GAS_HEADROOM)
        tx["nonce"] = self.w3.eth.get_transaction_count(self.signer.address, "pending")
        tx["chainId"] = self.w3.eth.chain_id
        tx.update(fee_fields(self.w3))
        del tx["from"]
        return self.signer.send(self.w3, tx).to_0x_hex()


def new_tab(browser, viewport: dict = PHONE):
    """A page in a fresh browser context of this size (phone-sized ones touch), collecting script and CSP errors in
    `tab.errors`."""
    phone = viewport["width"] < 600
    context = browser.new_context(viewport=viewport, device_scale_factor=1, is_mobile=phone, has_touch=phone)
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None)
    tab.errors = errors
    return tab


def save_screenshot(tab, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def connect(page, server, wallet: TestWallet, path: str = "", eip6963: bool = True) -> None:
    """Open the page at `path` with `wallet` injected, and connect it."""
    wallet.install(page, eip6963=eip6963)
    page.goto(f"{server.url}/{path}")
    page.click("#connect")
    # Not :has-text('Connected'), which is case-blind and matches "No wallet connected." before anything happened.
    page.wait_for_selector("#wallet-status:text-matches('^Connected: ')")
