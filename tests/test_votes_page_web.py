"""The proposal view pages through a proposal's votes (Debian chromium, the real app): the answer carries the first
votes and Show more votes appends the next page, each vote once, and goes when there are no more."""

from api.cache import queries
from tests.web_support import save_screenshot

pytest_plugins = ["tests.web_fixtures"]  # fixtures: server, browser, page, voted_history


def test_show_more_votes_appends_every_vote_once_then_goes(page, server, voted_history, monkeypatch):
    monkeypatch.setattr(queries, "VOTES_IN_DETAIL", 1)  # the orchard's four votes: one in the answer, three to page
    orchard = voted_history["ids"][0]
    page.goto(f"{server.url}/#/proposal/{orchard}")
    page.wait_for_selector("#votes li")
    assert page.locator("#votes li").count() == 1
    assert "Votes (4)" in page.inner_text("article.proposal")
    page.click("#more-votes")  # the next page: up to 100 votes, here the last three
    page.wait_for_selector("#more-votes", state="detached")
    assert page.locator("#votes li").count() == 4
    reasons = page.locator("#votes li").all_inner_texts()
    assert len(set(page.locator("#votes li").evaluate_all("items => items.map((li) => li.dataset.voter)"))) == 4
    assert any("Apples for all" in r for r in reasons) and any("Too much shade" in r for r in reasons)
    save_screenshot(page, "votes-paged")
