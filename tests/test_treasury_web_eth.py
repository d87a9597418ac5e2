"""Contributing ether from the treasury page (the real app, its indexer following anvil, in chromium, with the test
wallet): the ether reaches the treasury through the Contributions contract, and the API shows the contribution
attributed to the giver with its note."""

import pytest
import requests
from web3 import Web3

from governance.client import Commons
from governance.treasury import ETH
from governance.treasury_acts import holdings
from tests import helpers
from tests.helpers import fund
from tests.treasury_support import deploy_treasury_commons
from tests.web_support import Server, TestWallet, connect, served_app, wait_indexed

pytest_plugins = ["tests.web_fixtures"]  # fixtures: browser, page

NOTES = {"member": "Seed potatoes for the allotment — “earlies”", "outsider": "From the café on the corner ☕"}


@pytest.fixture(scope="module")
def garden(w3, founders, anvil_url, tmp_path_factory):
    """A commons with a treasury, served with its indexer; the chain is rolled back afterwards."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    tc = deploy_treasury_commons(w3, founders)
    with Server(served_app(tc.manifest, anvil_url, tmp_path_factory.mktemp("treasury-eth") / "cache.db")) as server:
        wait_indexed(server.url, w3)
        yield Commons(w3, tc.manifest), server
    w3.provider.make_request("evm_revert", [snapshot])


def ether_held(commons) -> int:
    return next(h.units for h in holdings(commons) if h.asset.address == ETH)


def contribute_on_the_page(page, server, wallet: TestWallet, amount: str, note: str) -> None:
    connect(page, server, wallet, "#/treasury")
    page.wait_for_load_state("networkidle")  # connecting shows the view again, which would drop typing
    page.wait_for_selector("#contribute-form")
    page.fill("#contribute-amount", amount)
    page.select_option("#contribute-asset", label="ETH")
    page.fill("#contribute-note", note)
    page.click("#contribute-form button[type=submit]")
    page.wait_for_selector("#contribute-progress:has-text('Thank you')")


@pytest.mark.parametrize("giver", ["member", "outsider"])
def test_ether_contributed_from_the_page_is_attributed_with_its_note_in_the_api(page, garden, w3, founders, giver):
    commons, server = garden
    signer = founders[4] if giver == "member" else helpers.test_key_signer("web-eth-giver")
    fund(w3, signer.address)
    before = ether_held(commons)
    wallet = TestWallet(w3, signer, w3.eth.chain_id)
    note = NOTES[giver]  # each its own, so the page's list shows this one and not an earlier test's
    contribute_on_the_page(page, server, wallet, "0.25", note)
    assert page.inner_text("#contribute-progress") == "Thank you: 0.25 ETH is in the treasury."

    wei = 25 * 10**16
    assert ether_held(commons) == before + wei
    (sent,) = [params[0] for method, params in wallet.requests if method == "eth_sendTransaction"]
    assert Web3.to_checksum_address(sent["to"]) == commons.manifest.contributions and int(sent["value"], 16) == wei

    wait_indexed(server.url, w3)
    flows = requests.get(
        f"{server.url}/api/treasury/flows", params={"counterparty": signer.address, "kind": "contribution"}, timeout=10
    ).json()["data"]
    (flow,) = [f for f in flows if f["tx_hash"] == sent_by_the_page(page, w3, signer.address)]
    assert (flow["direction"], flow["asset"], flow["symbol"], int(flow["amount"]), flow["amount_text"]) == (
        "in",
        ETH,
        "ETH",
        wei,
        "0.25 ETH",
    )
    assert (flow["counterparty"], flow["note"]) == (signer.address, note)
    assert flow["handle"] == ("founder4" if giver == "member" else None)
    assert flow["log_index"] >= 0  # from the Contributed event, not ether found on the balance unattributed
    contributors = {c["contributor"]: c for c in requests.get(f"{server.url}/api/treasury/contributors", timeout=10).json()}
    assert contributors[signer.address]["is_member"] == (giver == "member")
    assert "0.25 ETH" in {t["amount_text"] for t in contributors[signer.address]["totals"]}
    page.goto(f"{server.url}/#/decisions")
    page.goto(f"{server.url}/#/treasury")
    page.wait_for_selector(f"#treasury-inflows:has-text('{note}')")
    assert page.errors == []


def sent_by_the_page(page, w3, address: str) -> str:
    """The transaction of the contribution the page just made (its progress line keeps it), checked as mined."""
    tx_hash = page.get_attribute("#contribute-progress", "data-done")
    assert tx_hash, "the page did not record the transaction it sent"
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    assert receipt["from"] == address and receipt["status"] == 1
    return tx_hash
