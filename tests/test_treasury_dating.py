"""Ether sent straight to the treasury leaves no log: the cache dates it by the treasury's balance, to the block it
arrived in, whatever the indexer's batches, and says so in words (the flow's note) in the API; where the node no
longer keeps the balances, it says the span it arrived in instead of pretending to know the block."""

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from api.cache.treasury_tables import FLOWS
from api.db import make_engine
from benchmarks.provider_emulator import Faults, ProviderEmulator
from governance.chain import transact
from governance.treasury import ETH, UnloggedEther, date_unlogged_ether
from tests import helpers
from tests.cache_support import fresh_sqlite, indexer_for
from tests.helpers import fund
from tests.treasury_support import contribute

pytest_plugins = ["tests.treasury_support"]  # the `tc` and `commons` fixtures

FINNEY = 10**15


@pytest.fixture
def commons(treasury_commons):
    return treasury_commons


# ---- the dating itself ---------------------------------------------------------------------------------


def residuals(arrivals: dict[int, int], unknown_below: int = -1):
    """residual_at for a treasury that received `arrivals` (block → wei) with no log; balances below
    `unknown_below` are pruned. Also the list of blocks looked up."""
    looked: list[int] = []

    def residual_at(block: int) -> int | None:
        looked.append(block)
        return None if block < unknown_below else sum(a for b, a in arrivals.items() if b <= block)

    return residual_at, looked


def test_each_arrival_is_dated_to_its_block_with_few_look_ups():
    residual_at, looked = residuals({37: 5, 90: 2, 91: 4})
    found = date_unlogged_ether(residual_at, 10, 2_000, 11)
    assert found == [UnloggedEther(37, 5, 37), UnloggedEther(90, 2, 90), UnloggedEther(91, 4, 91)]
    assert all(f.exact for f in found) and len(looked) <= 3 * 11 + 1


def test_past_the_budget_an_arrival_is_dated_by_its_span():
    residual_at, looked = residuals({1_234: 5})
    (found,) = date_unlogged_ether(residual_at, 1_000, 2_000, 5, budget=3)
    assert (found.block, found.amount, found.since) == (1_250, 5, 1_126) and not found.exact
    assert len(looked) == 1 + 3
    assert found.words() == (
        "No transaction log records this ether: the treasury's balance shows it arrived "
        "between blocks 1,126 and 1,250 (the node kept no balance to say more exactly)."
    )


def test_where_balances_are_pruned_the_span_is_said_and_the_amount_kept():
    residual_at, _ = residuals({1_500: 5, 1_900: 3}, unknown_below=1_800)
    found = date_unlogged_ether(residual_at, 1_000, 2_000, 8)
    assert [(f.block, f.amount, f.since) for f in found] == [(2_000, 8, None)]
    assert found[0].words().endswith("arrived in block 2,000 or before (the node keeps no earlier balance to say when).")


def test_ether_left_over_from_earlier_is_counted_first_and_said_to_be_older():
    residual_at, _ = residuals({500: 7, 1_600: 1})  # the 7 wei were never counted (an earlier batch had no balance)
    found = date_unlogged_ether(residual_at, 1_000, 2_000, 8)
    assert [(f.block, f.amount, f.since) for f in found] == [(1_001, 7, None), (1_600, 1, 1_600)]


def test_ether_left_over_from_earlier_is_looked_for_back_to_the_origin():
    residual_at, _ = residuals({500: 7, 1_600: 1})
    found = date_unlogged_ether(residual_at, 1_000, 2_000, 8, origin=99)
    assert [(f.block, f.amount, f.since) for f in found] == [(500, 7, 500), (1_600, 1, 1_600)]


def test_ether_that_left_without_a_log_is_dated_too():
    residual_at, _ = residuals({300: -4})
    (found,) = date_unlogged_ether(residual_at, 0, 400, -4)
    assert (found.block, found.amount, found.exact) == (300, -4, True) and " it left in block 300." in found.words()


# ---- in the cache and the API ----------------------------------------------------------------------------


def plain_ether(commons, signer, wei: int) -> dict:
    return transact(commons.w3, signer, commons.manifest.timelock, b"", wei)


def unlogged(database: str) -> list[dict]:
    with make_engine(database).connect() as conn:
        query = sa.select(FLOWS).where(FLOWS.c.asset == ETH, FLOWS.c.log_index == -1).order_by(FLOWS.c.block_number)
        return [dict(r) for r in conn.execute(query).mappings()]


def test_plain_ether_is_dated_to_the_block_it_arrived_in_whatever_the_batches(commons, tc, founders, anvil_url, tmp_path):
    w3 = commons.w3
    giver = helpers.test_key_signer("plain-giver")
    fund(w3, giver.address)
    first = plain_ether(commons, giver, 3 * FINNEY)
    w3.provider.make_request("anvil_mine", [hex(40)])
    contribute(commons, founders[2], "0.002", None, "Logged, so not dated by the balance")
    second = plain_ether(commons, giver, 5 * FINNEY)
    w3.provider.make_request("anvil_mine", [hex(40)])
    expected = [
        (r["blockNumber"], str(wei), w3.eth.get_block(r["blockNumber"])["timestamp"])
        for r, wei in ((first, 3 * FINNEY), (second, 5 * FINNEY))
    ]
    at_once = fresh_sqlite(tmp_path, "at-once.db")
    indexer_for(tc.manifest, anvil_url, at_once).sync()
    in_steps = fresh_sqlite(tmp_path, "in-steps.db")
    stepped = indexer_for(tc.manifest, anvil_url, in_steps)
    for block in range(first["blockNumber"] - 3, w3.eth.block_number + 1, 7):  # batches that end anywhere
        stepped.to_block = block
        stepped.sync()
    stepped.to_block = None
    stepped.sync()
    for database in (at_once, in_steps):
        flows = unlogged(database)
        assert [(f["block_number"], f["amount"], f["timestamp"]) for f in flows] == expected
        assert [f["kind"] for f in flows] == ["unattributed", "unattributed"]
        assert flows[0]["note"] == (
            f"No transaction log records this ether: the treasury's balance shows it arrived in block {first['blockNumber']:,}."
        )
    with TestClient(create_app(at_once, upgrade_schema=False)) as client:
        shown = [f for f in client.get("/api/treasury/flows").json()["data"] if f["log_index"] == -1]
    assert [(f["block_number"], f["note"]) for f in shown] == [(b, n["note"]) for (b, _, _), n in zip(expected, flows)]


def test_a_node_that_keeps_no_old_balances_gets_the_span_said_not_a_block(commons, tc, anvil_url, tmp_path):
    w3 = commons.w3
    giver = helpers.test_key_signer("plain-giver")
    fund(w3, giver.address)
    sent = plain_ether(commons, giver, 3 * FINNEY)
    w3.provider.make_request("anvil_mine", [hex(40)])
    database = fresh_sqlite(tmp_path)
    with ProviderEmulator(anvil_url, Faults(state_depth=8)) as emulator:
        indexer_for(tc.manifest, emulator.url, database).sync()
    (flow,) = unlogged(database)
    assert int(flow["amount"]) == 3 * FINNEY and flow["block_number"] > sent["blockNumber"]
    assert "or before (the node keeps no earlier balance to say when)" in flow["note"] or "between blocks" in flow["note"]
    assert f"arrived in block {sent['blockNumber']:,}." not in flow["note"]


def test_ether_found_back_in_a_block_that_has_its_row_already_is_added_to_it(tmp_path):
    """An earlier batch dated part of block 5's ether; this batch finds the rest there (the balance at its start was
    not all accounted for). The key (block, log index -1) holds one row: it holds the net, and the indexer goes on
    (an IntegrityError here stopped the indexer thread for good)."""
    from types import SimpleNamespace

    from api.cache.treasury_sink import _unattributed_ether

    engine = make_engine(fresh_sqlite(tmp_path))
    arrived = {5: 3 * FINNEY}  # the chain: 3 finney arrived in block 5 with no log
    early = {"block_number": 5, "log_index": -1, "tx_hash": "", "timestamp": 1, "direction": "in"}
    early |= {"kind": "unattributed", "asset": ETH, "amount": str(FINNEY), "counterparty": "", "note": "dated before"}
    last = SimpleNamespace(number=10, timestamp=100)
    batch = SimpleNamespace(last=last, first_block=9, blocks=[], events=[])
    with engine.begin() as conn:
        conn.execute(FLOWS.insert(), [early])  # an earlier batch counted 1 of the 3 finney

        def balance_at(block: int) -> int:
            return sum(a for b, a in arrived.items() if b <= block)

        _unattributed_ether(conn, batch, 3 * FINNEY, 8, balance_at, lambda block: 50, origin=0)
        rows = conn.execute(sa.select(FLOWS.c.block_number, FLOWS.c.direction, FLOWS.c.amount)).all()
    assert [tuple(r) for r in rows] == [(5, "in", str(3 * FINNEY))]
