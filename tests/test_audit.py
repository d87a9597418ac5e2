"""The audit: a clean cache passes; a tampered row and a forged decision-log entry are found; the CLI exits 1."""

import json
import subprocess
import sys

import pytest
import sqlalchemy as sa

from api.audit_source import CacheSource
from api.db import make_engine
from governance.audit import audit
from governance.decision_log import entry_hash
from governance.manifest import save
from tests.cache_support import indexer_for, make_history


@pytest.fixture
def audited(commons, stewards, founders, anvil_url, cache_url):
    make_history(commons, stewards, founders)
    indexer_for(commons.manifest, anvil_url, cache_url).sync()
    return cache_url


def run_audit(commons, anvil_url, url):
    return audit(commons.w3, anvil_url, commons.manifest, CacheSource(url))


def test_clean_cache_passes_the_audit(commons, anvil_url, audited):
    report = run_audit(commons, anvil_url, audited)
    assert report.ok, report.findings
    assert report.checked["votes"] == 10


def test_audit_finds_a_tampered_vote(commons, anvil_url, audited):
    with make_engine(audited).begin() as conn:
        conn.execute(sa.text("UPDATE vote SET support = 1 WHERE reason = 'too early'"))
    report = run_audit(commons, anvil_url, audited)
    assert any(f.area == "votes" for f in report.findings)


def test_audit_finds_a_tampered_tally(commons, anvil_url, audited):
    with make_engine(audited).begin() as conn:
        conn.execute(sa.text("UPDATE proposal SET votes_for = votes_for + 5 WHERE number = 3"))
    assert any("votes_for" in f.what for f in run_audit(commons, anvil_url, audited).findings)


def test_audit_finds_a_forged_entry_even_with_its_hash_recomputed(commons, anvil_url, audited):
    with make_engine(audited).begin() as conn:
        row = conn.execute(sa.text("SELECT * FROM decision_entry WHERE kind = 'MemberAdmitted' ORDER BY seq DESC LIMIT 1")).mappings().first()
        data = json.loads(row["data"]) | {"handle": "impostor"}
        body = {k: row[k] for k in ("seq", "block_number", "block_hash", "tx_hash", "log_index", "timestamp", "contract",
                                    "kind", "subject", "prev_hash")} | {"data": data}
        conn.execute(sa.text("UPDATE decision_entry SET data = :data, hash = :hash WHERE seq = :seq"),
                     {"data": json.dumps(data, sort_keys=True, separators=(",", ":")), "hash": entry_hash(body), "seq": row["seq"]})
    areas = {f.area for f in run_audit(commons, anvil_url, audited).findings}
    assert {"hash chain", "decision log"} <= areas


def test_audit_finds_a_deleted_entry(commons, anvil_url, audited):
    with make_engine(audited).begin() as conn:
        conn.execute(sa.text("DELETE FROM decision_entry WHERE seq = 5"))
    assert any(f.area == "hash chain" for f in run_audit(commons, anvil_url, audited).findings)


def test_audit_command_exits_nonzero_on_a_difference(commons, anvil_url, audited, tmp_path):
    with make_engine(audited).begin() as conn:
        conn.execute(sa.text("UPDATE member SET handle = 'someone else' WHERE handle = 'newcomer'"))
    manifest = save(commons.manifest, tmp_path / "manifest.json")
    result = subprocess.run([sys.executable, "-m", "scripts.cli", "audit", "--rpc", anvil_url, "--manifest", str(manifest),
                             "--database-url", audited], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "someone else" in result.stdout
