"""Webhook deliveries across real API processes (tests/hook_server.py): a process SIGKILLed while its request is held
open by the receiver leaves the delivery to the next process once its claim expires (same webhook-id and body; the
interrupted attempt stays in the delivery log; nothing is lost), and three processes on one SQLite file deliver each
event once (test_hooks.py runs them on PostgreSQL)."""

import ipaddress
import sqlite3
import time

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.db import make_engine
from api.hooks.delivery import INTERRUPTED
from api.hooks.endpoints import add_endpoint, delivery_log
from api.hooks.outbox import sync_outbox
from api.hooks.signing import key_text, public_key_text, verify
from api.hooks.tables import DELIVERIES
from tests.cache_support import fresh_sqlite, indexer_for
from tests.helpers import act, propose
from tests.hook_support import burst, spawn_api_process, start_api_process, wait_serving

LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)
KEY = Ed25519PrivateKey.generate()


def empty_hooks(url: str):
    """An engine on `url` with no webhook endpoints, events, deliveries or attempts (the PostgreSQL database is the
    session's: another test may have left some)."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("TRUNCATE hook_endpoint, hook_event, hook_delivery, hook_attempt RESTART IDENTITY"))
    return engine


def wait_for(condition, seconds: float = 60):
    """Poll `condition` until it is true (waiting for other processes, not for a clock); its last value."""
    deadline = time.time() + seconds
    while not (value := condition()) and time.time() < deadline:
        time.sleep(0.1)
    return value


def deliveries(engine) -> dict[str, tuple]:
    """Every delivery by event id: (status, attempts, claimed_by)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(DELIVERIES.c.event_id, DELIVERIES.c.status, DELIVERIES.c.attempts, DELIVERIES.c.claimed_by))
        return {r.event_id: (r.status, r.attempts, r.claimed_by) for r in rows}


def pid_of(process_name: str | None) -> int | None:
    """The process id in a worker's name (host:pid:random)."""
    return int(process_name.split(":")[-2]) if process_name else None


def stop(*processes) -> None:
    for process in processes:
        if process is not None and process.poll() is None:
            process.terminate()
    for process in processes:
        if process is not None:
            process.wait(15)


def test_a_process_killed_mid_delivery_leaves_it_to_the_next_process_with_the_same_id(
    commons, stewards, founders, anvil_url, cache_url, receiver, tmp_path
):
    """The first process claims both due deliveries and sends the first; the receiver holds that request open and the
    process is SIGKILLed. A second process leaves both alone while the dead process's claim lasts (it delivers a
    newer event meanwhile), then, once the claim has expired, sends both: the held event again with the same
    webhook-id and body. The log shows the interrupted attempt, counted, with the process that made it."""
    engine = empty_hooks(cache_url)
    indexer = indexer_for(commons.manifest, anvil_url, cache_url)
    indexer.sync()
    add_endpoint(engine, receiver.url, "*", LOOPBACK)
    for n in range(2):
        propose(commons, stewards[0], [act.pay(founders[3].address, n + 1)], f"Before the kill {n}")
    indexer.sync()
    receiver.holds = [120.0]  # the first request is answered only after the test: the kill lands mid-request
    first = second = None
    try:
        first = start_api_process(cache_url, key_text(KEY), tmp_path / "first.log")
        assert wait_for(lambda: len(receiver.got) == 1), "the first process sent nothing"
        first.kill()  # SIGKILL: no clean-up, no answer recorded
        first.wait(15)
        held = receiver.got[0].id
        claimed = deliveries(engine)
        assert {pid_of(c) for _, _, c in claimed.values()} == {first.pid}  # both claimed, for CLAIM_SECONDS
        assert sorted(a for _, a, _ in claimed.values()) == [0, 1] and claimed[held][:2] == ("pending", 1)
        [in_flight] = delivery_log(engine)
        assert in_flight["event_id"] == held and in_flight["status_code"] is None and pid_of(in_flight["process"]) == first.pid

        second = start_api_process(cache_url, key_text(KEY), tmp_path / "second.log")
        propose(commons, stewards[0], [act.pay(founders[3].address, 3)], "After the kill")
        indexer.sync()
        assert wait_for(lambda: len(receiver.got) == 2), "the second process did not deliver the newer event"
        newer = receiver.got[1].id
        assert newer != held and deliveries(engine)[newer][:2] == ("delivered", 1)
        assert {e: d for e, d in deliveries(engine).items() if e != newer} == claimed  # still the dead process's
        with engine.begin() as conn:  # move the claim's clock instead of waiting CLAIM_SECONDS for it
            conn.execute(sa.update(DELIVERIES).where(DELIVERIES.c.claimed_by.is_not(None)).values(claimed_until=time.time() - 1))
        assert wait_for(lambda: {s for s, _, _ in deliveries(engine).values()} == {"delivered"}), deliveries(engine)
    finally:
        receiver.released.set()
        stop(first, second)
    ids = receiver.ids()
    assert len(ids) == 4 and ids.count(held) == 2 and len(set(ids)) == 3  # at least once: the held event twice
    again = [d for d in receiver.got if d.id == held]
    assert again[0].body == again[1].body
    assert all(verify(public_key_text(KEY), d.id, d.timestamp, d.body, d.signature) for d in receiver.got)
    assert {e: (s, a) for e, (s, a, _) in deliveries(engine).items()} == {
        e: ("delivered", 2 if e == held else 1) for e in set(ids)
    }
    log = {
        e: [(a["status_code"], a["error"], pid_of(a["process"])) for a in delivery_log(engine) if a["event_id"] == e]
        for e in set(ids)
    }
    assert log[held] == [(204, None, second.pid), (None, INTERRUPTED, first.pid)]  # newest first
    assert all(log[e] == [(204, None, second.pid)] for e in set(ids) - {held})


def test_three_api_processes_on_one_sqlite_file_deliver_each_event_once(
    commons, stewards, founders, anvil_url, receiver, tmp_path
):
    """Fifteen deliveries are due while another connection holds SQLite's write lock (as the indexer does while it
    writes a batch): the three processes' workers all read the same due list and queue up behind the lock to claim
    the same rows; once it is released, each row's conditional update is won by one of them and each event is sent
    once."""
    url = fresh_sqlite(tmp_path, "three.db")
    engine = make_engine(url)
    indexer = indexer_for(commons.manifest, anvil_url, url)
    indexer.sync()
    add_endpoint(engine, receiver.url, "*", LOOPBACK)
    burst(commons, stewards, founders)
    indexer.sync()
    sync_outbox(engine)
    assert [s for s, _, _ in deliveries(engine).values()] == ["pending"] * 15  # 3 proposals and 12 votes
    writer = sqlite3.connect(sa.engine.make_url(url).database, isolation_level=None)
    processes = []
    try:
        writer.execute("BEGIN IMMEDIATE")
        started = [spawn_api_process(url, key_text(KEY), tmp_path / f"api-{n}.log") for n in range(3)]
        processes = [process for process, _ in started]
        for process, port in started:
            wait_serving(process, port)
        time.sleep(2)  # each worker's first pass reads the due list and waits for the lock (for other processes)
        assert receiver.got == []
        writer.execute("COMMIT")
        wait_for(lambda: [s for s, _, _ in deliveries(engine).values()] == ["delivered"] * 15, 90)
    finally:
        writer.close()
        stop(*processes)
    assert [s for s, _, _ in deliveries(engine).values()] == ["delivered"] * 15
    ids = receiver.ids()
    assert len(ids) == 15 and len(set(ids)) == 15
    assert all(verify(public_key_text(KEY), d.id, d.timestamp, d.body, d.signature) for d in receiver.got)
    assert [a["status_code"] for a in delivery_log(engine)] == [204] * 15
    logs = "".join((tmp_path / f"api-{n}.log").read_text() for n in range(3))
    assert "webhooks:" not in logs, logs  # no worker pass failed (a locked database, a lost transaction)
