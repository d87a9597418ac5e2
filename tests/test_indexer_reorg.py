"""Reorgs made on anvil (evm_snapshot / evm_revert, then a different fork) while the indexer follows:
the cache must end equal to a clean index of the canonical chain."""

import threading

import pytest
import sqlalchemy as sa

from api.db import make_engine
from governance.indexer import wait_until_caught_up
from tests.cache_support import cache_rows, clean_index, fresh_sqlite, indexer_for
from tests.helpers import act, propose, to_voting, vote


def rpc(w3, method, params=None):
    return w3.provider.make_request(method, params or [])["result"]


def fork_blocks(commons, founders, pid, depth: int, variant: int) -> None:
    """`depth` blocks: a vote, a delegation, then empty blocks; `variant` makes two forks differ."""
    vote(commons, founders[variant % 2], pid, "for" if variant == 0 else "against", f"fork {variant}")
    if depth > 1:
        commons.submit(commons.plan_delegate(founders[5].address), founders[2 + variant])
    for _ in range(depth - 2):
        rpc(commons.w3, "evm_mine")


def follow_through_reorg(commons, stewards, founders, anvil_url, database_url, depth: int) -> None:
    w3 = commons.w3
    pid = propose(commons, stewards[0], [act.pay(founders[3].address, 10**18)], "Tools for the shed")
    to_voting(commons, pid)
    indexer = indexer_for(commons.manifest, anvil_url, database_url)
    stop = threading.Event()
    follower = threading.Thread(target=indexer.follow, args=(stop, 0.02), daemon=True)
    follower.start()
    try:
        fork_point = rpc(w3, "evm_snapshot")
        fork_blocks(commons, founders, pid, depth, 0)
        wait_until_caught_up(indexer)
        rpc(w3, "evm_revert", [fork_point])
        fork_blocks(commons, founders, pid, depth + 1, 1)  # one block longer: the new fork is canonical
        wait_until_caught_up(indexer)
        # Let the follower see the replaced blocks (a revert can leave it momentarily at an equal height).
        stop.wait(0.3)
        wait_until_caught_up(indexer)
    finally:
        stop.set()
        follower.join(10)


@pytest.mark.parametrize("depth", range(1, 11))
def test_cache_equals_clean_index_after_reorg_on_sqlite(commons, stewards, founders, anvil_url, tmp_path, depth):
    url = fresh_sqlite(tmp_path, "followed.db")
    follow_through_reorg(commons, stewards, founders, anvil_url, url, depth)
    assert cache_rows(make_engine(url)) == clean_index(commons.manifest, anvil_url, tmp_path)


@pytest.mark.parametrize("depth", [1, 5, 10])
def test_cache_equals_clean_index_after_reorg_on_postgresql(commons, stewards, founders, anvil_url, tmp_path, pg_database, depth):
    from tests.cache_support import _empty_postgres

    _empty_postgres(pg_database)
    follow_through_reorg(commons, stewards, founders, anvil_url, pg_database, depth)
    assert cache_rows(make_engine(pg_database)) == clean_index(commons.manifest, anvil_url, tmp_path)


def test_treasury_after_a_rollback_is_the_balance_at_the_common_ancestor(commons, anvil_url, tmp_path):
    w3, timelock = commons.w3, commons.manifest.timelock
    url = fresh_sqlite(tmp_path, "treasury.db")
    indexer = indexer_for(commons.manifest, anvil_url, url)
    indexer.sync()

    def cached_treasury() -> int:
        with make_engine(url).connect() as conn:
            return int(conn.execute(sa.text("SELECT treasury_wei FROM sync_cursor")).scalar())

    before = w3.eth.get_balance(timelock)
    fork_point = rpc(w3, "evm_snapshot")
    # anvil answers eth_sendTransaction before its automine has mined the block: wait for it, or the sync can run first
    # (the cache then still held the old balance; failed in CI, passed alone).
    gift = w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": timelock, "value": 10**18})
    w3.eth.wait_for_transaction_receipt(gift)
    indexer.sync()
    assert cached_treasury() == before + 10**18
    rpc(w3, "evm_revert", [fork_point])  # the gift's block is gone, and no block has replaced it yet
    indexer.sync()
    assert cached_treasury() == w3.eth.get_balance(timelock) == before
