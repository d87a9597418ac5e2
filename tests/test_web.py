"""The web client in a real browser (Debian chromium, headless, phone-sized) with an injected test wallet,
served by the real app (create_app) whose background indexer follows anvil into a SQLite cache.

Each test saves a screenshot under test-artifacts/.
"""

import csv
import io
import json
from pathlib import Path

import pytest
import requests

from api.app import CSP
from governance import actions as act
from governance.config import get_settings
from governance.decision_log import verify
from tests import helpers
from tests.helpers import propose
from tests.web_support import TestWallet, connect, wait_indexed

pytest_plugins = ["tests.web_fixtures"]  # fixtures: server, browser, page, relayer, open_proposal, voted_history


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
        (member.address, 1, "A shared mower saves money & space")
    ]
    # The page waited for the real API (its indexer) to list the vote; it says what the chain says.
    api_proposal = requests.get(f"{server.url}/api/proposals/{open_proposal}", timeout=10).json()
    assert [
        (v["handle"], v["support"], v["reason"], v["tx_hash"]) for v in api_proposal["votes"] if v["voter"] == member.address
    ] == [("founder2", "for", "A shared mower saves money & space", tx_hash)]
    assert (api_proposal["votes_for"], api_proposal["voter_count"]) == (1, 1)
    assert "A shared mower saves money & space" in page.inner_text(f"#votes li[data-voter='{member.address}']")
    assert "For 1" in page.inner_text(".tallies .counts")
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


@pytest.fixture
def public_rpc_url(monkeypatch, anvil_url) -> str:
    """The node address the commons publishes for wallets (COMMONS_PUBLIC_RPC_URL)."""
    monkeypatch.setenv("COMMONS_PUBLIC_RPC_URL", anvil_url)
    get_settings.cache_clear()
    yield anvil_url
    monkeypatch.delenv("COMMONS_PUBLIC_RPC_URL")
    get_settings.cache_clear()


def test_wallet_on_wrong_chain_is_asked_to_switch(page, server, relayer, open_proposal, founders, w3, public_rpc_url):
    wallet = TestWallet(w3, founders[2], chain_id=1)  # on mainnet, and has never heard of the commons' chain
    connect(page, server, wallet, eip6963=False)  # also exercises the window.ethereum fallback
    page.wait_for_selector("#chain-warning-text:has-text('Switch networks to vote')")
    assert "on Ethereum (chain 1), but Test Garden lives on Local test chain (chain 31337)" in page.inner_text(
        "#chain-warning-text"
    )
    assert page.is_visible("#switch-chain")
    page.click("#switch-chain")
    page.wait_for_selector("#member-status:has-text('@founder2')")
    assert page.is_hidden("#chain-warning")
    methods = [m for m, _ in wallet.requests]
    assert methods.index("wallet_switchEthereumChain") < methods.index("wallet_addEthereumChain")
    added = next(p for m, p in wallet.requests if m == "wallet_addEthereumChain")[0]
    assert int(added["chainId"], 16) == w3.eth.chain_id and added["rpcUrls"] == [public_rpc_url]
    assert added["chainName"] == "Local test chain"


def test_wallet_that_does_not_know_the_chain_is_told_why_when_no_node_address_is_published(page, server, relayer, founders, w3):
    wallet = TestWallet(w3, founders[2], chain_id=1)
    connect(page, server, wallet)
    page.click("#switch-chain")
    page.wait_for_selector("#chain-warning-text:has-text('publishes no node address')")
    assert "wallet_addEthereumChain" not in [m for m, _ in wallet.requests]


def test_member_delegates_their_vote_and_takes_it_back(page, server, relayer, commons, founders, w3):
    member, delegate = founders[2], founders[3]
    connect(page, server, TestWallet(w3, member, w3.eth.chain_id))
    page.wait_for_selector("#member-status:has-text('your vote: cast by you')")
    page.click(".delegation summary")
    page.fill("#delegate-to", delegate.address)
    page.click(".delegation button[type=submit]")
    page.wait_for_selector("#member-status:has-text('delegated to @founder3')")  # shown once the API has indexed it
    assert commons.membership.functions.delegates(member.address).call() == delegate.address
    assert requests.get(f"{server.url}/api/members/{member.address}", timeout=10).json()["delegate"] == delegate.address
    page.click(".delegation summary")
    page.click("text=Take my vote back")
    page.wait_for_selector("#member-status:has-text('your vote: cast by you')")
    assert commons.membership.functions.delegates(member.address).call() == member.address
    assert page.errors == []


def test_member_delegates_by_handle_and_is_told_in_words_when_the_delegate_is_not_a_member(
    page, server, relayer, commons, founders, w3
):
    member = founders[2]
    wallet = TestWallet(w3, member, w3.eth.chain_id)
    connect(page, server, wallet)
    page.wait_for_selector("#member-status:has-text('your vote: cast by you')")
    page.click(".delegation summary")
    page.fill("#delegate-to", "0x000000000000000000000000000000000000bEEF")
    page.click(".delegation button[type=submit]")
    page.wait_for_selector("#delegate-progress:has-text('is not a member: you can delegate only to a member')")
    assert "eth_sendTransaction" not in [m for m, _ in wallet.requests]
    page.fill("#delegate-to", "@founder3")
    page.click(".delegation button[type=submit]")
    page.wait_for_selector("#member-status:has-text('delegated to @founder3')")
    assert commons.membership.functions.delegates(member.address).call() == founders[3].address


def test_script_in_proposal_text_is_rendered_inert(page, server, relayer, commons, stewards, w3):
    hostile = (
        'Hello <script>window.__pwned = 1</script>\n\n<img src=x onerror="window.__pwned = 2">\n\n'
        "[click me](javascript:window.__pwned=3)"
    )
    pid = propose(commons, stewards[0], [act.pay("0x000000000000000000000000000000000000bEEF", 1)], "Hostile text", hostile)
    wait_indexed(server.url, w3)
    page.goto(f"{server.url}/#/proposal/{pid}")
    page.wait_for_selector("#proposal-text")
    text = page.locator("#proposal-text")
    assert "<script>window.__pwned = 1</script>" in text.inner_text()  # shown as text, not run
    assert text.locator("script, img, [onerror]").count() == 0
    assert text.locator("a[href^='javascript']").count() == 0
    if text.locator("a").count():
        text.locator("a").first.click()
    assert page.evaluate("window.__pwned") is None


# ---- observers: the decision log, its exports, participation and the audit status, from the real API


def test_observer_reads_the_decision_log_filters_it_and_downloads_both_exports(page, server, voted_history, founders):
    page.goto(f"{server.url}/#/decisions")
    page.wait_for_selector("#decision-log li")
    total = voted_history["overview"]["decision_log_count"]
    assert page.locator("#decision-log li").count() == total  # a small log is shown whole, newest first
    newest = page.locator("#decision-log li").first
    assert (
        newest.get_attribute("data-seq") == str(total)
        and "@founder4 voted for #2 “Mend the fence”: “It leans”" in newest.inner_text()
    )

    page.select_option("select[name=group]", "votes")
    page.fill("input[name=about]", "@founder2")
    page.click(".filters button")
    page.wait_for_selector("#log-status:has-text('matching')")
    assert [item.inner_text().split("\n")[0] for item in page.locator("#decision-log li").all()] == [
        "Vote @founder2 voted against #1 “Plant an orchard”: “Too much shade”"
    ]
    assert page.get_attribute("#decision-log li .kind", "title") == "VoteCast"  # the contract's event name, on hover

    with page.expect_download() as csv_download:
        page.click("#export-csv")
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text())))
    assert len(rows) == total and rows[-1]["hash"] == voted_history["overview"]["decision_log_head_hash"]
    with page.expect_download() as jsonl_download:
        page.click("#export-jsonl")
    entries = [json.loads(line) for line in Path(jsonl_download.value.path()).read_text().splitlines()]
    assert len(entries) == total and verify(entries) == []
    assert [e["data"]["reason"] for e in entries if e["kind"] == "VoteCast" and e["data"]["voter"] == founders[2].address] == [
        "Too much shade"
    ]

    # About a proposal, the API does the filtering, and the filtered entries can be downloaded.
    page.fill("input[name=about]", "#1")
    page.click(".filters button")
    page.wait_for_selector("#log-status:has-text('4 of 4 matching entries shown')")
    assert page.locator("#decision-log li").count() == 4
    with page.expect_download() as filtered_download:
        page.click("#export-filtered-jsonl")
    filtered = [json.loads(line) for line in Path(filtered_download.value.path()).read_text().splitlines()]
    assert [(e["kind"], e["data"]["voter"]) for e in filtered] == [("VoteCast", f.address) for f in founders[:4]]
    assert page.errors == []


def test_observer_sees_turnout_per_proposal_in_the_participation_chart(page, server, voted_history):
    page.goto(f"{server.url}/#/participation")
    page.wait_for_selector("#turnout-chart")
    bars = page.locator("#turnout-chart rect.turnout")
    assert bars.count() == 2
    heights = [float(bar.get_attribute("height")) for bar in bars.all()]
    assert heights[0] == pytest.approx(4 * heights[1], rel=0.01)  # 4 of 6 voted on the first, 1 of 6 on the second
    legend = page.inner_text("#turnout-legend")
    assert "#1 Plant an orchard 4 of 6 · 67%" in legend and "#2 Mend the fence 1 of 6 · 17%" in legend
    assert page.errors == []


def test_observer_sees_the_audit_status_of_the_index(page, server, voted_history, w3):
    overview = voted_history["overview"]
    page.goto(f"{server.url}/#/audit")
    page.wait_for_selector("#index-status")
    assert f"block {overview['indexed_block']['number']}" in page.inner_text("#index-status")
    facts = page.inner_text("#audit-facts")
    assert (
        overview["decision_log_head_hash"] in facts
        and w3.eth.get_block(overview["indexed_block"]["number"])["hash"].to_0x_hex() in facts
    )
    assert "100 ETH" in facts  # the treasury, from the indexed balance
    assert page.errors == []


def test_page_is_served_with_the_strict_content_security_policy(server):
    answer = requests.get(f"{server.url}/", timeout=10)
    policy = dict(part.strip().split(" ", 1) for part in answer.headers["content-security-policy"].split(";"))
    assert answer.headers["content-security-policy"] == CSP
    assert (policy["script-src"], policy["style-src"], policy["connect-src"], policy["img-src"]) == (
        "'self'",
        "'self'",
        "'self'",
        "'self' data:",
    )
