"""Payments out of the treasury passed by a vote and executed, end to end on anvil (SQLite and PostgreSQL): in the
USDT-like token whose `transfer` returns nothing, and in ether. The recipient is paid, the cache's outflow (with its
proposal #N and recipient) and balance agree with the chain, and the audit passes."""

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from api.audit_source import CacheSource
from api.cache.treasury_tables import ASSETS, FLOWS
from api.db import make_engine
from governance import actions as act
from governance import treasury
from governance.audit import audit
from governance.treasury import ETH, ETHER
from governance.treasury_acts import holdings, reader, resolve_asset
from tests import helpers
from tests.cache_support import indexer_for
from tests.helpers import carry_through, propose
from tests.test_audit import run_audit_command
from tests.treasury_support import GUSD, contribute, mint

pytest_plugins = ["tests.treasury_support"]  # the `tc` and `treasury_commons` fixtures

EXECUTED = 7  # IGovernor.ProposalState.Executed


@pytest.fixture
def commons(treasury_commons):
    return treasury_commons


def held(commons) -> dict[str, int]:
    return {h.asset.symbol: h.units for h in holdings(commons)}


def outflows(cache_url: str) -> list[dict]:
    """The treasury's outflows as the API answers them, on the cache at `cache_url`."""
    with TestClient(create_app(cache_url, upgrade_schema=False, run_hooks=False)) as client:
        return client.get("/api/treasury/flows", params={"direction": "out", "limit": 500}).json()["data"]


def balances_in_the_api(cache_url: str) -> dict[str, int]:
    with TestClient(create_app(cache_url, upgrade_schema=False, run_hooks=False)) as client:
        return {b["symbol"]: int(b["balance"]) for b in client.get("/api/treasury").json()["balances"]}


def test_a_payment_in_a_token_without_a_return_value_passed_by_vote_pays_and_is_recorded(
    commons, tc, founders, anvil_url, cache_url, tmp_path
):
    w3 = commons.w3
    mint(w3, tc.nrt, founders[3].address, 50 * GUSD)
    contribute(commons, founders[3], "20", "NRT", "For the tool shed")
    carpenter = helpers.test_key_signer("nrt-carpenter").address
    nrt = resolve_asset(commons, "NRT")
    payment = treasury.pay_token(nrt, carpenter, treasury.parse_amount("7.25", nrt))
    pid = propose(commons, founders[0], [payment], "Pay the carpenter in NRT")
    carry_through(commons, pid, founders[:4])

    assert commons.governor.functions.state(pid).call() == EXECUTED
    assert treasury.balance_of(reader(commons), tc.nrt, carpenter) == 7_250_000
    assert held(commons)["NRT"] == 12_750_000

    indexer_for(tc.manifest, anvil_url, cache_url).sync()
    with make_engine(cache_url).connect() as conn:
        cached = int(conn.execute(sa.select(ASSETS.c.balance).where(ASSETS.c.address == tc.nrt)).scalar_one())
        rows = conn.execute(sa.select(FLOWS).where(FLOWS.c.asset == tc.nrt, FLOWS.c.direction == "out")).mappings().all()
    assert cached == held(commons)["NRT"]
    assert [(r["kind"], int(r["amount"]), r["counterparty"]) for r in rows] == [("payment", 7_250_000, carpenter)]
    (shown,) = outflows(cache_url)
    assert (shown["proposal_number"], shown["proposal_title"]) == (1, "Pay the carpenter in NRT")
    assert (shown["amount_text"], shown["symbol"], shown["counterparty"]) == ("7.25 NRT", "NRT", carpenter)
    assert balances_in_the_api(cache_url)["NRT"] == 12_750_000

    audited = run_audit_command(commons, anvil_url, cache_url, tmp_path)
    assert audited.returncode == 0, audited.stdout + audited.stderr


def test_a_payment_in_ether_passed_by_vote_is_an_outflow_of_its_proposal_to_its_recipient(
    commons, tc, founders, anvil_url, cache_url
):
    w3 = commons.w3
    contribute(commons, founders[3], "3", None, "For the orchard")
    propose(commons, founders[1], [act.pay(founders[4].address, 1)], "A first proposal, never voted on")
    recipient = founders[5]  # a member, who sends nothing during the test: their balance changes only by the payment
    before = w3.eth.get_balance(recipient.address)
    treasury_before = held(commons)["ETH"]
    wei = treasury.parse_amount("1.5", ETHER)
    pid = propose(commons, founders[0], [act.pay(recipient.address, wei)], "Pay for the apple trees")
    carry_through(commons, pid, founders[:4])

    assert commons.governor.functions.state(pid).call() == EXECUTED
    assert w3.eth.get_balance(recipient.address) == before + wei
    assert held(commons)["ETH"] == treasury_before - wei

    indexer_for(tc.manifest, anvil_url, cache_url).sync()
    (shown,) = outflows(cache_url)
    assert (shown["kind"], shown["asset"], int(shown["amount"]), shown["amount_text"]) == ("payment", ETH, wei, "1.5 ETH")
    assert (shown["proposal_number"], shown["proposal_title"], shown["proposal_id"]) == (2, "Pay for the apple trees", str(pid))
    assert (shown["counterparty"], shown["handle"]) == (recipient.address, "founder5")
    assert shown["operation_id"] and shown["log_index"] >= 0  # from the timelock's CallExecuted, not the balance
    assert balances_in_the_api(cache_url)["ETH"] == held(commons)["ETH"]
    report = audit(w3, anvil_url, commons.manifest, CacheSource(cache_url))
    assert report.ok, report.findings
