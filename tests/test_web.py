"""The web client in a real browser (Debian chromium, headless, phone-sized) with an injected test wallet.

Each test saves a screenshot under test-artifacts/.
"""

from pathlib import Path

import pytest
import requests

from governance import actions as act
from governance.relayer import RelayOptions, Relayer
from tests import helpers
from tests.helpers import fund, propose, to_voting
from tests.web_support import CHROMIUM_ARGS, PHONE, Server, TestWallet, web_app

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium (apt-get install -y chromium)")
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def server():
    with Server(web_app()) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def relayer(commons, w3, server):
    """A fresh relayer per test (the chain is rolled back between tests, and with it the relay's nonce)."""
    signer = helpers.test_key_signer("web-relayer")
    fund(w3, signer.address)
    relay = Relayer(commons, signer, RelayOptions(batch_window=0.05)).start()
    server.server.config.app.state.relayer = relay
    yield relay
    relay.stop()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.errors = errors
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def open_proposal(commons, stewards) -> int:
    pid = propose(commons, stewards[0], [act.pay("0x000000000000000000000000000000000000bEEF", 10**18)], "Buy a shared lawnmower",
                  "We mow **together**.\n\n- one machine\n- a rota")
    to_voting(commons, pid)
    return pid


def connect(page, server, wallet: TestWallet, path: str = "", eip6963: bool = True) -> None:
    wallet.install(page, eip6963=eip6963)
    page.goto(f"{server.url}/{path}")
    page.click("#connect")
    page.wait_for_selector("#wallet-status:has-text('Connected')")


def test_member_votes_with_reason_through_relay_and_sees_it_counted(page, server, relayer, commons, founders, open_proposal, w3):
    member = founders[2]
    connect(page, server, TestWallet(w3, member, w3.eth.chain_id), f"#/proposal/{open_proposal}")
    page.wait_for_selector("#member-status:has-text('@founder2')")
    page.fill("#reason", "A shared mower saves money & space")
    page.click("button.vote.for")
    page.wait_for_selector("#vote-visible")
    tx_hash = page.get_attribute("#vote-tx", "data-tx")
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    assert receipt["from"] == relayer.address and receipt["status"] == 1  # the relay paid, not the member
    logs = commons.governor.events.VoteCast().get_logs(from_block=receipt["blockNumber"], to_block=receipt["blockNumber"])
    assert [(e["args"]["voter"], e["args"]["support"], e["args"]["reason"]) for e in logs] == [
        (member.address, 1, "A shared mower saves money & space")]
    api_votes = requests.get(f"{server.url}/api/proposals/{open_proposal}", timeout=10).json()["votes"]
    assert [v["reason"] for v in api_votes if v["voter"] == member.address] == ["A shared mower saves money & space"]
    assert "A shared mower saves money & space" in page.inner_text(f"#votes li[data-voter='{member.address}']")
    assert page.errors == []


def test_member_votes_by_sending_the_transaction_from_the_wallet(page, server, relayer, commons, founders, open_proposal, w3):
    member = founders[3]
    relay_nonce = w3.eth.get_transaction_count(relayer.address)
    connect(page, server, TestWallet(w3, member, w3.eth.chain_id), f"#/proposal/{open_proposal}")
    page.wait_for_selector("#reason")
    page.fill("#reason", "Too loud")
    page.check("#direct")
    page.click("button.vote.against")
    page.wait_for_selector("#vote-visible")
    receipt = w3.eth.get_transaction_receipt(page.get_attribute("#vote-tx", "data-tx"))
    assert receipt["from"] == member.address and receipt["status"] == 1
    assert commons.governor.functions.proposalVotes(open_proposal).call()[0] == 1
    assert w3.eth.get_transaction_count(relayer.address) == relay_nonce
    assert "Too loud" in page.inner_text(f"#votes li[data-voter='{member.address}']")


def test_non_member_sees_they_cannot_vote(page, server, relayer, open_proposal, w3):
    outsider = helpers.test_key_signer("web-outsider")
    connect(page, server, TestWallet(w3, outsider, w3.eth.chain_id), f"#/proposal/{open_proposal}")
    page.wait_for_selector("#member-status:has-text('not a member')")
    page.wait_for_selector("#vote-status:has-text('You cannot vote on this proposal')")
    assert page.locator("button.vote").count() == 0


def test_wallet_on_wrong_chain_is_asked_to_switch(page, server, relayer, open_proposal, founders, w3):
    wallet = TestWallet(w3, founders[2], chain_id=1)  # on mainnet, and has never heard of the commons' chain
    connect(page, server, wallet, eip6963=False)  # also exercises the window.ethereum fallback
    page.wait_for_selector("#chain-warning-text:has-text('Switch networks to vote')")
    assert page.is_visible("#switch-chain")
    page.click("#switch-chain")
    page.wait_for_selector("#member-status:has-text('@founder2')")
    assert page.is_hidden("#chain-warning")
    methods = [m for m, _ in wallet.requests]
    assert methods.index("wallet_switchEthereumChain") < methods.index("wallet_addEthereumChain")
    added = next(p for m, p in wallet.requests if m == "wallet_addEthereumChain")[0]
    assert int(added["chainId"], 16) == w3.eth.chain_id and added["rpcUrls"]


def test_script_in_proposal_text_is_rendered_inert(page, server, relayer, commons, stewards):
    hostile = ("Hello <script>window.__pwned = 1</script>\n\n<img src=x onerror=\"window.__pwned = 2\">\n\n"
               "[click me](javascript:window.__pwned=3)")
    pid = propose(commons, stewards[0], [act.pay("0x000000000000000000000000000000000000bEEF", 1)], "Hostile text", hostile)
    page.goto(f"{server.url}/#/proposal/{pid}")
    page.wait_for_selector("#proposal-text")
    text = page.locator("#proposal-text")
    assert "<script>window.__pwned = 1</script>" in text.inner_text()  # shown as text, not run
    assert text.locator("script, img, [onerror]").count() == 0
    assert text.locator("a[href^='javascript']").count() == 0
    if text.locator("a").count():
        text.locator("a").first.click()
    assert page.evaluate("window.__pwned") is None
