"""The page's email reminders view, in a real browser: a member signs in with Ethereum from the test wallet
(personal_sign of the EIP-4361 message the API wrote), saves an email address and timings, is told to confirm it,
confirms it with the button of the emailed link (in another tab), sees it confirmed, and deletes it all."""

import re
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa

from api.reminders.tables import SUBSCRIPTIONS
from governance.config import get_settings
from tests.smtp_support import start_mailbox
from tests.web_support import TestWallet, connect

pytest_plugins = ["tests.web_fixtures"]  # fixtures: server, browser, page, relayer, open_proposal, voted_history


@pytest.fixture
def reminder_secret(monkeypatch):
    """The reminders' secret and a local SMTP server (aiosmtpd) set for the API; the mailbox."""
    mailbox, controller = start_mailbox()
    monkeypatch.setenv("COMMONS_REMINDER_SECRET", "reminder-web-test-secret-0123456789")
    monkeypatch.delenv("COMMONS_PUBLIC_URL", raising=False)
    for name, value in (("HOST", "127.0.0.1"), ("PORT", str(mailbox.port)), ("SECURITY", "none"), ("FROM", "g@example.org")):
        monkeypatch.setenv(f"COMMONS_SMTP_{name}", value)
    get_settings.cache_clear()
    yield mailbox
    get_settings.cache_clear()
    controller.stop()


def subscriptions(server) -> list:
    with server.server.config.app.state.engine.connect() as conn:
        return list(conn.execute(sa.select(SUBSCRIPTIONS)).all())


def test_a_member_subscribes_from_the_page_and_deletes_it(page, server, open_proposal, founders, w3, reminder_secret):
    wallet = TestWallet(w3, founders[2], w3.eth.chain_id)
    connect(page, server, wallet)
    page.wait_for_selector("#member-status:has-text('@founder2')")
    page.evaluate("() => { location.hash = '#/follow'; }")
    page.click("#reminders-link")
    page.click("#reminders-sign-in")
    page.wait_for_selector("#reminders-form")
    [(method, params)] = [r for r in wallet.requests if r[0] == "personal_sign"]
    message = bytes.fromhex(params[0][2:]).decode()
    host = server.url.removeprefix("http://")
    assert message.startswith(f"{host} wants you to sign in with your Ethereum account:\n{founders[2].address}\n")
    assert f"\nURI: {server.url}\n" in message and f"\nChain ID: {w3.eth.chain_id}\n" in message
    page.fill("#reminder-email", "gardener-two@example.org")
    page.fill("#reminder-hours", "6")
    page.uncheck("#reminder-opened")
    page.click("#reminder-save")
    page.wait_for_selector("#reminders-status:has-text('we emailed a confirmation link to gardener-two@example.org')")
    page.wait_for_selector("#reminders-confirmation:has-text('Waiting for you to confirm gardener-two@example.org')")
    assert page.is_visible("#reminder-resend")
    [row] = subscriptions(server)
    assert (row.address, row.email, row.vote_opened, row.hours_before_close, row.delegate_not_voted) == (
        founders[2].address,
        "gardener-two@example.org",
        False,
        6,
        True,
    )
    assert row.confirmed_at is None
    page.click("#reminder-resend")  # a second one at once is refused in words
    page.wait_for_selector("#reminders-status:has-text('Not sent: A confirmation was sent less than 10 minutes ago')")
    [mail] = reminder_secret.got
    assert mail.recipients == ["gardener-two@example.org"] and "@founder2" in mail.text
    link = urlsplit(re.findall(r"\S*/api/reminders/confirm\?\S+", mail.text)[0])
    tab = page.context.new_page()
    tab.goto(f"{server.url}{link.path}?{link.query}")
    assert subscriptions(server)[0].confirmed_at is None  # opening the link confirms nothing
    tab.click("#confirm")
    tab.wait_for_selector("h1:has-text('Confirmed')")
    tab.close()
    page.click("#reminder-refresh")
    page.wait_for_selector("#reminders-confirmation:has-text('Confirmed: reminders go to gardener-two@example.org')")
    assert not page.is_visible("#reminder-resend")
    assert requests.get(f"{server.url}/api/reminders/subscription", timeout=10).status_code == 401  # no session
    page.click("#reminder-delete")
    page.wait_for_selector("#reminders-status:has-text('Deleted')")
    assert subscriptions(server) == []
    assert page.errors == []


def test_someone_who_is_not_a_member_is_told_reminders_are_for_members(page, server, open_proposal, w3, reminder_secret):
    from tests.helpers import fund, test_key_signer

    outsider = test_key_signer("reminders-web-outsider")
    fund(w3, outsider.address)
    connect(page, server, TestWallet(w3, outsider, w3.eth.chain_id))
    page.wait_for_selector("#member-status:has-text('not a member')")
    page.evaluate("() => { location.hash = '#/reminders'; }")
    page.wait_for_selector("#reminders .notice:has-text('Email reminders are for members')")
    assert page.query_selector("#reminders-sign-in") is None and page.errors == []
