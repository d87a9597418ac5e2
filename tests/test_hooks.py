"""Signed webhooks (Standard Webhooks 1.0) against a real local receiver: signatures, ids fixed by the chain, retries,
410, replay, the `….reverted` event after a reorg, three API processes delivering each event once, and SSRF refusals."""

import ipaddress
import os
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from api.app import create_app
from api.db import make_engine
from api.hooks.delivery import Sender, deliver_due, replay
from api.hooks.endpoints import add_endpoint, delivery_log, list_endpoints
from api.hooks.outbox import sync_outbox
from api.hooks.signing import key_text, public_key_text, verify
from api.hooks.tables import DELIVERIES, ENDPOINTS
from api.hooks.targets import TargetRefused, check_target
from governance.config import get_settings
from tests.cache_support import _empty_postgres, fresh_sqlite, indexer_for
from tests.helpers import act, free_port, propose, to_voting, vote
from tests.hook_support import burst

LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)
KEY = Ed25519PrivateKey.generate()


def rpc(w3, method, params=None):
    return w3.provider.make_request(method, params or [])["result"]


@pytest.fixture
def hooked(commons, anvil_url, tmp_path, receiver):
    """A cache on SQLite indexing the test's chain, an endpoint for every event at the receiver, and `step()`: index,
    then one pass of the worker (outbox, then deliveries)."""
    url = fresh_sqlite(tmp_path, "hooks.db")
    engine = make_engine(url)
    indexer = indexer_for(commons.manifest, anvil_url, url)
    indexer.sync()
    endpoint = add_endpoint(engine, receiver.url, "*", LOOPBACK)
    sender = Sender(KEY, LOOPBACK, process="test")

    def step():
        indexer.sync()
        sync_outbox(engine, "https://garden.example.org")
        deliver_due(engine, sender)

    step.engine, step.endpoint, step.url = engine, endpoint, url
    return step


def test_a_vote_is_delivered_signed_in_words_with_its_proof(commons, stewards, founders, hooked, receiver):
    pid = propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Seeds <b>now</b>")
    to_voting(commons, pid)
    receipt = vote(commons, founders[2], pid, "for", "Yes\r\nBCC: x@example.org")
    hooked()
    [cast] = receiver.of_type("vote.cast")
    assert verify(public_key_text(KEY), cast.id, cast.timestamp, cast.body, cast.signature)
    assert not verify(public_key_text(KEY), cast.id, cast.timestamp, cast.body + b" ", cast.signature)
    data = cast.payload["data"]
    assert data["in_words"] == "@founder2 voted for #1 Seeds <b>now</b>: “Yes BCC: x@example.org”"
    assert data["proof"]["transaction"] == receipt["transactionHash"].to_0x_hex()
    assert data["links"] == {"page": "https://garden.example.org/#/proposal/1", "audit": "https://garden.example.org/#/audit"}
    assert cast.id.startswith("msg_") and abs(cast.timestamp - time.time()) < 60
    assert [d.payload["type"] for d in receiver.got] == ["proposal.created", "vote.cast"]


def test_a_failed_delivery_is_retried_later_with_the_same_id_and_body(commons, stewards, founders, hooked, receiver):
    receiver.answers = [500, 503]
    propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Retry me")
    hooked()
    assert len(receiver.got) == 1
    with hooked.engine.connect() as conn:
        delivery = conn.execute(sa.select(DELIVERIES)).one()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.next_attempt_at > time.time() + 3
    hooked()  # not due yet: nothing is sent
    assert len(receiver.got) == 1
    for _ in range(2):  # move the back-off's clock instead of waiting for it
        with hooked.engine.begin() as conn:
            conn.execute(sa.update(DELIVERIES).values(next_attempt_at=0))
        hooked()
    first, second, third = receiver.got
    assert first.id == second.id == third.id and first.body == second.body == third.body
    assert all(verify(public_key_text(KEY), d.id, d.timestamp, d.body, d.signature) for d in receiver.got)
    assert [a["status_code"] for a in delivery_log(hooked.engine)] == [204, 503, 500]


def test_an_endpoint_answering_410_is_disabled(commons, stewards, founders, hooked, receiver):
    receiver.answers = [410]
    propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Gone")
    propose(commons, stewards[0], [act.pay(founders[3].address, 6)], "Gone too")
    hooked()
    [endpoint] = list_endpoints(hooked.engine)
    assert not endpoint["enabled"] and "410 Gone" in endpoint["disabled_reason"]
    assert len(receiver.got) == 1 and endpoint["deliveries"] == {"disabled": 2}


def test_a_replay_keeps_the_original_id(commons, stewards, founders, hooked, receiver):
    propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Replay")
    hooked()
    [original] = receiver.got
    assert replay(hooked.engine, original.id) == 1
    hooked()
    assert [d.id for d in receiver.got] == [original.id, original.id] and receiver.got[1].body == original.body


def test_a_reorg_of_depth_3_after_a_delivered_vote_sends_the_reverted_event(commons, stewards, founders, hooked, receiver):
    w3 = commons.w3
    pid = propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Reorg")
    to_voting(commons, pid)
    hooked()
    fork_point = rpc(w3, "evm_snapshot")
    vote(commons, founders[2], pid, "for", "on the old fork")
    rpc(w3, "evm_mine")
    rpc(w3, "evm_mine")  # the vote is 3 blocks deep
    hooked()
    [cast] = receiver.of_type("vote.cast")
    rpc(w3, "evm_revert", [fork_point])
    vote(commons, founders[3], pid, "against", "on the new fork")
    for _ in range(3):
        rpc(w3, "evm_mine")  # longer than the old fork
    hooked()
    [reverted] = receiver.of_type("vote.cast.reverted")
    assert reverted.payload["data"]["reverted_id"] == cast.id and reverted.id != cast.id
    assert reverted.payload["data"]["in_words"].startswith("a chain reorganisation removed block")
    assert "@founder2 voted for #1 Reorg" in reverted.payload["data"]["in_words"]
    assert verify(public_key_text(KEY), reverted.id, reverted.timestamp, reverted.body, reverted.signature)
    new_votes = receiver.of_type("vote.cast")
    assert [d.payload["data"]["args"]["reason"] for d in new_votes] == ["on the old fork", "on the new fork"]
    order = [d.payload["type"] for d in receiver.got]
    assert order.index("vote.cast.reverted") > order.index("vote.cast")
    hooked()
    assert len(receiver.of_type("vote.cast.reverted")) == 1  # once


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/hook",
        "http://2130706433/hook",  # 127.0.0.1 written as a number
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
        "http://0.0.0.0/hook",
        "http://[fd00:ec2::254]/hook",
        "ftp://example.org/hook",
        "file:///etc/passwd",
        "http://user:pass@example.org/hook",
        "http://example.org/a b",
    ],
)
def test_webhook_targets_on_private_loopback_link_local_or_metadata_addresses_are_refused(url):
    with pytest.raises(TargetRefused):
        check_target(url)


def test_a_name_that_resolves_to_loopback_at_delivery_is_refused_then(commons, stewards, founders, tmp_path, anvil_url, receiver):
    """An endpoint checked while its name pointed elsewhere, whose name now resolves to loopback: no request leaves."""
    url = fresh_sqlite(tmp_path, "rebind.db")
    engine = make_engine(url)
    indexer_for(commons.manifest, anvil_url, url).sync()
    with engine.begin() as conn:  # stored as `commons hooks add` would have stored it when the name was public
        port, after = receiver.server.server_address[1], conn.execute(sa.text("SELECT log_seq FROM sync_cursor")).scalar()
        conn.execute(
            sa.insert(ENDPOINTS).values(url=f"http://localhost:{port}/", events="*", enabled=True, after_seq=after, created_at=0)
        )
    propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Rebind")
    indexer_for(commons.manifest, anvil_url, url).sync()
    sync_outbox(engine)
    deliver_due(engine, Sender(KEY, (), process="test"))
    assert receiver.got == []
    [attempt] = delivery_log(engine)
    assert attempt["status_code"] is None and "a loopback address" in attempt["error"]


def test_the_api_serves_the_public_key(tmp_path, monkeypatch):
    monkeypatch.setenv("COMMONS_WEBHOOK_SIGNING_KEY", key_text(KEY))
    get_settings.cache_clear()
    try:
        body = TestClient(create_app(fresh_sqlite(tmp_path), run_hooks=False)).get("/api/hooks/public-key").json()
    finally:
        get_settings.cache_clear()
    assert body["public_key"] == public_key_text(KEY) and body["signature_version"] == "v1a"
    assert "vote.cast" in body["event_types"]


def test_three_api_processes_deliver_each_event_once(commons, stewards, founders, anvil_url, pg_database, receiver):
    _empty_postgres(pg_database)
    engine = make_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE hook_endpoint, hook_event, hook_delivery, hook_attempt RESTART IDENTITY"))
    indexer = indexer_for(commons.manifest, anvil_url, pg_database)
    indexer.sync()
    add_endpoint(engine, receiver.url, "*", LOOPBACK)
    burst(commons, stewards, founders)
    indexer.sync()
    env = {
        **os.environ,
        "COMMONS_WEBHOOK_SIGNING_KEY": key_text(KEY),
        "COMMONS_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
    }
    processes = [
        subprocess.Popen([sys.executable, "-m", "tests.hook_server", pg_database, str(free_port())], env=env) for _ in range(3)
    ]
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            with engine.connect() as conn:
                statuses = dict(conn.execute(sa.select(DELIVERIES.c.status, sa.func.count()).group_by(DELIVERIES.c.status)).all())
            if statuses and set(statuses) == {"delivered"}:
                break
            time.sleep(0.2)  # waiting for other processes, not for the chain's clock
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(15)
    assert statuses == {"delivered": 15}  # 3 proposals and 12 votes
    ids = receiver.ids()
    assert len(ids) == 15 and len(set(ids)) == 15
    assert all(verify(public_key_text(KEY), d.id, d.timestamp, d.body, d.signature) for d in receiver.got)


def commons_hooks(*args: str, database_url: str, allowed: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMONS_")}
    env.update(COMMONS_DATABASE_URL=database_url, COMMONS_WEBHOOK_ALLOWED_NETWORKS=allowed)
    return subprocess.run(
        [sys.executable, "-m", "scripts.cli", "hooks", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_commons_hooks_adds_lists_and_removes_endpoints_and_refuses_private_targets(tmp_path, receiver):
    database = fresh_sqlite(tmp_path, "cli.db")
    refused = commons_hooks("add", "http://169.254.169.254/latest/meta-data/", "--events", "vote.cast", database_url=database)
    assert refused.returncode == 1 and "a link-local address" in refused.stderr and "Traceback" not in refused.stderr
    unknown = commons_hooks("add", receiver.url, "--events", "vote.kast", database_url=database, allowed="127.0.0.1/32")
    assert unknown.returncode == 1 and "Unknown event type vote.kast" in unknown.stderr
    added = commons_hooks(
        "add", receiver.url, "--events", "vote.cast,proposal.created", database_url=database, allowed="127.0.0.1/32"
    )
    assert added.returncode == 0 and "Endpoint 1 added for proposal.created, vote.cast" in added.stdout
    listed = commons_hooks("list", "--json", database_url=database)
    assert '"enabled": true' in listed.stdout and "proposal.created" in listed.stdout
    assert commons_hooks("remove", "1", database_url=database).returncode == 0
    assert "No webhook endpoints" in commons_hooks("list", database_url=database).stdout
    assert commons_hooks("replay", "msg_nothing", database_url=database).returncode == 1
