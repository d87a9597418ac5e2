"""A reorg under the treasury: contributions on a replaced fork leave the cache (SQLite and PostgreSQL), those on
the canonical fork arrive, and balances and flows end as a clean index of the canonical chain has them."""

import pytest
import sqlalchemy as sa

from api.cache.treasury_tables import ASSETS, FLOWS
from api.db import make_engine
from governance.chain import transact
from governance.treasury import ETH
from governance.treasury_acts import holdings
from tests.cache_support import fresh_sqlite, indexer_for
from tests.treasury_support import GUSD, contribute, mint

pytest_plugins = ["tests.treasury_support"]  # the `tc` and `treasury_commons` fixtures


@pytest.fixture
def commons(treasury_commons):
    return treasury_commons


def rpc(w3, method, params=None):
    return w3.provider.make_request(method, params or [])["result"]


def treasury_rows(url: str) -> tuple[dict, list, int]:
    """(balances by token, logged flows without ids, net ETH of the flows)."""
    with make_engine(url).connect() as conn:
        balances = {r.symbol: int(r.balance) for r in conn.execute(sa.select(ASSETS))}
        flows = conn.execute(sa.select(FLOWS).order_by(FLOWS.c.block_number, FLOWS.c.log_index)).mappings().all()
    logged = sorted(tuple(str(v) for k, v in f.items() if k != "id") for f in flows if f["log_index"] != -1)
    eth = sum(int(f["amount"]) * (1 if f["direction"] == "in" else -1) for f in flows if f["asset"] == ETH)
    return balances, logged, eth


def test_a_contribution_on_a_replaced_fork_leaves_the_cache(commons, tc, founders, anvil_url, cache_url, tmp_path):
    w3, giver = commons.w3, founders[3]
    mint(w3, tc.gusd, giver.address, 100 * GUSD)
    contribute(commons, giver, "1", "gUSD", "before the fork")
    indexer = indexer_for(tc.manifest, anvil_url, cache_url)
    indexer.sync()
    fork_point = rpc(w3, "evm_snapshot")
    contribute(commons, giver, "5", "gUSD", "fork A")
    transact(w3, giver, tc.manifest.timelock, b"", 10**17)
    indexer.sync()
    rpc(w3, "evm_revert", [fork_point])
    contribute(commons, giver, "7", "gUSD", "fork B")
    for _ in range(4):  # longer than fork A: canonical
        rpc(w3, "evm_mine")
    indexer.sync()
    balances, logged, eth = treasury_rows(cache_url)
    held = {h.asset.symbol: h.units for h in holdings(commons)}
    assert balances == {"gUSD": held["gUSD"], "NRT": 0} and held["gUSD"] == 8 * GUSD
    assert eth == held["ETH"]
    notes = {row[9] for row in logged}
    assert "fork B" in notes and "fork A" not in notes
    clean = fresh_sqlite(tmp_path, "clean.db")
    indexer_for(tc.manifest, anvil_url, clean).sync()
    assert treasury_rows(clean) == (balances, logged, eth)
