"""Webhook deliveries against real local receivers: a redirect is never followed (to loopback, a private address or a
public-looking name) and is logged in words; a failing endpoint is retried on the documented schedule until the
delivery is `failed` (the worker's clock moved forward, not waited for); `commons hooks log` shows every attempt; and
`commons hooks replay` re-sends a delivered event with its original webhook-id through a running API process."""

import ipaddress
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.db import make_engine
from api.hooks.delivery import RETRY_DELAYS, Sender, claim_due, deliver_due, send_one
from api.hooks.endpoints import add_endpoint, delivery_log
from api.hooks.outbox import sync_outbox
from api.hooks.signing import key_text, public_key_text, verify
from api.hooks.tables import ATTEMPTS, DELIVERIES
from tests.cache_support import fresh_sqlite, indexer_for
from tests.helpers import act, free_port, propose

LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)
KEY = Ed25519PrivateKey.generate()
# README, "Webhooks for bots and chat bridges": retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 1 day and 1 day.
DOCUMENTED_DELAYS = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600, 86400, 86400]


@dataclass
class Redirector:
    """A local endpoint that answers every POST with a redirect to `location`, and counts what it got."""

    server: ThreadingHTTPServer
    status: int
    location: str
    got: list[str] = field(default_factory=list)  # the webhook-id of each POST

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/redirecting?token=secret"


def start_redirector(status: int, location: str) -> Redirector:
    redirector: Redirector

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers["Content-Length"]))
            redirector.got.append(self.headers["webhook-id"])
            self.send_response(status)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):  # noqa: N802 (a client that followed a 301/302 with a GET would come back here)
            redirector.got.append("GET")
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    redirector = Redirector(server, status, location)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return redirector


@pytest.fixture
def cache(commons, anvil_url, tmp_path):
    """A SQLite cache indexing the test's chain, and `index()` to bring it and the outbox up to the chain."""
    url = fresh_sqlite(tmp_path, "hooks.db")
    engine = make_engine(url)
    indexer = indexer_for(commons.manifest, anvil_url, url)
    indexer.sync()

    def index():
        indexer.sync()
        sync_outbox(engine, "https://garden.example.org")

    index.engine, index.url = engine, url
    return index


def commons_hooks(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMONS_")}
    env.update(COMMONS_DATABASE_URL=database_url)
    return subprocess.run(
        [sys.executable, "-m", "scripts.cli", "hooks", *args], capture_output=True, text=True, env=env, timeout=120
    )


def delivery(engine, endpoint_id: int):
    with engine.connect() as conn:
        return conn.execute(sa.select(DELIVERIES).where(DELIVERIES.c.endpoint_id == endpoint_id)).one()


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed_anywhere_and_is_logged_in_words(commons, stewards, founders, cache, receiver, status):
    """Three endpoints redirect: to another receiver on loopback, to a private address, and to a public-looking name.
    Each is POSTed once; nothing else is contacted (the loopback one, which would answer, receives nothing)."""
    port = receiver.server.server_address[1]
    locations = {
        "loopback": f"http://127.0.0.1:{port}/stolen",
        "private": "http://10.0.0.7/internal/hooks",
        "public": "https://hooks.example.net/moved/here?token=elsewhere",
    }
    redirectors = {name: start_redirector(status, location) for name, location in locations.items()}
    try:
        endpoints = {name: add_endpoint(cache.engine, r.url, "*", LOOPBACK)["id"] for name, r in redirectors.items()}
        propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Redirect me")
        cache()
        deliver_due(cache.engine, Sender(KEY, LOOPBACK, process="test"))
    finally:
        for r in redirectors.values():
            r.server.shutdown()

    assert receiver.got == []  # the loopback target of the redirect was never called
    for name, r in redirectors.items():
        assert len(r.got) == 1 and r.got[0].startswith("msg_"), (name, r.got)
        row = delivery(cache.engine, endpoints[name])
        assert (row.status, row.attempts) == ("pending", 1)  # a failure: retried later, as any answer but 2xx
        (attempt,) = delivery_log(cache.engine, endpoints[name])
        assert attempt["status_code"] == status
        error = attempt["error"] or ""
        assert "redirect" in error and "not followed" in error, error
        assert "token" not in error and "/internal" not in error  # the target's origin at most, never its path
    assert "http://10.0.0.7" in delivery_log(cache.engine, endpoints["private"])[0]["error"]
    assert "https://hooks.example.net" in delivery_log(cache.engine, endpoints["public"])[0]["error"]

    shown = commons_hooks("log", database_url=cache.url)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert len(lines) == 3 and all(f"HTTP {status}" in line and "not followed" in line for line in lines), shown.stdout


def retry_until_settled(engine, sender: Sender, endpoint: int) -> list[int]:
    """Send the endpoint's pending delivery again each time it falls due, moving the worker's clock (claim_due's `now`)
    instead of waiting: checked not due a second early, and due on time. The delays waited, in seconds."""
    waited: list[int] = []
    clock = time.time()
    while (row := delivery(engine, endpoint)).status == "pending":
        with engine.connect() as conn:
            last = conn.execute(sa.select(sa.func.max(ATTEMPTS.c.at)).where(ATTEMPTS.c.endpoint_id == endpoint)).scalar()
        waited.append(round(row.next_attempt_at - last))
        assert len(waited) <= len(DOCUMENTED_DELAYS), f"retried more often than documented: {waited}"
        clock = max(clock, row.next_attempt_at)
        assert claim_due(engine, "test", row.next_attempt_at - 1) == []
        (claimed,) = claim_due(engine, "test", clock)
        send_one(engine, sender, *claimed)
    assert claim_due(engine, "test", clock + 10 * 86400) == []  # settled for good: nothing is due ever again
    return waited


def test_a_failing_endpoint_is_retried_on_the_documented_schedule_until_failed(commons, stewards, founders, cache):
    assert list(RETRY_DELAYS) == DOCUMENTED_DELAYS
    redirector = start_redirector(302, "http://127.0.0.1:9/elsewhere")
    try:
        endpoint = add_endpoint(cache.engine, redirector.url, "proposal.created", LOOPBACK)["id"]
        propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Retry me until I fail")
        cache()
        sender = Sender(KEY, LOOPBACK, process="test")
        assert deliver_due(cache.engine, sender) == 1  # the first attempt, now
        waited = retry_until_settled(cache.engine, sender, endpoint)
    finally:
        redirector.server.shutdown()

    assert waited == DOCUMENTED_DELAYS
    row = delivery(cache.engine, endpoint)
    assert (row.status, row.attempts) == ("failed", len(DOCUMENTED_DELAYS) + 1)
    assert len(redirector.got) == len(DOCUMENTED_DELAYS) + 1 and len(set(redirector.got)) == 1  # one id throughout

    shown = commons_hooks("log", "--endpoint", str(endpoint), database_url=cache.url)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert len(lines) == len(DOCUMENTED_DELAYS) + 1
    assert all(redirector.got[0] in line and "proposal.created" in line and "HTTP 302" in line for line in lines)
    assert all("not followed" in line for line in lines), shown.stdout
    listed = commons_hooks("list", database_url=cache.url)
    assert "1 failed" in listed.stdout, listed.stdout


def test_a_replayed_failed_delivery_is_retried_on_the_whole_schedule_again(commons, stewards, founders, cache, receiver):
    """A receiver that was down for three days is back, but stumbles once on the replay: the replay is retried (after
    5 s, as a new delivery is), not given up after one attempt."""
    receiver.answers = [500] * (len(DOCUMENTED_DELAYS) + 1) + [503]
    endpoint = add_endpoint(cache.engine, receiver.url, "proposal.created", LOOPBACK)["id"]
    propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Replay me after I failed")
    cache()
    sender = Sender(KEY, LOOPBACK, process="test")
    deliver_due(cache.engine, sender)
    assert retry_until_settled(cache.engine, sender, endpoint) == DOCUMENTED_DELAYS
    assert delivery(cache.engine, endpoint).status == "failed"
    event_id = receiver.got[0].id

    replayed = commons_hooks("replay", event_id, "--endpoint", str(endpoint), database_url=cache.url)
    assert replayed.returncode == 0 and f"{event_id} queued again for 1 endpoint." in replayed.stdout, replayed.stderr
    assert deliver_due(cache.engine, sender) == 1  # answered 503
    assert retry_until_settled(cache.engine, sender, endpoint) == [DOCUMENTED_DELAYS[0]]
    assert delivery(cache.engine, endpoint).status == "delivered"
    assert [d.id for d in receiver.got] == [event_id] * (len(DOCUMENTED_DELAYS) + 3)
    statuses = [a["status_code"] for a in delivery_log(cache.engine, endpoint, limit=100)]
    assert statuses == [204, 503] + [500] * (len(DOCUMENTED_DELAYS) + 1)


def test_commons_hooks_replay_resends_a_delivered_event_with_the_same_id(commons, stewards, founders, cache, receiver):
    """A real API process delivers; `commons hooks replay` queues the event again; the process sends it again."""
    endpoint = add_endpoint(cache.engine, receiver.url, "proposal.created", LOOPBACK)["id"]
    propose(commons, stewards[0], [act.pay(founders[3].address, 5)], "Send me twice")
    cache()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("COMMONS_")},
        "COMMONS_WEBHOOK_SIGNING_KEY": key_text(KEY),
        "COMMONS_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
    }
    api = subprocess.Popen([sys.executable, "-m", "tests.hook_server", cache.url, str(free_port())], env=env)
    try:
        wait_for(lambda: len(receiver.got) == 1)
        (original,) = receiver.got
        assert delivery(cache.engine, endpoint).status == "delivered"
        replayed = commons_hooks("replay", original.id, database_url=cache.url)
        assert replayed.returncode == 0, replayed.stderr
        assert f"{original.id} queued again for 1 endpoint." in replayed.stdout
        wait_for(lambda: len(receiver.got) == 2)
        wait_for(lambda: delivery(cache.engine, endpoint).status == "delivered")
    finally:
        api.terminate()
        api.wait(15)
    first, again = receiver.got
    assert first.id == again.id == original.id and first.body == again.body
    assert first.payload["type"] == "proposal.created"
    assert all(verify(public_key_text(KEY), d.id, d.timestamp, d.body, d.signature) for d in receiver.got)

    shown = commons_hooks("log", database_url=cache.url)
    lines = shown.stdout.splitlines()
    assert len(lines) == 2 and all(original.id in line and "HTTP 204" in line for line in lines), shown.stdout
    unknown = commons_hooks("replay", "msg_" + "0" * 40, database_url=cache.url)
    assert unknown.returncode == 1 and "no enabled endpoint had" in unknown.stderr


def wait_for(condition, seconds: float = 60.0) -> None:
    """Until `condition()` holds: another process (the API's worker) is doing the work, on its own interval."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the API process did not do it in time"
        time.sleep(0.1)
