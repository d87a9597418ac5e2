# ruff: noqa: F811 (the fixtures of tests/test_reminders.py, imported, are parameters here)
"""Double opt-in and membership for email reminders, against real parts (aiosmtpd, anvil, SQLite and PostgreSQL): a
saved address gets one confirmation link and no reminder before its owner presses Confirm (a GET of the link, as a
mail scanner does, confirms nothing); asking again is rate-limited so a stranger cannot be mail-bombed; a session
stops working, and the email address is deleted, once the member is removed."""

import re
import threading
import time
from urllib.parse import urlsplit

import sqlalchemy as sa

from api.db import make_engine
from api.reminders.confirmation import RESEND_SECONDS, TooSoon, send_confirmation
from api.reminders.mail import Smtp
from api.reminders.subscriptions import Preferences, save
from api.reminders.tables import SUBSCRIPTIONS
from api.reminders.tokens import CONFIRM_SECONDS, confirm_token, confirm_valid
from tests.cache_support import _empty_postgres
from tests.helpers import act, pass_proposal, propose, to_voting
from tests.test_reminders import (  # noqa: F401 (fixtures)
    FROM,
    SECRET,
    client,
    email_of,
    mailbox,
    reminded,
    reminder_settings,
    sign_in,
    signed,
)

STRANGER = "stranger@example.net"


def put(client, session, email: str, **prefs):
    return client.put("/api/reminders/subscription", headers=session, json={"email": email, **prefs})


def link_in(mail) -> str:
    [url] = re.findall(r"\S*/api/reminders/confirm\?\S+", mail.text)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def row(engine, address: str):
    with engine.connect() as conn:
        return conn.execute(sa.select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.address == address)).first()


def test_no_reminder_reaches_an_address_until_its_owner_confirms_with_the_button(
    commons, stewards, founders, reminded, mailbox, client
):
    session = sign_in(client, founders[3])
    saved = put(client, session, email_of(3), vote_opened=True, hours_before_close=0)
    assert saved.status_code == 200, saved.text
    assert saved.json()["subscription"]["confirmed"] is False and saved.json()["confirmation"]["sent"] is True
    [mail] = mailbox.got
    assert mail.recipients == [email_of(3)] and mail.message["To"] == email_of(3)
    assert mail.message["Subject"] == "Confirm your email address for reminders of votes"
    assert f"@founder3 ({founders[3].address})" in mail.text and "ignore this email: it is safe" in mail.text
    link = link_in(mail)
    assert email_of(3) not in link  # the address is bound in the HMAC, never written in a URL a server logs

    to_voting(commons, propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Before confirming"))
    reminded()
    assert mailbox.to(email_of(3)) == [mail]  # nothing but the confirmation
    for _ in range(2):  # a mail scanner fetching the link confirms nothing
        page = client.get(link)
        assert page.status_code == 200 and 'id="confirm"' in page.text and 'method="post"' in page.text
    assert row(reminded.engine, founders[3].address).confirmed_at is None
    assert client.get("/api/reminders/subscription", headers=session).json()["subscription"]["confirmed"] is False

    confirmed = client.post(link)
    assert confirmed.status_code == 200 and "Confirmed" in confirmed.text
    assert client.post(link).status_code == 200  # twice changes nothing
    assert client.get("/api/reminders/subscription", headers=session).json()["subscription"]["confirmed"] is True
    reminded()
    assert [m.message["Subject"] for m in mailbox.to(email_of(3))][1:] == ["Vote open on #1: Before confirming"]

    same = put(client, session, email_of(3), vote_opened=True, hours_before_close=6)  # timings only: stays confirmed
    assert same.json()["subscription"]["confirmed"] is True and same.json()["confirmation"]["sent"] is False
    moved = put(client, session, email_of(30), vote_opened=True, hours_before_close=6)  # a new address: confirm again
    assert moved.json()["subscription"]["confirmed"] is False
    assert client.post(link).status_code == 400  # the old address's link confirms nothing now


def test_asking_again_is_rate_limited_so_a_stranger_cannot_be_mail_bombed(founders, reminded, mailbox, client):
    session = sign_in(client, founders[2])
    assert put(client, session, STRANGER).json()["confirmation"]["sent"] is True
    again = client.post("/api/reminders/subscription/confirmation", headers=session)
    assert again.status_code == 429 and "less than 10 minutes ago" in again.json()["detail"]
    for email in ("other@example.net", STRANGER, "third@example.net", STRANGER):  # switching addresses does not help
        answer = put(client, session, email)
        assert answer.status_code == 200 and answer.json()["confirmation"]["sent"] is False
        assert answer.json()["confirmation"]["wait"] > RESEND_SECONDS - 60
    assert [m.recipients for m in mailbox.got] == [[STRANGER]]

    with reminded.engine.begin() as conn:  # ten minutes later
        conn.execute(sa.update(SUBSCRIPTIONS).values(confirmation_sent_at=time.time() - RESEND_SECONDS - 1))
    assert client.post("/api/reminders/subscription/confirmation", headers=session).status_code == 200
    assert [m.recipients for m in mailbox.got] == [[STRANGER], [STRANGER]]
    assert client.post("/api/reminders/subscription/confirmation", headers=session).status_code == 429
    assert len(mailbox.got) == 2


def test_a_refused_confirmation_can_be_asked_again_at_once(founders, reminded, mailbox, client):
    session = sign_in(client, founders[2])
    mailbox.refuse.add(STRANGER)
    refused = put(client, session, STRANGER)
    assert refused.status_code == 502 and STRANGER not in refused.text
    mailbox.refuse.clear()
    assert client.post("/api/reminders/subscription/confirmation", headers=session).status_code == 200
    assert [m.recipients for m in mailbox.got] == [[STRANGER]]


def test_forged_expired_or_someone_elses_confirmation_links_confirm_nothing(founders, reminded, mailbox, client):
    secret = SECRET.encode()
    save(reminded.engine, founders[2].address, Preferences(email_of(2)))
    mine = confirm_token(secret, founders[2].address, email_of(2))
    assert confirm_valid(secret, founders[2].address, email_of(2), mine)
    assert not confirm_valid(secret, founders[2].address, email_of(2), mine, now=time.time() + CONFIRM_SECONDS + 1)
    assert not confirm_valid(secret, founders[2].address, email_of(9), mine)
    expired = confirm_token(secret, founders[2].address, email_of(2), now=time.time() - CONFIRM_SECONDS - 1)
    other_key = confirm_token(b"another-commons-secret-0123", founders[2].address, email_of(2))
    save(reminded.engine, founders[4].address, Preferences(email_of(4)))
    for address, token in (
        (founders[2].address, expired),
        (founders[2].address, other_key),
        (founders[2].address, mine[:-1] + ("A" if mine[-1] != "A" else "B")),
        (founders[4].address, mine),  # another member's address
        (founders[2].address, "²" + mine),
    ):
        for method in (client.get, client.post):
            answer = method(f"/api/reminders/confirm?address={address}&token={token}")
            assert answer.status_code == 400 and "not valid" in answer.json()["detail"], (address, token)
    assert row(reminded.engine, founders[2].address).confirmed_at is None
    assert row(reminded.engine, founders[4].address).confirmed_at is None


def test_a_removed_members_session_stops_and_their_email_is_deleted(commons, stewards, founders, reminded, mailbox, client):
    session = sign_in(client, founders[4])
    assert put(client, session, email_of(4)).status_code == 200
    assert client.post(link_in(mailbox.got[0])).status_code == 200
    pass_proposal(commons, stewards[0], founders[:4], [act.remove(commons.addresses, founders[4].address)], "Remove")
    reminded.indexer.sync()
    answer = client.get("/api/reminders/subscription", headers=session)  # the session's hour has not passed
    assert answer.status_code == 403 and "no longer a member" in answer.json()["detail"]
    assert row(reminded.engine, founders[4].address) is None
    assert put(client, session, email_of(4)).status_code == 403 and row(reminded.engine, founders[4].address) is None


def test_each_pass_deletes_the_email_of_a_member_removed_since(commons, stewards, founders, reminded):
    save(reminded.engine, founders[4].address, Preferences(email_of(4)))
    save(reminded.engine, founders[3].address, Preferences(email_of(3)))
    pass_proposal(commons, stewards[0], founders[:4], [act.remove(commons.addresses, founders[4].address)], "Remove")
    reminded()  # no session involved: the worker's pass
    assert row(reminded.engine, founders[4].address) is None
    assert row(reminded.engine, founders[3].address).email == email_of(3)


def test_two_requests_at_once_on_postgresql_mail_one_confirmation(founders, pg_database, mailbox):
    _empty_postgres(pg_database)
    engine = make_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE reminder_subscription"))
    save(engine, founders[2].address, Preferences(STRANGER))
    smtp = Smtp("127.0.0.1", mailbox.port, "none", FROM)
    outcomes: list = []
    start = threading.Barrier(6)

    def ask():
        start.wait()
        try:
            outcomes.append(send_confirmation(engine, smtp, SECRET.encode(), "", founders[2].address))
        except TooSoon:
            outcomes.append("too soon")

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes)) == ["True"] + ["too soon"] * 5
    assert [m.recipients for m in mailbox.got] == [[STRANGER]]
    engine.dispose()


def test_a_reminder_recorded_before_the_address_changed_goes_to_neither(commons, stewards, founders, reminded, mailbox):
    from api.reminders.delivery import send_due
    from api.reminders.due import record_due
    from tests.test_reminders import statuses, subscribe

    subscribe(reminded.engine, founders[3], 3, vote_opened=True, hours_before_close=0)  # confirmed
    to_voting(commons, propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Moved"))
    reminded.indexer.sync()
    assert record_due(reminded.engine) == 1
    save(reminded.engine, founders[3].address, Preferences(STRANGER, vote_opened=True, hours_before_close=0))
    send_due(reminded.engine, reminded.mailer)
    assert mailbox.got == [] and statuses(reminded.engine) == {(founders[3].address, "opened"): "gone"}


def test_a_handle_with_line_breaks_stays_in_the_body_of_the_confirmation():
    from email import message_from_bytes, policy

    from api.reminders.confirmation import confirmation_message

    hostile = "gardener\r\nBcc: victim@example.org\r\nSubject: pay now"
    message = confirmation_message(FROM, STRANGER, hostile, "0x" + "ab" * 20, "https://g.example.org/api/reminders/confirm")
    parsed = message_from_bytes(message.as_bytes(), policy=policy.SMTP)
    assert sorted(parsed.keys()) == sorted(
        ["From", "To", "Subject", "Date", "Auto-Submitted", "Content-Type", "Content-Transfer-Encoding", "MIME-Version"]
    )
    assert parsed["To"] == STRANGER and parsed["Bcc"] is None
    assert parsed["Subject"] == "Confirm your email address for reminders of votes"
    assert "@gardener Bcc: victim@example.org Subject: pay now (0x" in parsed.get_body(("plain",)).get_content()
