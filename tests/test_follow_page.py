"""The page's "follow the votes" view, in a real browser: calendar links for everyone and for the connected member."""

import icalendar
import requests

from tests.web_support import TestWallet, connect

pytest_plugins = ["tests.web_fixtures"]  # fixtures: server, browser, page, relayer, open_proposal, voted_history


def test_visitor_is_offered_the_commons_calendar_as_webcal_and_https(page, server, voted_history):
    page.goto(f"{server.url}/#/follow")
    page.wait_for_selector("#calendar-commons")
    webcal = page.get_attribute("#calendar-commons a", "href")
    assert webcal.startswith("webcal://") and webcal.endswith("/api/calendar.ics")
    https = page.inner_text("#calendar-commons code")
    assert https == webcal.replace("webcal:", "http:")
    assert "Subscribing is not downloading" in page.inner_text("main, body")
    assert page.get_attribute("#webhooks-note a", "href") == "/api/hooks/public-key"
    assert icalendar.Calendar.from_ical(requests.get(https, timeout=10).content).walk("VEVENT")


def test_a_connected_member_gets_a_calendar_of_their_own_votes(page, server, voted_history, founders, w3):
    connect(page, server, TestWallet(w3, founders[2], w3.eth.chain_id))
    page.wait_for_selector("#member-status:has-text('@founder2')")
    page.evaluate("() => { location.hash = '#/follow'; }")
    page.wait_for_selector("#calendar-mine")
    assert page.inner_text("#calendar-mine code").endswith(f"/api/members/{founders[2].address}/calendar.ics")
    assert page.get_attribute("#feed-mine", "href") == f"/api/members/{founders[2].address}/feed.atom"
    assert page.errors == []
