# ruff: noqa: F811 (the fixtures of tests/test_reminders.py, imported, are parameters here)
"""Attacks on email reminders, against the same real parts as tests/test_reminders.py (aiosmtpd, anvil, SQLite): a
sign-in message relayed from another site through a forged Host header, an email address that decodes into a header
line, a claim that ran out mid-send, and session
tokens that are not text the API wrote."""

import dataclasses
import time
from urllib.parse import urlsplit

import sqlalchemy as sa

from api.reminders.delivery import claim_due, send_one
from api.reminders.due import record_due
from api.reminders.tables import SENT, SUBSCRIPTIONS
from tests.helpers import act, propose, to_voting
from tests.test_reminders import (  # noqa: F401 (fixtures)
    client,
    email_of,
    mailbox,
    reminded,
    reminder_settings,
    sign_in,
    signed,
    subscribe,
)

# An address the plain pattern accepts, whose local part is an RFC 2047 encoded word: a header parser decodes it
# into "a", a line feed and "Bcc: v@e.org".
ENCODED_WORD_EMAIL = "=?utf-8?q?a=0ABcc=3A=20v=40e.org?=@x.org"


def test_a_message_relayed_from_another_site_by_its_host_header_does_not_sign_in(client, founders):
    """Without COMMONS_PUBLIC_URL, a phishing site asks this API for a message with `Host: its own name`, has the
    member sign it on its page (the wallet sees its own domain, so no warning), and relays it: refused."""
    forged = {"Host": "garden-votes.example"}
    asked = client.post("/api/reminders/sign-in/message", json={"address": founders[2].address}, headers=forged)
    assert asked.status_code == 503 and asked.json()["code"] == "reminders_unavailable"
    assert "COMMONS_PUBLIC_URL" in asked.json()["detail"]
    body = signed(client, founders[2], domain="garden-votes.example", uri="http://garden-votes.example")
    relayed = client.post("/api/reminders/sign-in", json=body, headers=forged)
    assert relayed.status_code == 503 and "token" not in relayed.json()
    assert client.post("/api/reminders/sign-in", json=signed(client, founders[2])).status_code == 200  # on loopback


def test_an_email_address_holding_an_encoded_word_is_refused(client, founders):
    session = sign_in(client, founders[2])
    answer = client.put("/api/reminders/subscription", headers=session, json={"email": ENCODED_WORD_EMAIL})
    assert answer.status_code == 400 and "not an email address" in answer.json()["detail"]
    assert client.get("/api/reminders/subscription", headers=session).json()["subscription"] is None


def test_one_unsendable_address_holds_back_no_one_elses_reminder(commons, stewards, founders, reminded, mailbox):
    """A stored address the mail library refuses to write (one saved before the check, or by hand) is that reminder's
    failure, recorded and retried; the worker goes on to everyone else's."""
    now = time.time()
    with reminded.engine.begin() as conn:
        conn.execute(
            sa.insert(SUBSCRIPTIONS).values(
                address=founders[2].address,
                email=ENCODED_WORD_EMAIL,
                vote_opened=True,
                hours_before_close=0,
                delegate_not_voted=True,
                confirmed_at=now - 10,
                created_at=now - 10,  # first in line
                updated_at=now - 10,
            )
        )
    subscribe(reminded.engine, founders[3], 3, vote_opened=True, hours_before_close=0)
    to_voting(commons, propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Poison"))
    reminded()
    assert len(mailbox.to(email_of(3))) == 1
    with reminded.engine.connect() as conn:
        row = conn.execute(sa.select(SENT).where(SENT.c.address == founders[2].address)).one()
    assert row.status == "pending" and row.attempts == 1 and row.claimed_by is None and "ValueError" in row.error


def test_a_process_whose_claim_ran_out_does_not_send_what_another_now_holds(commons, stewards, founders, reminded, mailbox):
    """A process slowed past its claim (a tarpitting SMTP server) while another claimed the reminder since: the
    reminder goes out once, and the late process leaves the record as the holder wrote it."""
    subscribe(reminded.engine, founders[3], 3, vote_opened=True, hours_before_close=0)
    to_voting(commons, propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Slow server"))
    reminded.indexer.sync()
    record_due(reminded.engine)
    [key] = claim_due(reminded.engine, "slow", time.time())
    with reminded.engine.begin() as conn:  # the slow process's claim runs out (its clock moved, not waited for)
        conn.execute(sa.update(SENT).values(claimed_until=time.time() - 1))
    assert claim_due(reminded.engine, "quick", time.time()) == [key]
    slow, quick = (dataclasses.replace(reminded.mailer, process=name) for name in ("slow", "quick"))
    assert send_one(reminded.engine, quick, *key) == "sent"
    assert send_one(reminded.engine, slow, *key) == "lost"
    assert len(mailbox.got) == 1
    with reminded.engine.connect() as conn:
        assert tuple(conn.execute(sa.select(SENT.c.status, SENT.c.attempts, SENT.c.claimed_by)).one()) == ("sent", 0, None)


def test_a_session_token_that_is_not_plain_text_is_refused_not_a_server_error(client, founders):
    real = sign_in(client, founders[2])["Authorization"].removeprefix("Bearer ")
    address, expires, mac = real.split(".")
    for token in (f"{address}.{expires}.{mac[:-1]}é", f"{address}.²{expires}.{mac}", f"{address}.{expires}"):
        answer = client.get("/api/reminders/subscription", headers={"Authorization": f"Bearer {token}".encode("latin-1")})
        assert answer.status_code == 401 and answer.json()["code"] == "not_signed_in", token


def test_a_link_mailed_to_a_replaced_address_does_not_stop_the_new_ones(commons, stewards, founders, reminded, mailbox, client):
    """A member moves their reminders from an old (or shared) mailbox to a new one: whoever still reads the old one
    cannot unsubscribe them with a link from an old reminder; the new reminders' link can, once or twice."""
    from tests.test_reminders import _subscribers

    one_click = {"content": "List-Unsubscribe=One-Click", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    subscribe(reminded.engine, founders[3], 3, vote_opened=True, hours_before_close=0)
    to_voting(commons, propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Old mailbox"))
    reminded()
    old_link = _path(mailbox.to(email_of(3))[0].message["List-Unsubscribe"])
    subscribe(reminded.engine, founders[3], 30, vote_opened=True, hours_before_close=0)  # the new address
    answer = client.post(old_link, **one_click)
    assert answer.status_code == 200 and "Nothing changed" in answer.text
    assert founders[3].address in _subscribers(reminded.engine)
    to_voting(commons, propose(commons, stewards[0], [act.pay(founders[3].address, 6)], "New mailbox"))
    reminded()
    [new_mail] = mailbox.to(email_of(30))
    new_link = _path(new_mail.message["List-Unsubscribe"])
    assert new_link != old_link
    for _ in range(2):
        answer = client.post(new_link, **one_click)
        assert answer.status_code == 200 and "Unsubscribed" in answer.text
    assert founders[3].address not in _subscribers(reminded.engine)
    forged = client.post(new_link.replace(founders[3].address, founders[2].address), **one_click)
    assert forged.status_code == 400


def _path(header: str) -> str:
    link = urlsplit(header.strip("<>"))
    return f"{link.path}?{link.query}"


def test_asking_for_sign_in_messages_stores_nothing_until_a_member_signs_in(client, founders, reminded):
    """Anyone may ask for sign-in messages for any address, as fast as the write limit allows: no row is kept for
    them (nothing to fill), and only a member's signed sign-in spends (and keeps) its nonce."""
    from api.reminders.tables import NONCES

    outsider = "0x" + "ab" * 20
    for address in [outsider] * 30 + [founders[2].address] * 30:
        assert client.post("/api/reminders/sign-in/message", json={"address": address}).status_code == 200
    with reminded.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(NONCES)).scalar() == 0
    sign_in(client, founders[2])
    with reminded.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(NONCES)).scalar() == 1


def test_a_message_naming_another_scheme_for_this_domain_is_refused(client, founders):
    """`https://localhost wants you to sign in…` is what a wallet shows a page served over https; this page is
    http://localhost, so a message with that scheme was signed somewhere else (EIP-4361: the scheme must match)."""
    other = client.post("/api/reminders/sign-in", json=signed(client, founders[2], scheme="https"))
    assert other.status_code == 400 and other.json()["code"] == "wrong_scheme"
    assert "is for https://localhost, not http://localhost" in other.json()["detail"]
    assert client.post("/api/reminders/sign-in", json=signed(client, founders[2], scheme="http")).status_code == 200
