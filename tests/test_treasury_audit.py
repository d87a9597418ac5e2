"""The audit of the treasury (SQLite and PostgreSQL): a clean cache agrees with the chain on balances per asset and
every inflow and outflow; a changed amount, a dropped flow, a wrong balance and miscounted unattributed ether are
found; `commons audit` exits 0 on a clean cache and 1 on a tampered one."""

import pytest
import sqlalchemy as sa

from api.audit_source import CacheSource
from api.db import make_engine
from governance.audit import audit
from tests.cache_support import indexer_for
from tests.test_audit import run_audit_command
from tests.treasury_support import make_treasury_history

pytest_plugins = ["tests.treasury_support"]  # the `tc` and `treasury_commons` fixtures


@pytest.fixture
def commons(treasury_commons):
    return treasury_commons


@pytest.fixture
def audited(commons, tc, founders, anvil_url, cache_url):
    make_treasury_history(commons, tc, founders)
    indexer_for(tc.manifest, anvil_url, cache_url).sync()
    return cache_url


def treasury_findings(commons, anvil_url, url) -> list[str]:
    report = audit(commons.w3, anvil_url, commons.manifest, CacheSource(url))
    return [f.what for f in report.findings if f.area == "treasury"], report


def test_a_clean_cache_agrees_with_the_chain_on_the_treasury(commons, anvil_url, audited):
    findings, report = treasury_findings(commons, anvil_url, audited)
    assert report.ok, report.findings
    assert report.checked["treasury assets"] == 3 and report.checked["treasury flows"] >= 8


def test_a_changed_contribution_is_found(commons, anvil_url, audited):
    with make_engine(audited).begin() as conn:
        conn.execute(sa.text("UPDATE treasury_flow SET amount = '41000000' WHERE note = 'Compost bins'"))
    findings, _ = treasury_findings(commons, anvil_url, audited)
    assert any("the cache has a flow the chain lacks: in 41 gUSD" in f for f in findings), findings
    assert any("the chain has a flow the cache lacks: in 40000000" in f for f in findings), findings


def test_a_dropped_payment_and_a_wrong_balance_are_found(commons, anvil_url, audited):
    with make_engine(audited).begin() as conn:
        conn.execute(sa.text("DELETE FROM treasury_flow WHERE kind = 'payment'"))
        conn.execute(sa.text("UPDATE treasury_asset SET balance = '1' WHERE symbol = 'NRT'"))
    findings, _ = treasury_findings(commons, anvil_url, audited)
    assert any("the chain has a flow the cache lacks: out 12500000" in f for f in findings), findings
    assert any("the treasury holds 7 NRT" in f and "the cache says 0.000001 NRT" in f for f in findings), findings


def test_miscounted_unattributed_ether_is_found(commons, anvil_url, audited):
    with make_engine(audited).begin() as conn:
        conn.execute(sa.text("DELETE FROM treasury_flow WHERE log_index = -1"))
    findings, _ = treasury_findings(commons, anvil_url, audited)
    assert any("ETH that reached the treasury without a log" in f for f in findings), findings


def test_the_audit_command_checks_the_treasury(commons, anvil_url, audited, tmp_path):
    clean = run_audit_command(commons, anvil_url, audited, tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    with make_engine(audited).begin() as conn:
        conn.execute(
            sa.text("UPDATE treasury_flow SET counterparty = '0x000000000000000000000000000000000000bEEF' WHERE kind = 'payment'")
        )
    tampered = run_audit_command(commons, anvil_url, audited, tmp_path)
    assert tampered.returncode == 1 and "treasury" in tampered.stdout, tampered.stdout
