"""The treasury on the page (the real app, its indexer following anvil, in chromium): balances equal to the chain
and the API, the monthly chart, contributions with notes, payments by proposal, contributing from a wallet, and a
member's own contributions in the wallet panel."""

import pytest
import requests

from governance.client import Commons
from governance.treasury_acts import holdings
from tests import helpers
from tests.helpers import fund
from tests.treasury_support import GUSD, deploy_treasury_commons, make_treasury_history, mint
from tests.web_support import Server, TestWallet, connect, served_app, wait_indexed

pytest_plugins = ["tests.web_fixtures"]  # fixtures: browser, page


@pytest.fixture(scope="module")
def garden(w3, founders, anvil_url, tmp_path_factory):
    """A commons with a treasury history, served with its indexer; the chain is rolled back afterwards."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    tc = deploy_treasury_commons(w3, founders)
    commons = Commons(w3, tc.manifest)
    names = make_treasury_history(commons, tc, founders)
    with Server(served_app(tc.manifest, anvil_url, tmp_path_factory.mktemp("treasury-web") / "cache.db")) as server:
        wait_indexed(server.url, w3)
        yield commons, tc, names, server
    w3.provider.make_request("evm_revert", [snapshot])


def settled(page) -> None:
    """The view as it is once the wallet has connected (connecting shows the view again, which would drop typing)."""
    page.wait_for_load_state("networkidle")
    page.wait_for_selector("#contribute-form")


def test_the_treasury_view_shows_what_the_chain_and_the_api_say(page, garden):
    commons, _, names, server = garden
    page.goto(f"{server.url}/#/treasury")
    page.wait_for_selector("#treasury-balances")
    shown = page.inner_text("#treasury-balances")
    api = requests.get(f"{server.url}/api/treasury", timeout=10).json()
    chain = {h.asset.symbol: h.in_words for h in holdings(commons)}
    for balance in api["balances"]:
        assert balance["balance_text"] == chain[balance["symbol"]] and balance["balance_text"] in shown
    inflows = page.inner_text("#treasury-inflows")
    assert "From the bakery next door" in inflows and "40 gUSD from @founder2" in inflows
    assert "3 gUSD" in inflows and "sent directly" in inflows
    # Ether sent with no log: dated to the block of its transfer, and the page says how it knows.
    flows = requests.get(f"{server.url}/api/treasury/flows", timeout=10).json()["data"]
    (plain,) = [f for f in flows if f["log_index"] == -1]
    block = commons.w3.eth.get_block(plain["block_number"], full_transactions=True)
    sent = [t for t in block["transactions"] if t["to"] == commons.manifest.timelock and not t["input"]]
    assert [t["value"] for t in sent] == [int(plain["amount"])] == [2 * 10**17]
    assert f"the treasury's balance shows it arrived in block {plain['block_number']:,}." in inflows
    outflows = page.inner_text("#treasury-outflows")
    assert "12.5 gUSD to " in outflows and "#1 Pay the gardener" in outflows
    assert page.locator("svg.treasury-chart[data-symbol='gUSD'] rect.outflow").count() >= 1
    assert "(not a member)" in page.inner_text("#treasury-contributors")
    assert page.errors == []


def test_anyone_contributes_a_token_from_a_wallet(page, garden, w3):
    commons, tc, _, server = garden
    giver = helpers.test_key_signer("web-giver")
    fund(w3, giver.address)
    mint(w3, tc.gusd, giver.address, 10 * GUSD)
    before = {h.asset.symbol: h.units for h in holdings(commons)}["gUSD"]
    connect(page, server, TestWallet(w3, giver, w3.eth.chain_id), "#/treasury")
    settled(page)
    page.fill("#contribute-amount", "2.000001")
    page.select_option("#contribute-asset", label="gUSD")
    page.fill("#contribute-note", "Seedlings for the north beds")
    page.click("#contribute-form button[type=submit]")
    page.wait_for_selector("#contribute-progress:has-text('Thank you')")
    assert {h.asset.symbol: h.units for h in holdings(commons)}["gUSD"] == before + 2_000_001
    page.goto(f"{server.url}/#/decisions")
    page.goto(f"{server.url}/#/treasury")
    page.wait_for_selector("#treasury-inflows:has-text('Seedlings for the north beds')")
    assert page.errors == []


def test_the_contribute_form_refuses_too_many_decimals_in_words(page, garden, w3):
    _, _, _, server = garden
    connect(page, server, TestWallet(w3, helpers.test_key_signer("web-giver"), w3.eth.chain_id), "#/treasury")
    settled(page)
    page.fill("#contribute-amount", "0.0000001")
    page.select_option("#contribute-asset", label="gUSD")
    page.click("#contribute-form button[type=submit]")
    page.wait_for_selector("#contribute-progress:has-text('gUSD has 6 decimals, but 0.0000001 has 7')")


def test_a_member_sees_what_they_contributed_in_the_wallet_panel(page, garden, w3, founders):
    _, _, _, server = garden
    connect(page, server, TestWallet(w3, founders[2], w3.eth.chain_id), "#/treasury")
    page.wait_for_selector("#member-contributions")
    mine = page.inner_text("#member-contributions")
    assert "0.5 ETH" in mine and "For the seed fund" in mine and "40 gUSD" in mine and "Compost bins" in mine
    assert page.errors == []
