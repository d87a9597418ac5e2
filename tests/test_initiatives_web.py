"""The Ideas view in Chromium: a member drafts with a live preview, two others support from their wallets, one puts
it to a vote, and the proposal (author named) is voted, queued and executed; the page links both ways. With a relay,
drafting (actions from the vocabulary, members by @handle) and supporting cost the members nothing, and past a
member's free actions of the day the page sends from the wallet instead. An initiative's author revises it (the form
filled with its current text and actions; supporters must sign again) or withdraws it, for free through the relay or
from the wallet; a supporter withdraws their support from the wallet; nobody else sees those buttons."""

import playwright.sync_api as playwright_api
import pytest
import requests

from governance import actions as act
from governance.chain import NodeSigner
from governance.initiatives import Initiatives, SupportSignature, sign_support
from tests.helpers import carry_through, now
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


def test_a_contract_call_drafted_on_the_page_keeps_a_number_beyond_2_53_exact(wallet_tab, server, commons, founders, w3, relayer):
    exact = 10**21 + 1  # 1000.000000000000000001 of an 18-decimal token: JSON.parse alone would send 10**21
    author = wallet_tab(founders[2], "#/ideas")
    author.wait_for_selector("#draft-form")
    author.fill("#draft-title", "Send the exact amount")
    author.fill("#draft-text", "Not a wei more or less.")
    author.select_option("#draft-action-0-kind", "call")
    author.fill("#draft-action-0-target", SOMEONE)
    author.fill("#draft-action-0-signature", "transfer(address,uint256)")
    author.fill("#draft-action-0-args", f'["{SOMEONE}", {exact}')  # the closing bracket forgotten: refused in words
    author.click("#draft-form button[type=submit]")
    author.wait_for_selector("#draft-progress:has-text('Action 1: the arguments must be a JSON list')")
    author.fill("#draft-action-0-args", f'["{SOMEONE}", {exact}]')
    author.click("#draft-form button[type=submit]")
    author.wait_for_selector("#draft-progress:has-text('Drafted')")
    view = Initiatives(commons).initiative(Initiatives(commons).count())
    assert view.actions == [act.contract_call(SOMEONE, "transfer(address,uint256)", [SOMEONE, exact])]
    assert author.errors == []


def drafted(commons, author, proposal, text) -> int:
    """An initiative drafted by `author` from the library (the page's own drafting is tested above)."""
    initiatives = Initiatives(commons)
    commons.submit(initiatives.plan_draft(proposal, text), author)
    return initiatives.count()


def supported(commons, initiative_id: int, supporter) -> None:
    """`supporter`'s signature of support for the current revision, posted by someone else (as a relay would)."""
    initiatives = Initiatives(commons)
    expiry = now(commons.w3) + 7 * 24 * 3600
    typed = initiatives.support_typed_data(initiative_id, supporter.address, expiry)
    message = typed["message"]
    signature = SupportSignature(
        initiative_id, message["revision"], supporter.address, message["nonce"], expiry, sign_support(typed, supporter.account)
    )
    commons.submit(initiatives.plan_post_support(signature), NodeSigner(commons.w3.eth.accounts[8]))


def in_api(server, initiative_id: int) -> dict:
    return requests.get(f"{server.url}/api/initiatives/{initiative_id}", timeout=5).json()


def last_words(tab, *done: str) -> str:
    """#initiative-progress once it says one of `done` or failed (what it was doing, if neither came)."""
    wanted = ", ".join(f"#initiative-progress:has-text('{words}')" for words in (*done, "Failed"))
    try:
        tab.wait_for_selector(wanted)
    except playwright_api.TimeoutError:
        raise AssertionError(f"still: {tab.inner_text('#initiative-progress')}") from None
    return tab.inner_text("#initiative-progress")


def test_the_author_revises_from_the_page_for_free_and_supporters_must_sign_again(
    wallet_tab, server, commons, founders, w3, relayer
):
    text = "# Seeds for the spring beds\n\nWe need **seeds**."
    proposal = [act.pay(SOMEONE, 10**15), act.change_setting(commons.addresses, "support-share", 1250)]
    initiative_id = drafted(commons, founders[2], proposal, text)
    supported(commons, initiative_id, founders[3])
    wait_indexed(server.url, w3)
    assert in_api(server, initiative_id)["support_count"] == 2
    balance = w3.eth.get_balance(founders[2].address)
    author = wallet_tab(founders[2], f"#/ideas/{initiative_id}")
    assert author.locator("#support-button").count() == 0  # the author's support counts already
    author.click("#revise-button")
    # The form holds the initiative as it is: title, text and each action in the form's own kinds.
    assert author.input_value("#draft-title") == "Seeds for the spring beds"
    assert author.input_value("#draft-text") == "We need **seeds**."
    assert author.input_value("#draft-action-0-kind") == "pay"
    assert author.input_value("#draft-action-0-recipient") == SOMEONE
    assert author.input_value("#draft-action-0-eth") == "0.001"
    assert author.input_value("#draft-action-1-kind") == "setting"
    assert author.input_value("#draft-action-1-name") == "support-share"
    assert author.input_value("#draft-action-1-value") == "12.5%"
    warning = author.inner_text("#revise-warning")
    assert "signatures of its supporter stop counting: each must read the new text and sign again" in warning, warning
    author.fill("#draft-title", "Seeds and bulbs for the spring beds")
    author.fill("#draft-action-0-eth", "0.002")
    author.click("#draft-form button[type=submit]")
    said = last_words(author, "Revised")
    assert said.startswith("Revised (revision 1), sent for free by the relay."), said
    assert "The member who supported it must sign again for their support to count." in said, said
    assert author.get_attribute("#initiative-progress", "data-relayed") == "yes"
    # The view is the revised initiative, read from the API again.
    author.wait_for_selector("h1:has-text('Seeds and bulbs for the spring beds')")
    assert author.locator("#revise-form").count() == 0
    assert "1 of 3 supporters" in author.inner_text(".initiative-progress-words")
    answer = in_api(server, initiative_id)
    assert answer["revision"] == 1 and answer["supporters"] == [] and answer["support_count"] == 1
    assert answer["title"] == "Seeds and bulbs for the spring beds" and answer["values"][0] == str(2 * 10**15)
    assert answer["calldatas"][1] == "0x" + proposal[1].calldata.hex()  # the setting kept exactly
    view = Initiatives(commons).initiative(initiative_id)
    assert view.revision == 1 and view.actions[0].value == 2 * 10**15
    assert w3.eth.get_balance(founders[2].address) == balance  # free for the author
    assert author.errors == []


def test_the_author_withdraws_from_the_page_after_confirming_from_the_wallet_past_the_allowance(
    wallet_tab, server, commons, founders, w3, relayer
):
    initiative_id = drafted(commons, founders[2], [act.pay(SOMEONE, 10**15)], "# A second shed\n\nFor the tools.")
    supported(commons, initiative_id, founders[3])
    wait_indexed(server.url, w3)
    relayer.initiatives.allowance = 0  # the author's free actions of the day are used: the wallet sends it
    author = wallet_tab(founders[2], f"#/ideas/{initiative_id}")
    author.click("#withdraw-button")
    confirm = author.inner_text("#withdraw-confirm")
    assert "This cannot be undone: it can never be put to a vote, and its supporters' signatures stop counting." in confirm
    author.click("#withdraw-confirm-button")
    said = last_words(author, "Withdrawn")
    assert said == "Withdrawn. It can never be put to a vote.", said
    assert author.get_attribute("#initiative-progress", "data-relayed") == "no"
    refused = author.get_attribute("#initiative-progress", "data-relay-refused")
    assert refused.startswith("You have used your 0 free actions today"), refused
    assert in_api(server, initiative_id)["status"] == "withdrawn"
    assert Initiatives(commons).initiative(initiative_id).status == "withdrawn"
    author.wait_for_selector("p.muted:has-text('withdrawn')")  # the view shows it again, without buttons
    assert author.locator("#revise-button, #withdraw-button, #support-button").count() == 0
    assert author.errors == []


def test_a_supporter_withdraws_their_support_from_the_wallet_and_others_see_no_authors_buttons(
    wallet_tab, server, commons, founders, w3, relayer
):
    initiative_id = drafted(commons, founders[2], [act.pay(SOMEONE, 10**15)], "# Rain barrels\n\nCatch the rain.")
    for supporter in founders[3:5]:
        supported(commons, initiative_id, supporter)
    wait_indexed(server.url, w3)
    assert in_api(server, initiative_id)["support_count"] == 3
    # Someone else: may support it, neither revise nor withdraw it.
    other = wallet_tab(founders[1], f"#/ideas/{initiative_id}")
    other.wait_for_selector("#support-button")
    assert other.locator("#revise-button, #withdraw-button, #withdraw-support-button").count() == 0
    balance = w3.eth.get_balance(founders[3].address)
    supporter = wallet_tab(founders[3], f"#/ideas/{initiative_id}")
    assert supporter.locator("#revise-button, #withdraw-button, #support-button").count() == 0
    assert "you pay its fee" in supporter.inner_text("#view .actions")
    supporter.click("#withdraw-support-button")
    said = last_words(supporter, "Your support is withdrawn")
    assert said.startswith("Your support is withdrawn: your signature no longer counts."), said
    answer = in_api(server, initiative_id)
    assert answer["support_count"] == 2 and [s["address"] for s in answer["supporters"]] == [founders[4].address]
    assert "2 of 3 supporters" in supporter.inner_text(".initiative-progress-words")  # the view read it again
    supporter.wait_for_selector("#support-button")  # and may support it again
    assert w3.eth.get_balance(founders[3].address) < balance  # paid the transaction's fee
    assert other.errors == [] and supporter.errors == []
