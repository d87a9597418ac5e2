"""The public API against what an attacker or a careless deployment would do: secrets in URLs, huge bodies,
forged forwarded headers, a downgraded CSP, a relay that ignores the app's configuration, errors in words."""

import dataclasses
import os
import re
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from fastapi.testclient import TestClient

from api.app import create_app
from api.errors import commons_error_response
from api.limits import client_address, parse_networks, rate_key
from governance import errors
from governance.chain import connect
from governance.config import get_settings
from governance.manifest import save
from governance.redaction import redact, redact_url
from governance.rpc import Rpc
from tests import helpers
from tests.cache_support import fresh_sqlite
from tests.helpers import fund

SECRET_URL = "https://user:pass@127.0.0.1:1/v3/SECRETKEY?apikey=SECRETKEY#SECRETKEY"


@pytest.fixture
def relay_key(w3, settings_env):
    """A funded relayer key, configured the way an operator does (COMMONS_RELAYER_PRIVATE_KEY)."""
    signer = helpers.test_key_signer("hardening-relayer")
    fund(w3, signer.address)
    settings_env(relayer_private_key="0x" + bytes(signer.account.key).hex())
    return signer


def app_client(tmp_path, **options) -> TestClient:
    return TestClient(create_app(fresh_sqlite(tmp_path), upgrade_schema=False, **options))


# ---- 1. the node's URL (which may carry a provider key) is never disclosed ---------------------------------


def test_urls_in_messages_keep_only_scheme_and_host():
    assert redact_url(SECRET_URL) == "https://127.0.0.1:1"
    text = redact(f"failed at {SECRET_URL}. HTTPConnectionPool(host='x', port=80): Max retries exceeded with url: /v3/SECRETKEY")
    assert "SECRETKEY" not in text and "pass" not in text and "https://127.0.0.1:1." in text


def test_node_errors_from_connect_and_rpc_name_the_node_without_its_key():
    with pytest.raises(errors.RetryableError) as from_connect:
        connect(SECRET_URL, timeout=2)
    with pytest.raises(errors.RetryableError) as from_rpc:
        Rpc(SECRET_URL, timeout=2).chain_id()
    for exc in (from_connect.value, from_rpc.value):
        assert "SECRETKEY" not in str(exc) and "https://127.0.0.1:1" in str(exc)


def test_relay_config_offers_only_the_public_rpc_url(tmp_path, anvil_url, deployed, relay_key, settings_env):
    settings_env(rpc_url=anvil_url)
    with app_client(tmp_path, manifest=deployed, rpc_url=anvil_url) as client:
        assert client.get("/api/relay/config").json()["rpc_url"] is None
    settings_env(public_rpc_url="https://rpc.example.org")
    with app_client(tmp_path, manifest=deployed, rpc_url=anvil_url) as client:
        config = client.get("/api/relay/config").json()
    assert config["rpc_url"] == "https://rpc.example.org" and config["governor"] == deployed.governor


def test_unreachable_node_answers_502_without_its_url(tmp_path, deployed, relay_key):
    with app_client(tmp_path, manifest=deployed, rpc_url=SECRET_URL) as client:
        response = client.get("/api/relay/config")
    assert response.status_code == 502 and response.json()["code"] == "chain_error"
    assert "SECRETKEY" not in response.text and "https://127.0.0.1:1" in response.json()["detail"]


def test_health_reports_the_indexer_error_without_the_node_url(tmp_path, deployed):
    with app_client(tmp_path, manifest=deployed, rpc_url=SECRET_URL, run_indexer=True) as client:
        deadline = time.monotonic() + 20
        while (indexer := client.get("/api/health").json()["indexer"])["last_error"] is None:
            assert time.monotonic() < deadline, "the indexer reported no error"
            time.sleep(0.1)
    assert "https://127.0.0.1:1" in indexer["last_error"] and "SECRETKEY" not in indexer["last_error"]


# ---- 5. one configuration path: the relay uses the chain and commons create_app was given ------------------


def test_relay_follows_the_rpc_url_and_manifest_the_app_was_given(tmp_path, anvil_url, deployed, relay_key, settings_env):
    settings_env(rpc_url="http://127.0.0.1:1")  # nothing answers there: the relay must not look
    elsewhere = dataclasses.replace(deployed, name="Given Garden")  # not the manifest found by chain id
    with app_client(tmp_path, manifest=elsewhere, rpc_url=anvil_url) as client:
        response = client.get("/api/relay/config")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Given Garden" and response.json()["relayer"] == relay_key.address


def test_commons_serve_gives_the_relay_its_rpc_and_manifest(served, tmp_path, anvil_url, deployed, relay_key):
    path = save(dataclasses.replace(deployed, name="Served Garden"), tmp_path / "elsewhere.json")
    key = "0x" + bytes(relay_key.account.key).hex()
    port, _pid = served("--rpc", anvil_url, "--manifest", str(path), rpc_url="http://127.0.0.1:1", relayer_private_key=key)
    response = requests.get(f"http://127.0.0.1:{port}/api/relay/config")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Served Garden" and response.json()["relayer"] == relay_key.address


# ---- 6. one handler turns library errors into HTTP answers -------------------------------------------------


@pytest.mark.parametrize(
    "error, status, code",
    [
        (errors.BallotRefused("not_member", "0x… is not a member."), 403, "not_member"),
        (errors.BallotRefused("stale_nonce", "Sign it anew."), 409, "stale_nonce"),
        (errors.InvalidInput("The nonce must be a whole number."), 400, "invalid_input"),
        (errors.RelayUnavailable("The relay holds too little to pay."), 503, "relay_unavailable"),
        (errors.ConfigurationError("No signing key."), 503, "relay_unavailable"),
        (errors.RetryableError(f"No chain node answers at {SECRET_URL}."), 502, "chain_error"),
        (errors.Reverted("The governor refused."), 502, "chain_error"),
    ],
)
def test_library_errors_become_json_with_the_status_the_caller_can_act_on(error, status, code):
    response = commons_error_response(error)
    assert response.status_code == status
    assert response.body.startswith(b'{"detail":"') and f'"code":"{code}"'.encode() in response.body
    assert b"SECRETKEY" not in response.body


def test_rate_limited_is_429_with_retry_after():
    response = commons_error_response(errors.RateLimited("Too many ballots.", 7))
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"


def test_invalid_input_from_any_relay_route_is_400_in_words(tmp_path, anvil_url, deployed, relay_key, founders):
    with app_client(tmp_path, manifest=deployed, rpc_url=anvil_url) as client:
        response = client.post(
            "/api/relay/typed-data", json={"proposal_id": "seven", "support": "for", "voter": founders[0].address}
        )
    assert response.status_code == 400
    assert response.json() == {"detail": "The proposal id must be a whole number, not 'seven'.", "code": "invalid_input"}


def test_node_vanishing_mid_request_is_502_in_words_not_500(tmp_path, anvil_url, deployed, relay_key, founders):
    body = {"proposal_id": "1", "support": "for", "voter": founders[0].address}
    with app_client(tmp_path, manifest=deployed, rpc_url=anvil_url) as client:
        assert client.get("/api/relay/config").status_code == 200
        client.app.state.relayer.w3.provider.endpoint_uri = SECRET_URL  # the node goes away
        response = client.post("/api/relay/typed-data", json=body)
    assert response.status_code == 502 and response.json()["code"] == "chain_error"
    assert "SECRETKEY" not in response.text


# ---- 2. bodies are capped before parsing, and writes are counted before any work ---------------------------


def test_relay_body_past_its_limit_is_413_before_parsing(tmp_path, settings_env):
    settings_env(relay_max_body_bytes=1000)
    ballot = {"proposal_id": "1", "support": "for", "voter": "0x" + "11" * 20, "nonce": "0", "signature": "0x"}
    with app_client(tmp_path) as client:
        small = client.post("/api/relay/ballots", json=ballot)
        large = client.post("/api/relay/ballots", json={**ballot, "reason": "x" * 2000})
        chunked = client.post("/api/relay/ballots", content=iter([b"{" + b" " * 600, b" " * 600 + b"}"]))
        on_a_read_route = client.request("GET", "/api/health", content=b"x" * 2000)
    assert small.status_code != 413
    for response in (large, chunked, on_a_read_route):
        assert response.status_code == 413 and response.json()["code"] == "body_too_large", response.text
        assert response.headers["content-security-policy"] and response.headers["connection"] == "close"


def _send_huge_post(port: int, megabytes: int, chunked: bool) -> bytes:
    """POST `megabytes` MB to the relay over a raw socket; returns what the server answered (if anything)."""
    head = b"POST /api/relay/ballots HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += b"Transfer-Encoding: chunked\r\n\r\n" if chunked else b"Content-Length: %d\r\n\r\n" % (megabytes << 20)
    chunk = b"[" + b"1," * (2**19 - 1)  # 1 MiB of a JSON array that never ends
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head)
        try:
            for _ in range(megabytes):
                if select.select([conn], [], [], 0)[0]:
                    break  # the server has answered (and will close): stop sending
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            if chunked:
                conn.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            return conn.recv(65536)
        except ConnectionResetError:
            return b""


def _peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


@pytest.fixture
def served(tmp_path):
    """`commons serve --no-index` (uvicorn, a read replica) in a subprocess; `serve(*options, **settings)` returns
    (port, pid). The chain is at --rpc, by default nowhere."""

    def serve(*options: str, **env) -> tuple[int, int]:
        port = helpers.free_port()
        environment = {**os.environ, **{f"COMMONS_{k.upper()}": str(v) for k, v in env.items()}}
        command = [str(Path(sys.executable).with_name("commons")), "serve", "--no-index", "--port", str(port)]
        command += ["--database-url", f"sqlite:///{tmp_path / 'served.db'}", "--rpc", "http://127.0.0.1:1", *options]
        process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        processes.append(process)
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=5).ok:
                    return port, process.pid
            # Not listening yet, or (on a loaded machine) listening but still starting: try again until the deadline.
            except (requests.ConnectionError, requests.Timeout):
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "commons serve did not answer"
                time.sleep(0.1)

    processes: list[subprocess.Popen] = []
    yield serve
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_200_mb_post_never_grows_the_server(served, chunked):
    port, pid = served()
    before = _peak_rss_mb(pid)
    answer = _send_huge_post(port, 200, chunked)
    grown = _peak_rss_mb(pid) - before
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert grown < 20, f"the server grew by {grown:.0f} MB"


def test_a_write_over_the_rate_is_refused_before_its_body_is_read(served):
    port, pid = served(write_client_rate_per_minute=1)
    requests.post(f"http://127.0.0.1:{port}/api/relay/ballots", json={})
    before = _peak_rss_mb(pid)
    answer = _send_huge_post(port, 200, chunked=True)
    assert answer.startswith(b"HTTP/1.1 429") and b"retry-after" in answer.lower(), answer[:300]
    assert _peak_rss_mb(pid) - before < 20


# ---- 3. forwarded headers are believed only from configured proxies; a global limit ------------------------


def test_rotating_x_forwarded_for_does_not_escape_the_client_limit(served):
    port, _pid = served(write_client_rate_per_minute=3)
    codes = [
        requests.post(
            f"http://127.0.0.1:{port}/api/relay/typed-data", json={}, headers={"X-Forwarded-For": f"203.0.113.{i}"}
        ).status_code
        for i in range(5)
    ]
    assert codes[:3] != [429] * 3 and codes[3:] == [429, 429], codes


def test_forwarded_client_is_believed_from_a_trusted_proxy_only(tmp_path, settings_env):
    settings_env(trusted_proxies="10.0.0.0/8, 192.0.2.7", write_client_rate_per_minute=1)
    app = create_app(fresh_sqlite(tmp_path), upgrade_schema=False)
    with TestClient(app, client=("10.1.2.3", 4000)) as proxy, TestClient(app, client=("198.51.100.9", 4000)) as stranger:

        def post(client: TestClient, forwarded: str) -> int:
            return client.post("/api/relay/typed-data", json={}, headers={"X-Forwarded-For": forwarded}).status_code

        assert post(proxy, "203.0.113.1") != 429 and post(proxy, "203.0.113.2") != 429  # two clients behind the proxy
        assert post(proxy, "6.6.6.6, 203.0.113.1") == 429  # the client's own claim (left) is not believed
        assert post(stranger, "203.0.113.3") != 429 and post(stranger, "203.0.113.4") == 429  # not a proxy


def test_client_address_walks_forwarded_hops_from_the_right():
    proxies = parse_networks("10.0.0.0/8,2001:db8::/32")
    assert client_address("10.0.0.1", "1.1.1.1, 203.0.113.5, 10.0.0.9", proxies) == "203.0.113.5"
    assert client_address("203.0.113.5", "1.1.1.1", proxies) == "203.0.113.5"
    assert client_address("10.0.0.1", "junk, 10.0.0.2", proxies) == "10.0.0.2"
    assert client_address("10.0.0.1", "1.1.1.1", []) == "10.0.0.1"
    assert rate_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"


def test_writes_from_everyone_together_are_limited(tmp_path, settings_env):
    settings_env(trusted_proxies="10.0.0.1", write_global_rate_per_minute=3)
    with TestClient(create_app(fresh_sqlite(tmp_path), upgrade_schema=False), client=("10.0.0.1", 1)) as client:
        responses = [
            client.post("/api/relay/typed-data", json={}, headers={"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(4)
        ]
    assert [r.status_code == 429 for r in responses] == [False, False, False, True]
    assert "busy" in responses[3].json()["detail"] and int(responses[3].headers["Retry-After"]) > 0
    assert client.get("/api/health").status_code == 200  # reads are not counted


# ---- 4. one strict CSP for every path; the docs page from a pinned local package ---------------------------


@pytest.mark.parametrize("path", ["/", "/docs", "/docs%2f..%2findex.html", "/docs/../index.html", "/redocx", "/docsx"])
def test_every_path_gets_the_strict_policy(tmp_path, path):
    with app_client(tmp_path) as client:
        policy = client.get(path).headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "https:" not in policy and "script-src 'self';" in policy


def test_docs_page_loads_swagger_ui_from_this_origin_only(tmp_path):
    node_modules = get_settings().node_modules
    with app_client(tmp_path) as client:
        page = client.get("/docs")
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        files = {source: client.get(source) for source in sources}
        others = [client.get(path).status_code for path in ("/redoc", "/docs/package.json", "/docs/..%2f..%2fpackage.json")]
        assert client.get("/openapi.json").json()["info"]["title"] == "Commons Ledger"
    assert page.status_code == 200 and "<script>" not in page.text
    assert sources and all(source.startswith("/docs/") for source in sources)
    assert all(response.status_code == 200 for response in files.values())
    assert files["/docs/swagger-ui-bundle.js"].content == (node_modules / "swagger-ui-dist/swagger-ui-bundle.js").read_bytes()
    assert others == [404, 404, 404]


def test_swagger_ui_is_pinned_exactly_in_package_json_and_the_lock():
    import json

    root = Path(__file__).resolve().parent.parent
    pinned = json.loads((root / "package.json").read_text())["dependencies"]["swagger-ui-dist"]
    locked = json.loads((root / "package-lock.json").read_text())["packages"]["node_modules/swagger-ui-dist"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned) and locked["version"] == pinned and locked["integrity"]
