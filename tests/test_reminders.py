"""Email reminders to members who have not voted, against a real SMTP server (aiosmtpd), anvil, SQLite and PostgreSQL:
Sign-In with Ethereum refusals, a reminder to who has not voted and not to who has, stopping once the ballot is
indexed, the delegate's reminder, several API processes sending each once, one-click unsubscribe, hostile titles, and
email addresses kept out of every public answer, export, webhook and log."""

import dataclasses
import logging
import os
import subprocess
import sys
import time
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient

from api.app import create_app
from api.db import make_engine
from api.reminders.delivery import Mailer, send_due
from api.reminders.due import record_due
from api.reminders.mail import Reminder, Smtp, email_message
from api.reminders.subscriptions import Preferences, confirm, save
from api.reminders.tables import SENT, SUBSCRIPTIONS
from governance import siwe
from governance.config import get_settings
from tests import helpers
from tests.cache_support import _empty_postgres, fresh_sqlite, indexer_for
from tests.helpers import act, free_port, propose, to_voting, vote
from tests.smtp_support import start_mailbox

SECRET = "reminder-test-secret-0123456789"
PUBLIC = "https://garden.example.org"
FROM = "Test Garden <votes@garden.example.org>"


def email_of(i: int) -> str:
    return f"secret-gardener-{i}@example.org"


@pytest.fixture
def mailbox():
    mailbox, controller = start_mailbox()
    yield mailbox
    controller.stop()


@pytest.fixture
def reminder_settings(monkeypatch):
    monkeypatch.setenv("COMMONS_REMINDER_SECRET", SECRET)
    monkeypatch.delenv("COMMONS_PUBLIC_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def reminded(commons, anvil_url, tmp_path, mailbox, reminder_settings):
    """A SQLite cache indexing the test's chain, a mailer to the local SMTP server, and `step()`: index, then one
    pass of the worker (record what is due, send it)."""
    url = fresh_sqlite(tmp_path, "reminders.db")
    engine = make_engine(url)
    indexer = indexer_for(commons.manifest, anvil_url, url)
    indexer.sync()
    mailer = Mailer(Smtp("127.0.0.1", mailbox.port, "none", FROM), SECRET.encode(), PUBLIC, "test")

    def step():
        indexer.sync()
        record_due(engine)
        send_due(engine, mailer)

    step.engine, step.url, step.indexer, step.mailer = engine, url, indexer, mailer
    return step


def subscribe(engine, member, i: int, **prefs) -> None:
    """Subscribe `member` at email_of(i), confirmed as its owner would from the link (tests/test_reminders_confirm.py
    follows that link through the API)."""
    save(engine, member.address, Preferences(email_of(i), **prefs))
    assert confirm(engine, member.address, email_of(i))


def statuses(engine) -> dict:
    with engine.connect() as conn:
        return {(r.address, r.kind): r.status for r in conn.execute(sa.select(SENT))}


def smtp_env(mailbox) -> dict:
    """The settings of the local SMTP server, as an operator writes them."""
    return {
        "COMMONS_SMTP_HOST": "127.0.0.1",
        "COMMONS_SMTP_PORT": str(mailbox.port),
        "COMMONS_SMTP_SECURITY": "none",
        "COMMONS_SMTP_FROM": FROM,
    }


# ---- sign-in with Ethereum ------------------------------------------------------------------------------------------


@pytest.fixture
def client(reminded, mailbox, monkeypatch):
    for name, value in smtp_env(mailbox).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    app = create_app(reminded.url, run_hooks=False, run_reminders=False, upgrade_schema=False)
    with TestClient(app, base_url="http://localhost") as test_client:  # a page on this machine: no public URL needed
        yield test_client


def signed(client, signer, address: str | None = None, **changes) -> dict:
    """A sign-in message issued for `address` (default: the signer's), changed as given, signed by `signer`."""
    answer = client.post("/api/reminders/sign-in/message", json={"address": address or signer.address})
    assert answer.status_code == 200, answer.text
    text = answer.json()["message"]
    if changes:
        text = dataclasses.replace(siwe.parse(text), **changes).text()
    signature = signer.account.sign_message(encode_defunct(text=text)).signature
    return {"message": text, "signature": "0x" + bytes(signature).hex()}


def sign_in(client, signer) -> dict:
    answer = client.post("/api/reminders/sign-in", json=signed(client, signer))
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_a_member_signs_in_subscribes_reads_and_deletes_their_subscription(client, founders):
    message = client.post("/api/reminders/sign-in/message", json={"address": founders[2].address}).json()["message"]
    assert message.startswith("localhost wants you to sign in with your Ethereum account:\n" + founders[2].address)
    assert "\nURI: http://localhost\n" in message and "\nChain ID: 31337\n" in message and "Expiration Time: " in message
    session = sign_in(client, founders[2])
    assert client.get("/api/reminders/subscription", headers=session).json()["subscription"] is None
    saved = client.put(
        "/api/reminders/subscription",
        headers=session,
        json={"email": email_of(2), "vote_opened": False, "hours_before_close": 6, "delegate_not_voted": True},
    )
    assert saved.status_code == 200 and saved.headers["cache-control"] == "no-store"
    mine = client.get("/api/reminders/subscription", headers=session).json()["subscription"]
    assert (mine["email"], mine["vote_opened"], mine["hours_before_close"]) == (email_of(2), False, 6)
    assert client.delete("/api/reminders/subscription", headers=session).json() == {
        "address": founders[2].address,
        "deleted": True,
    }
    assert client.get("/api/reminders/subscription", headers=session).json()["subscription"] is None
    refused = client.get(
        "/api/reminders/subscription", headers={"Authorization": "Bearer " + founders[2].address + ".9999999999.x"}
    )
    assert refused.status_code == 401 and "Sign in with your wallet" in refused.json()["detail"]


def test_a_bad_email_address_is_refused_in_words(client, founders):
    session = sign_in(client, founders[2])
    answer = client.put("/api/reminders/subscription", headers=session, json={"email": "a@b.org\r\nBcc: x@y.org"})
    assert answer.status_code == 400 and "not an email address" in answer.json()["detail"]
    assert client.get("/api/reminders/subscription", headers=session).json()["subscription"] is None


def test_a_reused_nonce_is_refused(client, founders):
    body = signed(client, founders[2])
    assert client.post("/api/reminders/sign-in", json=body).status_code == 200
    again = client.post("/api/reminders/sign-in", json=body)
    assert again.status_code == 401 and again.json()["code"] == "nonce_used"
    assert "already used" in again.json()["detail"]


@pytest.mark.parametrize(
    ("changes", "status", "code", "words"),
    [
        ({"domain": "evil.example"}, 400, "wrong_domain", "is for evil.example, not localhost"),
        ({"uri": "https://evil.example"}, 400, "wrong_uri", "names the address https://evil.example"),
        ({"chain_id": 1}, 400, "wrong_chain", "is for chain 1; this commons is on chain 31337"),
        ({"expiration_time": "2020-01-01T00:00:00Z"}, 401, "expired", "has expired"),
        ({"issued_at": "2099-01-01T00:00:00Z"}, 400, "not_yet_valid", "issued in the future"),
        ({"nonce": "abcdefgh12345678"}, 401, "unknown_nonce", "did not issue that sign-in nonce"),
    ],
)
def test_a_sign_in_message_not_for_this_page_chain_or_time_is_refused(client, founders, changes, status, code, words):
    answer = client.post("/api/reminders/sign-in", json=signed(client, founders[2], **changes))
    assert answer.status_code == status and answer.json()["code"] == code
    assert words in answer.json()["detail"]


def test_with_a_public_url_only_messages_for_its_domain_sign_in(client, founders, monkeypatch):
    """A page on another host (a look-alike site) gets a message signed for itself; this API refuses it."""
    monkeypatch.setenv("COMMONS_PUBLIC_URL", "https://garden.example.org/")
    get_settings.cache_clear()
    message = client.post("/api/reminders/sign-in/message", json={"address": founders[2].address}).json()["message"]
    assert message.startswith("garden.example.org wants you to sign in") and "\nURI: https://garden.example.org\n" in message
    look_alike = client.post(
        "/api/reminders/sign-in", json=signed(client, founders[2], domain="localhost", uri="http://localhost")
    )
    assert look_alike.status_code == 400 and "is for localhost, not garden.example.org" in look_alike.json()["detail"]
    assert client.post("/api/reminders/sign-in", json=signed(client, founders[2])).status_code == 200


def test_a_message_naming_someone_else_is_refused(client, founders):
    """An attacker signs a message that names a member's address (to read or change their subscription)."""
    attacker = helpers.test_key_signer("reminder-attacker")
    answer = client.post("/api/reminders/sign-in", json=signed(client, attacker, address=founders[2].address))
    assert answer.status_code == 401 and answer.json()["code"] == "wrong_signer"
    assert f"names {founders[2].address} but {attacker.address} signed it" in answer.json()["detail"]


def test_someone_who_is_not_a_member_cannot_sign_in(client):
    outsider = helpers.test_key_signer("reminder-outsider")
    answer = client.post("/api/reminders/sign-in", json=signed(client, outsider))
    assert answer.status_code == 403 and answer.json()["code"] == "not_member"
    assert "is not a member of this commons" in answer.json()["detail"]


def test_a_malformed_message_or_signature_is_refused_in_words(client, founders):
    body = signed(client, founders[2])
    broken = client.post("/api/reminders/sign-in", json={**body, "message": body["message"].replace("Version: 1", "Version: 2")})
    assert broken.status_code == 400 and "the version must be 1" in broken.json()["detail"]
    bad_signature = client.post("/api/reminders/sign-in", json={**body, "signature": "0x1234"})
    assert bad_signature.status_code == 400 and "130 hex digits" in bad_signature.json()["detail"]


def test_siwe_messages_read_back_as_written():
    message = siwe.SiweMessage(
        domain="garden.example.org",
        address="0x71C7656EC7ab88b098defB751B7401B5f6d8976F",
        uri="https://garden.example.org",
        chain_id=100,
        nonce="32891756abcdefgh",
        issued_at="2026-12-07T10:00:00Z",
        statement=None,
        scheme="https",
        expiration_time="2026-12-07T10:10:00Z",
        request_id="r-1",
        resources=("ipfs://bafy", "https://garden.example.org/terms"),
    )
    assert siwe.parse(message.text()) == message
    assert message.text().startswith("https://garden.example.org wants you to sign in with your Ethereum account:\n0x71C7")
    lower = message.text().replace("0x71C7656EC7ab88b098defB751B7401B5f6d8976F", "0x71c7656ec7ab88b098defb751b7401b5f6d8976f")
    with pytest.raises(siwe.SiweRefused, match="EIP-55 checksum"):
        siwe.parse(lower)
    with pytest.raises(siwe.SiweRefused, match="no control characters"):
        siwe.parse(message.text().replace("\n", "\r\n"))


# ---- sending --------------------------------------------------------------------------------------------------------


def test_a_member_who_has_not_voted_is_reminded_and_one_who_has_is_not(commons, stewards, founders, reminded, mailbox):
    for i in (2, 3):
        subscribe(reminded.engine, founders[i], i, vote_opened=False, hours_before_close=1)
    pid = propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Buy seeds")
    reminded()
    assert mailbox.got == []  # voting has not opened
    to_voting(commons, pid)
    vote(commons, founders[2], pid, "for", "yes")
    reminded()
    assert mailbox.to(email_of(2)) == []
    [mail] = mailbox.to(email_of(3))
    message = mail.message
    assert message["Subject"] == "#1 closes in 59 minutes and you have not voted: Buy seeds"
    assert mail.recipients == [email_of(3)] and message["From"] == FROM
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{PUBLIC}/api/reminders/unsubscribe?address={founders[3].address}&token=")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with reminded.engine.connect() as conn:
        created_tx = conn.execute(sa.text("SELECT created_tx FROM proposal")).scalar()
    assert f"Read it and vote: {PUBLIC}/#/proposal/1" in mail.text
    assert f"proposed in transaction {created_tx}" in mail.text and f"{PUBLIC}/#/audit" in mail.text
    reminded()
    assert len(mailbox.got) == 1  # once
    assert statuses(reminded.engine) == {(founders[3].address, "closing"): "sent"}


def test_the_reminder_stops_the_moment_the_ballot_is_indexed(commons, stewards, founders, reminded, mailbox):
    subscribe(reminded.engine, founders[3], 3, vote_opened=True, hours_before_close=0)
    pid = propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Mend the fence")
    to_voting(commons, pid)
    reminded.indexer.sync()
    assert record_due(reminded.engine) == 1  # due, recorded, not sent yet
    vote(commons, founders[3], pid, "against", "not now")
    reminded()  # the ballot is indexed before the reminder goes out
    assert mailbox.got == []
    assert statuses(reminded.engine) == {(founders[3].address, "opened"): "voted"}


def test_a_vote_opened_message_then_nothing_once_voted(commons, stewards, founders, reminded, mailbox):
    subscribe(reminded.engine, founders[4], 4, vote_opened=True, hours_before_close=0)
    pid = propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Plant <b>beans</b>")
    to_voting(commons, pid)
    reminded()
    [mail] = mailbox.to(email_of(4))
    assert mail.message["Subject"] == "Vote open on #1: Plant <b>beans</b>"
    assert "Voting has opened on #1 “Plant <b>beans</b>”. It closes in 59 minutes." in mail.text
    vote(commons, founders[4], pid, "for")
    reminded()
    assert len(mailbox.got) == 1


def test_a_delegator_hears_that_their_delegate_has_not_voted_until_they_do(commons, stewards, founders, reminded, mailbox):
    commons.submit(commons.plan_delegate(founders[5].address), founders[4])
    subscribe(reminded.engine, founders[4], 4, vote_opened=False, hours_before_close=2)
    first = propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Compost bins")
    to_voting(commons, first)
    reminded()
    [mail] = mailbox.to(email_of(4))
    assert mail.message["Subject"] == "#1 closes in 59 minutes: your delegate @founder5 has not voted"
    second = propose(commons, stewards[0], [act.pay(founders[3].address, 6)], "Rain barrels")
    to_voting(commons, second)
    vote(commons, founders[5], second, "for")
    reminded()
    assert len(mailbox.to(email_of(4))) == 1  # the delegate voted on #2: nothing about it
    assert statuses(reminded.engine) == {(founders[4].address, "delegate"): "sent"}


def test_hostile_titles_cannot_break_the_headers():
    reminder = Reminder(
        kind="opened",
        number=7,
        title="Seeds\r\nBcc: victim@example.org\r\n\r\n<script>alert(1)</script>\u2028X-Evil: 1",
        closes_in="2 days",
        delegate=None,
        page=f"{PUBLIC}/#/proposal/7",
        audit=f"{PUBLIC}/#/audit",
        transaction="0x" + "ab" * 32,
        block_number=9,
        unsubscribe=f"{PUBLIC}/api/reminders/unsubscribe?address=0x1&token=t",
    )
    raw = email_message(reminder, FROM, email_of(1), "msg_1").as_bytes()
    parsed = message_from_bytes(raw, policy=policy.SMTP)
    assert sorted(parsed.keys()) == sorted(
        [
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "Auto-Submitted",
            "List-Unsubscribe",
            "List-Unsubscribe-Post",
            "Content-Type",
            "Content-Transfer-Encoding",
            "MIME-Version",
        ]
    )
    assert parsed["Subject"] == "Vote open on #7: Seeds Bcc: victim@example.org <script>alert(1)</script> X-Evil: 1"
    assert parsed["To"] == email_of(1) and parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert parsed["List-Unsubscribe"] == f"<{reminder.unsubscribe}>"  # one URI, not encoded words
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert parsed.get_content_type() == "text/plain"


def test_a_hostile_title_on_chain_reaches_one_recipient_with_one_subject(commons, stewards, founders, reminded, mailbox):
    subscribe(reminded.engine, founders[3], 3, vote_opened=True, hours_before_close=0)
    pid = propose(
        commons, stewards[0], [act.pay(founders[3].address, 5)], "Seeds\tBcc: victim@example.org\x1b[31m X-Evil: 1 <img src=x>"
    )
    to_voting(commons, pid)
    reminded()
    [mail] = mailbox.got
    assert mail.recipients == [email_of(3)]
    assert mail.message["Bcc"] is None and mail.message["X-Evil"] is None
    with reminded.engine.connect() as conn:
        assert "\t" in conn.execute(sa.text("SELECT title FROM proposal")).scalar()  # the title as the chain has it
    assert mail.message["Subject"] == "Vote open on #1: Seeds Bcc: victim@example.org [31m X-Evil: 1 <img src=x>"


def test_the_unsubscribe_link_needs_no_signature_and_can_be_used_twice(commons, stewards, founders, reminded, mailbox, client):
    subscribe(reminded.engine, founders[3], 3, vote_opened=True, hours_before_close=0)
    to_voting(commons, propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Unsubscribe me"))
    reminded()
    link = mailbox.got[0].message["List-Unsubscribe"].strip("<>")
    path = urlsplit(link).path + "?" + urlsplit(link).query
    page = client.get(path)  # a mail scanner following the link unsubscribes no one
    assert page.status_code == 200 and 'id="unsubscribe"' in page.text
    assert founders[3].address in _subscribers(reminded.engine)
    one_click = {"content": "List-Unsubscribe=One-Click", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    assert client.post(path, **one_click).status_code == 200
    assert founders[3].address not in _subscribers(reminded.engine)
    again = client.post(path, **one_click)
    assert again.status_code == 200 and "Unsubscribed" in again.text
    forged = client.post(path.replace(founders[3].address, founders[2].address), **one_click)
    assert forged.status_code == 400 and "not valid" in forged.json()["detail"]


def _subscribers(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.select(SUBSCRIPTIONS.c.address)).scalars())


def test_an_smtp_refusal_is_retried_and_recorded_without_the_address(commons, stewards, founders, reminded, mailbox, caplog):
    mailbox.refuse.add(email_of(3))
    subscribe(reminded.engine, founders[3], 3, vote_opened=True, hours_before_close=0)
    to_voting(commons, propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Refused"))
    with caplog.at_level(logging.DEBUG):
        reminded()
    with reminded.engine.connect() as conn:
        row = conn.execute(sa.select(SENT)).one()
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at > time.time() + 30
    assert "Recipient address rejected" in row.error and "<email>" in row.error and email_of(3) not in row.error
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))  # not the test server's
    assert "the opened reminder of #1 was not sent" in ours and "secret-gardener" not in ours


# ---- privacy --------------------------------------------------------------------------------------------------------


def public_paths(client, founder: str) -> list[str]:
    """Every GET route of the API (from its OpenAPI document), path parameters filled with a member, proposal #1 or
    initiative 1; the reminders' own routes (a member's, signed in) left out."""
    fills = {"address": founder, "ref": "1", "proposal_ref": "1", "number": "1", "initiative_id": "1", "id": "1"}
    paths = []
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        if "get" not in operations or "/reminders/" in path:
            continue
        for name, value in fills.items():
            path = path.replace("{" + name + "}", value)
        if "{" not in path:
            paths.append(path)
    return paths


def test_email_addresses_appear_in_no_public_answer_export_webhook_or_log(
    commons, stewards, founders, reminded, mailbox, client, caplog
):
    from api.hooks.endpoints import add_endpoint
    from api.hooks.outbox import sync_outbox
    from api.hooks.tables import EVENTS

    add_endpoint(reminded.engine, "https://hooks.example.org/garden", "*", (), lambda host, port: ["93.184.216.34"])
    with caplog.at_level(logging.DEBUG):
        for i in range(6):
            subscribe(reminded.engine, founders[i], i, vote_opened=True, hours_before_close=0)
        pid = propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Private")
        to_voting(commons, pid)
        vote(commons, founders[0], pid, "for", "mine")
        reminded()
        sync_outbox(reminded.engine, PUBLIC)
        paths = public_paths(client, founders[3].address)
        answers = {path: client.get(path) for path in paths}
    assert len(mailbox.got) == 5
    assert {"/api/decisions/export.csv", "/api/members", "/api/proposals", "/api/calendar.ics"} <= set(paths)
    assert sum(a.status_code == 200 for a in answers.values()) >= 15
    for path, answer in answers.items():
        assert "secret-gardener" not in answer.text, path
    with reminded.engine.connect() as conn:
        bodies = " ".join(conn.execute(sa.select(EVENTS.c.body)).scalars())
    assert "vote.cast" in bodies and "secret-gardener" not in bodies
    assert "secret-gardener" not in "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))


# ---- several API processes ------------------------------------------------------------------------------------------


def test_two_api_processes_send_each_reminder_once(commons, stewards, founders, anvil_url, pg_database, mailbox):
    _empty_postgres(pg_database)
    engine = make_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE reminder_subscription, reminder_nonce, reminder_sent"))
    indexer = indexer_for(commons.manifest, anvil_url, pg_database)
    for i in range(6):
        subscribe(engine, founders[i], i, vote_opened=True, hours_before_close=0)
    pids = [propose(commons, stewards[n % 2], [act.pay(founders[3].address, n + 1)], f"Burst {n}") for n in range(3)]
    to_voting(commons, pids[-1])
    vote(commons, founders[0], pids[0], "for")
    indexer.sync()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("COMMONS_")},
        "COMMONS_REMINDER_SECRET": SECRET,
        "COMMONS_SMTP_HOST": "127.0.0.1",
        "COMMONS_SMTP_PORT": str(mailbox.port),
        "COMMONS_SMTP_SECURITY": "none",
        "COMMONS_SMTP_FROM": FROM,
        "COMMONS_PUBLIC_URL": PUBLIC,
        "COMMONS_WEBHOOKS": "false",
    }
    processes = [
        subprocess.Popen([sys.executable, "-m", "tests.reminder_server", pg_database, str(free_port())], env=env)
        for _ in range(2)
    ]
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            counts = _status_counts(engine)
            if counts.get("sent", 0) == 17:
                break
            time.sleep(0.2)  # waiting for other processes, not for the chain's clock
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(15)
    assert _status_counts(engine) == {"sent": 17}  # 6 members × 3 proposals, less founder0's ballot on the first
    pairs = [(mail.recipients[0], mail.message["Subject"]) for mail in mailbox.got]
    assert len(pairs) == 17 and len(set(pairs)) == 17


def _status_counts(engine) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(SENT.c.status, sa.func.count()).group_by(SENT.c.status)).all())


def test_commons_reminders_status_shows_counts_and_no_one(commons, stewards, founders, reminded, mailbox):
    for i in (2, 3):
        subscribe(reminded.engine, founders[i], i, vote_opened=True, hours_before_close=0)
    save(reminded.engine, founders[4].address, Preferences(email_of(4), vote_opened=True, hours_before_close=0))
    pid = propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Counted")
    to_voting(commons, pid)
    vote(commons, founders[2], pid, "for")
    reminded()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMONS_")}
    env.update(COMMONS_DATABASE_URL=reminded.url, COMMONS_SMTP_HOST="smtp.example.org")
    run = subprocess.run(
        [sys.executable, "-m", "scripts.cli", "reminders", "status"], capture_output=True, text=True, env=env, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert "3 members subscribed to email reminders (1 not confirmed yet)." in run.stdout
    assert "opened: 1 sent" in run.stdout  # not to the unconfirmed address
    assert "SMTP server: smtp.example.org:587 (starttls)" in run.stdout
    assert "secret-gardener" not in run.stdout and founders[3].address not in run.stdout


def test_the_secret_file_is_made_once_readable_by_its_owner_only(tmp_path):
    from api.reminders.tokens import reminder_secret
    from governance.config import Settings

    settings = Settings(state_dir=tmp_path / "state", reminder_secret=None)
    first = reminder_secret(settings)
    path = tmp_path / "state" / "reminder-secret.key"
    assert path.stat().st_mode & 0o777 == 0o600 and len(first) >= 32
    assert reminder_secret(settings) == first and sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_a_signed_message_sent_many_times_at_once_signs_in_once(commons, founders, anvil_url, pg_database, reminder_settings):
    """Copies of one signed message racing on PostgreSQL: the nonce is spent by exactly one of them."""
    from concurrent.futures import ThreadPoolExecutor

    from api.reminders import signin

    _empty_postgres(pg_database)
    engine = make_engine(pg_database)
    indexer_for(commons.manifest, anvil_url, pg_database).sync()
    origin = signin.Origin.of("https://garden.example.org")
    text = signin.issue(engine, origin, founders[2].address, SECRET.encode()).text()
    signature = "0x" + bytes(founders[2].account.sign_message(encode_defunct(text=text)).signature).hex()

    def attempt(_):
        try:
            return signin.sign_in(engine, origin, text, signature, SECRET.encode())
        except siwe.SiweRefused as exc:
            return exc.code

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert sorted(results) == sorted([founders[2].address] + ["nonce_used"] * 7)


def test_smtp_settings_refused_in_words_and_the_password_never_shown():
    from governance.config import Settings
    from governance.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="no SMTP server"):
        Smtp.from_settings(Settings(smtp_host=""))
    with pytest.raises(ConfigurationError, match="must be one of starttls, ssl, none"):
        Smtp.from_settings(Settings(smtp_host="smtp.example.org", smtp_security="tls", smtp_from=FROM))
    with pytest.raises(ConfigurationError, match="password unencrypted"):
        Smtp.from_settings(
            Settings(smtp_host="smtp.example.org", smtp_security="none", smtp_from=FROM, smtp_user="garden", smtp_password="pw-1")
        )
    smtp = Smtp.from_settings(Settings(smtp_host="smtp.example.org", smtp_from=FROM, smtp_user="garden", smtp_password="pw-1"))
    mailer = Mailer(smtp, SECRET.encode(), PUBLIC, "test")
    assert smtp.password == "pw-1" and "pw-1" not in repr(mailer) and SECRET not in repr(mailer)


def test_a_reminder_claimed_by_a_process_that_died_is_sent_by_another_once(commons, stewards, founders, reminded, mailbox):
    from api.reminders.delivery import claim_due

    subscribe(reminded.engine, founders[3], 3, vote_opened=True, hours_before_close=0)
    to_voting(commons, propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Restart"))
    reminded.indexer.sync()
    record_due(reminded.engine)
    assert len(claim_due(reminded.engine, "dead-process", time.time())) == 1  # then the process is killed
    reminded()
    assert mailbox.got == []  # still held by its claim
    with reminded.engine.begin() as conn:  # move the claim's clock instead of waiting for it
        conn.execute(sa.update(SENT).values(claimed_until=time.time() - 1))
    reminded()
    reminded()
    assert len(mailbox.got) == 1 and statuses(reminded.engine) == {(founders[3].address, "opened"): "sent"}


@pytest.mark.parametrize("recorded_first", [False, True])
def test_a_ballot_a_reorganisation_removed_no_longer_holds_the_reminder_back(
    commons, stewards, founders, reminded, mailbox, recorded_first
):
    """The ballot is indexed before the reminder is due, or after it was recorded (then it is dropped as 'voted',
    and due again once the ballot is gone)."""
    w3 = commons.w3
    subscribe(reminded.engine, founders[3], 3, vote_opened=False, hours_before_close=1)
    pid = propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Reorg")
    to_voting(commons, pid)
    if recorded_first:
        reminded.indexer.sync()
        assert record_due(reminded.engine) == 1
    fork_point = w3.provider.make_request("evm_snapshot", [])["result"]
    vote(commons, founders[3], pid, "for", "on the old fork")
    for _ in range(2):
        w3.provider.make_request("evm_mine", [])
    reminded()
    dropped = {(founders[3].address, "closing"): "voted"} if recorded_first else {}  # voted: nothing due
    assert mailbox.got == [] and statuses(reminded.engine) == dropped
    w3.provider.make_request("evm_revert", [fork_point])
    for _ in range(4):
        w3.provider.make_request("evm_mine", [])  # a longer fork without the ballot
    reminded()
    [mail] = mailbox.to(email_of(3))
    assert "you have not voted" in mail.message["Subject"]
    reminded()
    assert len(mailbox.got) == 1 and statuses(reminded.engine) == {(founders[3].address, "closing"): "sent"}
