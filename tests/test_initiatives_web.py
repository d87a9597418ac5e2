"""The Ideas view in Chromium: a member drafts with a live preview, two others support from their wallets, one puts
it to a vote, and the proposal (author named) is voted, queued and executed; the page links both ways. With a relay,
drafting (actions from the vocabulary, members by @handle) and supporting cost the members nothing, and past a
member's free actions of the day the page sends from the wallet instead."""

import playwright.sync_api as playwright_api
import pytest

from governance.chain import NodeSigner
from governance.initiatives import Initiatives
from tests.helpers import carry_through
from tests.treasury_support import deploy_token
from tests.web_support import TestWallet, connect, new_tab, wait_indexed

pytest_plugins = ["tests.web_fixtures"]  # server, browser, page

SOMEONE = "0x000000000000000000000000000000000000bEEF"


@pytest.fixture
def wallet_tab(browser, server, w3, request):
    tabs = []

    def open_as(signer, path):
        tab = new_tab(browser)
        tabs.append(tab)
        connect(tab, server, TestWallet(w3, signer, w3.eth.chain_id), path)
        # Connecting shows the view again: use the one made for this wallet (typing into the other would be lost).
        tab.wait_for_selector(f"section[data-account='{signer.address}']")
        return tab

    yield open_as
    for tab in tabs:
        tab.context.close()


def test_draft_support_and_put_to_a_vote_from_the_page(wallet_tab, server, commons, founders, w3):
    author = wallet_tab(founders[2], "#/ideas")
    author.wait_for_selector("#draft-form")
    author.fill("#draft-title", "Seeds for the spring beds")
    author.fill("#draft-text", "We need **seeds**.")
    author.wait_for_selector("#draft-preview strong:has-text('seeds')")  # the live preview renders Markdown
    author.fill("#draft-action-0-recipient", SOMEONE)
    author.fill("#draft-action-0-eth", "0.001")
    author.click("#draft-form button[type=submit]")
    author.wait_for_selector("#draft-progress:has-text('Drafted')")
    initiative_id = Initiatives(commons).count()
    wait_indexed(server.url, w3)  # the initiative's page reads it from the API
    for supporter in founders[3:5]:
        tab = wallet_tab(supporter, f"#/ideas/{initiative_id}")
        tab.click("#support-button")
        tab.wait_for_selector("#initiative-progress:has-text('your support counts')")
    tab.goto(f"{server.url}/#/ideas")
    tab.goto(f"{server.url}/#/ideas/{initiative_id}")
    tab.wait_for_selector(".initiative-progress-words:has-text('3 of 3 supporters')")
    tab.click("#submit-button")
    tab.wait_for_selector("#initiative-proposal-link")
    view = Initiatives(commons).initiative(initiative_id)
    assert view.status == "proposed"
    event = Initiatives(commons).contract.events.InitiativeSubmitted().get_logs(from_block=0)[-1]["args"]
    assert event["author"] == founders[2].address
    carry_through(commons, view.proposal_id, founders)
    assert commons.state(view.proposal_id) == "executed"
    asked = []
    tab.on("request", lambda request: asked.append(request.url))
    tab.click("#initiative-proposal-link")
    tab.wait_for_selector("h1:has-text('Seeds for the spring beds')")
    # The author and supporters, not the Initiatives contract, as the proposal's own answer names them.
    supporters = ", ".join(f"@founder{founders.index(s)}" for s in sorted(founders[3:5], key=lambda s: int(s.address, 16)))
    meta = tab.inner_text(".meta")
    assert f"proposed by @founder2 through initiative {initiative_id}, supported by {supporters}" in meta, meta
    assert not [url for url in asked if "/api/initiatives" in url]  # no scan of the initiatives for its author
    tab.click("#proposal-initiative-link")
    tab.wait_for_selector(".initiative-progress-words:has-text('3 of 3 supporters')")
    assert author.errors == [] and tab.errors == []


def finished(tab) -> str:
    """The support's last words once it counts or failed (what it was doing, if neither came)."""
    try:
        tab.wait_for_selector("#initiative-progress:has-text('counts'), #initiative-progress:has-text('Failed')")
    except playwright_api.TimeoutError:
        raise AssertionError(f"still: {tab.inner_text('#initiative-progress')}") from None
    return tab.inner_text("#initiative-progress")


def test_draft_and_support_through_the_relay_for_free_then_from_the_wallet_past_the_allowance(
    wallet_tab, server, commons, founders, w3, relayer
):
    newcomer = "0x000000000000000000000000000000000000c0DE"
    balances = {f.address: w3.eth.get_balance(f.address) for f in founders[2:5]}
    author = wallet_tab(founders[2], "#/ideas")
    author.wait_for_selector("#draft-form")
    author.fill("#draft-title", "Welcome Kim and thank founder3")
    author.fill("#draft-text", "Kim tends the **herbs**.")
    author.select_option("#draft-action-0-kind", "admit")
    author.fill("#draft-action-0-address", newcomer)
    author.fill("#draft-action-0-handle", "kim")
    author.click("#draft-add-action")
    author.fill("#draft-action-1-recipient", "@founder3")  # a member by handle
    author.fill("#draft-action-1-eth", "0.002")
    author.click("#draft-form button[type=submit]")
    author.wait_for_selector("#draft-progress:has-text('Drafted for free by the relay')")
    initiative_id = Initiatives(commons).count()
    wait_indexed(server.url, w3)
    view = Initiatives(commons).initiative(initiative_id)
    assert view.author == founders[2].address
    assert view.actions_in_words[0].startswith("Admit") and "kim" in view.actions_in_words[0]
    assert view.actions[1].target == founders[3].address and view.actions[1].value == 2 * 10**15
    free = wallet_tab(founders[3], f"#/ideas/{initiative_id}")
    free.click("#support-button")
    assert "posted for free by the relay" in finished(free)
    # founders[4] has used their free actions today: the page says so and the wallet posts the same signature.
    relayer.initiatives.allowance = 0
    paying = wallet_tab(founders[4], f"#/ideas/{initiative_id}")
    paying.click("#support-button")
    assert "your support counts" in finished(paying)
    assert paying.get_attribute("#initiative-progress", "data-relayed") == "no"
    said = paying.get_attribute("#initiative-progress", "data-relay-refused")  # what the page said before the wallet
    assert said.startswith("You have used your 0 free actions today; post it from your wallet or try again after 00:00 UTC")
    assert sorted(Initiatives(commons).initiative(initiative_id).supporters) == sorted([founders[3].address, founders[4].address])
    assert w3.eth.get_balance(founders[2].address) == balances[founders[2].address]
    assert w3.eth.get_balance(founders[3].address) == balances[founders[3].address]
    assert w3.eth.get_balance(founders[4].address) < balances[founders[4].address]  # paid its own gas
    assert author.errors == [] and free.errors == [] and paying.errors == []


def test_a_draft_to_track_a_token_and_change_the_support_share_says_what_each_field_takes(
    wallet_tab, server, commons, founders, w3, relayer
):
    gusd = deploy_token(w3, NodeSigner(w3.eth.accounts[0]), "GardenDollar")  # not tracked by this commons
    author = wallet_tab(founders[2], "#/ideas")
    author.wait_for_selector("#draft-form")
    author.fill("#draft-title", "Take gUSD and ask for more support")
    author.fill("#draft-text", "The seed fund pays in **gUSD**.")
    assert "Track a token in the treasury" in author.inner_text("#draft-action-0-kind")
    author.select_option("#draft-action-0-kind", "track")
    assert author.inner_text("#draft-action-0-token-label") == "Token to track (its address, 0x…)"
    author.fill("#draft-action-0-token", gusd)
    author.click("#draft-add-action")
    author.select_option("#draft-action-1-kind", "untrack")
    assert author.inner_text("#draft-action-1-token-label").startswith("Token to stop tracking (its symbol")
    author.select_option("#draft-action-1-kind", "setting")
    author.select_option("#draft-action-1-name", "quorum")
    assert author.inner_text("#draft-action-1-value-label") == "New value (a whole percent of members, such as 30)"
    author.select_option("#draft-action-1-name", "support-share")
    hint = "New value (the percent of members whose support puts an initiative to a vote, such as 10 or 12.5%)"
    assert author.inner_text("#draft-action-1-value-label") == hint
    author.fill("#draft-action-1-value", "12.5%")
    author.click("#draft-form button[type=submit]")
    author.wait_for_selector("#draft-progress:has-text('Drafted for free by the relay')")
    initiative_id = Initiatives(commons).count()
    wait_indexed(server.url, w3)
    author.goto(f"{server.url}/#/ideas/{initiative_id}")
    author.wait_for_selector("li:has-text('Start tracking Garden Dollar (gUSD, 6 decimals)')")  # named before any vote
    words = author.inner_text("#view")
    assert f"Start tracking Garden Dollar (gUSD, 6 decimals) at {gusd} in the treasury" in words, words
    assert "Set the support an initiative needs to 12.5% of members" in words, words
    assert author.errors == []
