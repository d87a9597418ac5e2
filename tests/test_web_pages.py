"""The web client as a newcomer meets it, in a real browser: the welcome, events in words, canceled proposals,
members' handles in a large commons, no stray `null` or `undefined` anywhere (as a visitor and as a member, on a
phone and on a desktop), and the names the page shares with the Python side.
"""

import re

import pytest
import requests

from governance import actions as act
from governance.vocabulary import GOVERNANCE_EVENTS, PROPOSAL_STATES, SUPPORT
from tests.helpers import admit_crowd, propose, to_voting, vote
from tests.treasury_support import contribute
from tests.web_support import DESKTOP, PHONE, TestWallet, connect, new_tab, save_screenshot, wait_indexed

pytest_plugins = ["tests.web_fixtures"]  # fixtures: server, browser, page, relayer, open_proposal, voted_history

STRAY = re.compile(r"\b(null|undefined|NaN)\b")
BEEF = "0x000000000000000000000000000000000000bEEF"
# Everything the page shows, and what it says on hover or to a screen reader.
SHOWN_TEXT = """() => [document.body.textContent,
  ...[...document.querySelectorAll("[title], [aria-label], [placeholder]")].flatMap((e) =>
    [e.getAttribute("title"), e.getAttribute("aria-label"), e.getAttribute("placeholder")])].filter(Boolean).join("\\n")"""


@pytest.fixture
def full_history(commons, stewards, voted_history, server, w3) -> dict:
    """voted_history (#1 closed, #2 open), then #3 not yet open for voting and #4 canceled, indexed by the API."""
    pending = propose(commons, stewards[0], [act.pay(BEEF, 3)], "Paint the shed")
    canceled = propose(commons, stewards[1], [act.pay(BEEF, 4)], "Buy a goat")
    commons.submit(commons.plan_lifecycle("cancel", canceled), stewards[1])
    first, second = voted_history["ids"]
    return {"ids": (first, second, pending, canceled), "overview": wait_indexed(server.url, w3)}


def go(page, hash_path: str, ready: str) -> None:
    """Move the page to `hash_path` (no reload: a connected wallet stays connected) and wait for `ready`."""
    page.evaluate("(path) => { location.hash = path; }", hash_path)
    page.wait_for_selector(ready)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("role", ["visitor", "member"])
def test_no_view_shows_a_stray_null_or_undefined(browser, server, relayer, full_history, founders, w3, role, viewport, request):
    tab = new_tab(browser, viewport)
    if role == "member":  # founders[2] voted on #1 and may vote on #2: the vote buttons show there
        connect(tab, server, TestWallet(w3, founders[2], w3.eth.chain_id))
        tab.wait_for_selector("#member-status:has-text('@founder2')")
    else:
        tab.goto(f"{server.url}/")
    views = [("#/", "#needs-vote"), ("#/proposals", "#proposals li")]
    views += [
        (f"#/proposal/{n}", f"article[data-proposal='{pid}'] #vote-panel > *") for n, pid in enumerate(full_history["ids"], 1)
    ]
    views += [("#/decisions", "#decision-log li"), ("#/participation", "#turnout-chart"), ("#/audit", "#audit-facts")]
    views += [("#/follow", "#calendars")]
    for path, ready in views:
        go(tab, path, ready)
        text = tab.evaluate(SHOWN_TEXT)
        assert not STRAY.search(text), f"{path}: …{text[max(0, STRAY.search(text).start() - 80) :][:160]}…"
    if role == "member":
        go(tab, "#/proposal/2", "button.vote.for")  # where a literal "null" used to sit under the buttons
        assert not STRAY.search(tab.inner_text("#vote-panel"))
    save_screenshot(tab, request.node.name)
    assert tab.errors == []
    tab.context.close()


def test_visitor_is_welcomed_with_what_is_open_the_treasury_and_the_members(page, server, full_history):
    _first, second, pending, _canceled = full_history["ids"]
    page.goto(f"{server.url}/")
    page.wait_for_selector("#needs-vote")
    welcome = page.inner_text("#welcome")
    assert "Welcome to Test Garden" in welcome and "public ledger (Local test chain)" in welcome
    figures = page.inner_text("#figures")
    assert "6 members" in figures and "100 ETH in the treasury" in figures and "4 proposals" in figures
    assert page.inner_text("#needs-vote-summary") == "1 proposal is open for voting now."
    assert [c.get_attribute("data-proposal") for c in page.locator("#needs-vote .card").all()] == [str(second), str(pending)]
    how = page.inner_text("#how-it-works")
    for words in ("A wallet is an app", "Voting opens 60 s later and stays open for 60 min", "30% of members voting For or Abstain",
                  "carried out 5 min later", "which costs nothing", "pays the small fee (gas) for you"):  # fmt: skip
        assert words in how
    assert page.errors == []


def test_member_sees_which_open_proposals_still_need_their_vote(page, browser, server, relayer, full_history, founders, w3):
    second = full_history["ids"][1]
    connect(page, server, TestWallet(w3, founders[2], w3.eth.chain_id))  # voted on #1 only
    page.wait_for_selector("#needs-vote-summary:has-text('needs your vote')")
    assert page.inner_text("#needs-vote h2") == "Needs your vote now"
    assert page.inner_text("#needs-vote-summary") == "1 proposal needs your vote."
    voter = new_tab(browser)
    connect(voter, server, TestWallet(w3, founders[4], w3.eth.chain_id))  # voted on #2
    voter.wait_for_selector("#needs-vote-summary:has-text('Nothing needs your vote right now.')")
    assert "You have voted on this." in voter.inner_text(f"#needs-vote .card[data-proposal='{second}']")
    voter.context.close()


def test_canceled_proposal_says_it_was_canceled_not_that_voting_closed(page, server, full_history):
    canceled = full_history["ids"][3]
    page.goto(f"{server.url}/#/proposals?state=canceled")
    page.wait_for_selector(f"#proposals .card[data-proposal='{canceled}']")
    card = page.inner_text(f"#proposals .card[data-proposal='{canceled}']")
    assert "canceled, so no decision was made" in card and "voting closed" not in card
    go(page, "#/proposal/4", "#vote-status")
    assert "canceled" in page.inner_text(".proposal .meta") and "voting closed" not in page.inner_text(".proposal .meta")
    assert page.inner_text("#vote-status") == "There is no vote on this proposal: it was canceled."
    assert "Voting clos" not in page.inner_text("#timeline") and "Canceled" in page.inner_text("#timeline")


def test_quorum_says_what_counts_toward_it_and_what_is_missing(page, server, commons, stewards, founders, w3):
    pid = propose(commons, stewards[0], [act.pay(BEEF, 6)], "Compost bins")
    to_voting(commons, pid)
    vote(commons, founders[2], pid, "against", "Smelly")  # 30% of 6 members: a quorum of 1, which Against does not meet
    wait_indexed(server.url, w3)
    page.goto(f"{server.url}/#/proposal/{pid}")
    page.wait_for_selector(".proposal .quorum")
    assert page.inner_text(".proposal .quorum") == (
        "Quorum not reached yet: 0 For or Abstain of 1 needed, 1 more to go (Against votes do not count toward it). "
        "1 of 6 members voted."
    )
    vote(commons, founders[3], pid, "abstain")
    wait_indexed(server.url, w3)
    page.reload()
    page.wait_for_selector(".proposal .quorum:has-text('Quorum reached: 1 For or Abstain, 1 needed.')")


def test_proposal_text_is_shown_without_the_line_binding_it_to_its_proposer(page, server, open_proposal):
    page.goto(f"{server.url}/#/proposal/{open_proposal}")
    page.wait_for_selector("#proposal-text li")
    text = page.inner_text("#proposal-text")
    assert text.startswith("We mow together.") and text.rstrip().endswith("a rota") and "#proposer=" not in text


def test_decision_log_names_events_in_words_with_the_event_name_on_hover(page, server, voted_history):
    page.goto(f"{server.url}/#/decisions")
    page.wait_for_selector("#decision-log li")
    kinds = {(k.inner_text(), k.get_attribute("title")) for k in page.locator("#decision-log .kind").all()}
    assert ("Vote", "VoteCast") in kinds and ("Proposal", "ProposalCreated") in kinds
    assert all(words != name for words, name in kinds)
    settings = [item.inner_text().split("\n")[0] for item in page.locator("#decision-log li[data-kind$='Set']").all()]
    assert "Setting changed voting period set to 60 min" in settings and "Setting changed voting delay set to 60 s" in settings


def test_a_contribution_reads_in_words_with_its_amount_and_note(page, server, commons, founders, w3):
    contribute(commons, founders[2], "0.5", note="For the seed fund")
    wait_indexed(server.url, w3)
    page.goto(f"{server.url}/#/decisions")
    page.wait_for_selector("#decision-log li[data-kind='Contributed']")
    assert page.inner_text("#decision-log li[data-kind='Contributed']").split("\n")[0] == (
        "Contribution @founder2 contributed 0.5 ETH (“For the seed fund”)"
    )


def test_handles_show_for_members_beyond_the_api_s_first_page(page, server, commons, w3):
    admit_crowd(w3, commons, 501)  # with the 6 founders, member 507 is on the API's second page of 500
    assert wait_indexed(server.url, w3, timeout=60)["member_count"] == 507
    page.goto(f"{server.url}/#/decisions?group=membership")
    page.wait_for_selector("#decision-log li")
    newest = page.inner_text("#decision-log li[data-kind='DelegateChanged']")  # the first match is the newest
    assert newest.startswith("Delegation @crowd500 votes for themselves")


def test_pending_proposal_follows_the_chain_s_clock_not_its_last_block(page, server, commons, stewards, w3):
    """anvil mines only when a transaction arrives: the chain's now moves on while its last block's time stands still."""
    pid = propose(commons, stewards[0], [act.pay(BEEF, 5)], "Fix the gate")
    snapshot = commons.governor.functions.proposalSnapshot(pid).call()
    wait_indexed(server.url, w3)
    w3.provider.make_request("evm_increaseTime", [120])  # no block: the index still says pending
    clock = requests.get(f"{server.url}/api/clock", timeout=10).json()
    assert clock["chain_time"] > snapshot > w3.eth.get_block("latest")["timestamp"]
    page.goto(f"{server.url}/#/proposals")
    page.wait_for_selector(f"#proposals .card[data-proposal='{pid}']")
    assert "voting opens with the chain's next block" in page.inner_text(f"#proposals .card[data-proposal='{pid}'] .meta")


def test_favicon_is_served(server):
    answer = requests.get(f"{server.url}/favicon.ico", timeout=10)
    assert answer.status_code == 200 and answer.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert requests.get(f"{server.url}/favicon.svg", timeout=10).headers["content-type"].startswith("image/svg+xml")


def test_page_has_words_for_every_name_the_python_side_defines(page, server, full_history):
    vocabulary = requests.get(f"{server.url}/api/vocabulary", timeout=10).json()
    assert (vocabulary["proposal_states"], vocabulary["support"]) == (list(PROPOSAL_STATES), SUPPORT)
    page.goto(f"{server.url}/")
    page.wait_for_selector("#needs-vote")
    words = page.evaluate(
        """async () => { const w = await import("/words.js");
           return Object.fromEntries(["STATE_WORDS", "SUPPORT_WORDS", "KIND_WORDS", "GROUP_WORDS", "SETTING_WORDS"]
             .map((name) => [name, Object.keys(w[name])])); }"""
    )
    kinds = {kind for group in vocabulary["decision_groups"].values() for kind in group}
    assert set(words["STATE_WORDS"]) == set(PROPOSAL_STATES)
    assert set(words["SUPPORT_WORDS"]) == set(SUPPORT)
    assert set(words["GROUP_WORDS"]) == set(vocabulary["decision_groups"])
    assert kinds <= set(words["KIND_WORDS"])
    settings = {changed["setting"] for changed in vocabulary["setting_events"].values()}
    assert set(full_history["overview"]["settings"]) <= settings <= set(words["SETTING_WORDS"])


def test_decision_log_filter_groups_cover_every_event_the_log_records(server):
    groups = requests.get(f"{server.url}/api/vocabulary", timeout=10).json()["decision_groups"]
    grouped = [kind for kinds in groups.values() for kind in kinds]
    assert sorted(grouped) == sorted(set().union(*GOVERNANCE_EVENTS.values()))  # each in exactly one group


def test_libraries_are_served_as_es_modules_and_nothing_else_from_node_modules(server):
    for name in ("ethers.js", "purify.js", "markdown-it.js"):
        answer = requests.get(f"{server.url}/vendor/{name}", timeout=10)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/javascript")
        assert re.search(r"export\s*\{", answer.text)  # an ES module, not a UMD script setting a global
    assert requests.get(f"{server.url}/vendor/package.json", timeout=10).status_code == 404
    assert requests.get(f"{server.url}/vendor/..%2Fpackage.json", timeout=10).status_code == 404
