"""The demo commons funds itself in the open: Garden Dollars (gUSD) tracked from the start, member contributions in
ETH and gUSD with notes (and one from the nursery next door), and seedlings paid in gUSD by vote; the cache, the API
and the audit agree with its chain."""

import json
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.audit_source import CacheSource
from governance.audit import audit
from governance.chain import connect
from governance.client import Commons
from governance.demo import seed_demo
from governance.manifest import save
from governance.node import LocalNode
from governance.treasury_acts import holdings
from tests.cache_support import fresh_sqlite, indexer_for
from tests.helpers import free_port


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo on its own anvil node (it moves the clock by weeks), indexed into SQLite."""
    node = LocalNode(free_port(), None, extra_args=("--accounts", "20"))
    url = node.start()
    try:
        w3 = connect(url)
        manifest = seed_demo(w3)
        database = fresh_sqlite(tmp_path_factory.mktemp("demo"))
        indexer_for(manifest, url, database).sync()
        yield Commons(w3, manifest), url, database
    finally:
        node.stop()


def test_the_demo_holds_eth_and_garden_dollars(demo):
    commons, _, database = demo
    held = {h.asset.symbol: h.in_words for h in holdings(commons)}
    assert held == {"ETH": "23.25 ETH", "gUSD": "95.25 gUSD"}
    with TestClient(create_app(database, upgrade_schema=False)) as client:
        body = client.get("/api/treasury").json()
    assert {b["symbol"]: b["balance_text"] for b in body["balances"]} == held
    notes = {f["note"] for f in body["inflows"] if f["kind"] == "contribution"}
    assert {"For the seed fund", "Compost bins and a sieve", "From the co-op nursery, with thanks"} <= notes
    seedlings = next(f for f in body["outflows"] if f["symbol"] == "gUSD")
    assert seedlings["amount_text"] == "120.5 gUSD" and seedlings["proposal_title"] == "Buy spring seedlings"
    assert commons.proposals()[-1].title == "Repair the tool shed roof" and commons.proposals()[-1].state == "active"


def test_the_demo_passes_the_audit(demo):
    commons, url, database = demo
    report = audit(commons.w3, url, commons.manifest, CacheSource(database))
    assert report.ok, report.findings
    assert report.checked["treasury flows"] >= 7


def run_demo(url: str, state_dir) -> subprocess.CompletedProcess:
    """`commons demo` as `./dev run` runs it, against the demo's chain, with its state in `state_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMONS_")}
    env.update(COMMONS_RPC_URL=url, COMMONS_STATE_DIR=str(state_dir), COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "scripts.cli", "demo"], capture_output=True, text=True, env=env, timeout=120)


def test_a_restart_keeps_the_demo_and_says_so(demo, tmp_path):
    commons, url, _ = demo
    w3 = commons.w3
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        save(commons.manifest, tmp_path / "deployments" / f"{commons.manifest.chain_id}.json")
        proposals = commons.governor.functions.proposalCount().call()
        first = run_demo(url, tmp_path)
        assert first.returncode == 0, first.stderr
        lines = first.stdout.splitlines()
        assert lines[0] == f"A commons is already deployed on this chain: “{commons.manifest.name}” " + (
            f"({tmp_path / 'deployments' / f'{commons.manifest.chain_id}.json'})."
        )
        assert f"Demo commons “{commons.manifest.name}” ready; governor {commons.manifest.governor}." in lines
        assert "made and funded" in first.stdout and "ahead of the wall clock" in first.stdout
        relayer = "0x" + json.loads((tmp_path / "relayer-keystore.json").read_text())["address"]
        funded = w3.eth.get_balance(w3.to_checksum_address(relayer))
        again = run_demo(url, tmp_path)
        assert again.returncode == 0, again.stderr
        assert again.stdout.splitlines()[0] == lines[0]
        assert "made and funded" not in again.stdout and f"Vote relayer {w3.to_checksum_address(relayer)} ready" in again.stdout
        assert w3.eth.get_balance(w3.to_checksum_address(relayer)) == funded  # funded once, not on every restart
        assert commons.governor.functions.proposalCount().call() == proposals  # nothing seeded twice
    finally:
        w3.provider.make_request("evm_revert", [snapshot])
