"""The indexer through the provider emulator (benchmarks/provider_emulator.py): capped ranges in each provider's words,
rate limits with and without Retry-After, reset connections, 5xx answers and pruned state. Faults come by count, so
every run sees the same ones."""

import os
import subprocess
import sys

import pytest

from api.db import make_engine
from benchmarks.provider_emulator import RANGE_REFUSALS, Faults, ProviderEmulator
from governance.chain import connect
from governance.client import Commons
from governance.errors import NodeRateLimited, RetryableError, RpcError
from governance.log_ranges import RangePolicy, named_span
from governance.manifest import save
from governance.rpc import Rpc
from tests.cache_support import cache_rows, clean_index, fresh_sqlite, indexer_for, make_history


@pytest.fixture
def history(commons, stewards, founders):
    return make_history(commons, stewards, founders)


def emulate(anvil_url: str, **faults) -> ProviderEmulator:
    return ProviderEmulator(anvil_url, Faults(**faults))


@pytest.mark.parametrize("provider", sorted(RANGE_REFUSALS))
def test_a_wide_range_is_refused_in_the_providers_words_and_the_cap_is_read_from_them(anvil_url, provider):
    with emulate(anvil_url, provider=provider, block_range=2000) as emulator:
        with pytest.raises(RpcError) as refused:
            Rpc(emulator.url).logs(1, 3000, [], [])
        assert refused.value.too_many_results
        assert named_span(refused.value.node_message) == 2000
        assert Rpc(emulator.url).logs(0, 0, [], []) == []


def test_a_long_answer_is_refused_with_the_log_cap(commons, history, anvil_url):
    with emulate(anvil_url, max_logs=1) as emulator, pytest.raises(RpcError, match="more than 1 results") as refused:
        Rpc(emulator.url).logs(commons.manifest.deployment_block, commons.w3.eth.block_number, [], [])
    assert refused.value.too_many_results


def test_the_range_policy_keeps_a_learnt_cap_and_grows_back_after_a_log_cap():
    policy = RangePolicy(blocks=3200)
    assert policy.refused(3200, "range 3200 exceeds limit of 2000") == 2000
    policy.after(0, 2000)
    assert policy.blocks == 2000 and policy.ceiling == 2000  # never past the cap again
    assert policy.refused(2000, "query returned more than 10000 results") == 1000
    policy.after(0, 1000)
    assert policy.blocks == 2000 and policy.ceiling == 2000  # a dense range did not lower the cap


def test_a_refusal_without_a_number_is_searched_between_what_worked_and_what_did_not():
    policy = RangePolicy(blocks=1000)
    policy.after(0, 1000)
    assert policy.refused(2000, "block range too high") == 1500


def test_old_state_is_refused_like_a_pruning_node_and_the_head_is_not(commons, anvil_url, w3):
    w3.provider.make_request("anvil_mine", [hex(5)])
    head = w3.eth.block_number
    with emulate(anvil_url, state_depth=2) as emulator:
        rpc = Rpc(emulator.url)
        with pytest.raises(RpcError, match="missing trie node"):
            rpc.balance(w3.eth.accounts[0], head - 3)
        assert rpc.balance(w3.eth.accounts[0], head) == w3.eth.get_balance(w3.eth.accounts[0])
        assert emulator.tally.refused_state == 1


def test_rate_limits_resets_and_5xx_are_retried_and_counted(anvil_url):
    with emulate(anvil_url, throttle_every=4, fail_every=5, reset_every=7) as emulator:
        with pytest.raises(NodeRateLimited):
            for _ in range(4):
                Rpc(emulator.url).chain_id()  # no retries: the fourth request is answered 429
        rpc = Rpc(emulator.url, retries=3)
        assert all(rpc.chain_id() == 31337 for _ in range(12))
        assert emulator.tally.throttled >= 2 and emulator.tally.failed >= 2 and emulator.tally.reset >= 1


def test_retry_after_is_waited_for(anvil_url):
    import time

    with emulate(anvil_url, throttle_every=2, retry_after=1) as emulator:
        rpc = Rpc(emulator.url, retries=2)
        rpc.chain_id()
        started = time.monotonic()
        rpc.chain_id()  # the second request is answered 429 with Retry-After: 1
        assert time.monotonic() - started >= 1.0


def test_without_retries_an_outage_is_a_retryable_error(anvil_url):
    with emulate(anvil_url, fail_every=1) as emulator, pytest.raises(RetryableError, match="HTTP 50"):
        Rpc(emulator.url).chain_id()


def test_backfill_through_every_fault_equals_a_clean_index(commons, history, anvil_url, tmp_path):
    faults = dict(block_range=3, max_logs=40, throttle_every=17, fail_every=11, reset_every=13, state_depth=2)
    with emulate(anvil_url, **faults) as emulator:
        url = fresh_sqlite(tmp_path, "emulated.db")
        indexer = indexer_for(commons.manifest, emulator.url, url)
        indexer.settled_depth = 0  # every block through the concurrent ranges
        indexer.sync()
        tally = emulator.tally
    assert cache_rows(make_engine(url)) == clean_index(commons.manifest, anvil_url, tmp_path)
    assert tally.refused_ranges and tally.throttled and tally.failed and tally.reset
    assert indexer.ranges.ceiling == 3


def test_backfill_in_a_sparse_history_asks_once_per_capped_range(commons, history, anvil_url, tmp_path):
    with emulate(anvil_url, block_range=1000, sparse=1000) as emulator:
        url = fresh_sqlite(tmp_path, "sparse.db")
        indexer = indexer_for(commons.manifest, emulator.url, url)
        indexer.start_block = commons.manifest.deployment_block * 1000
        indexer.ranges = RangePolicy(blocks=100)
        indexer.in_flight = 1  # how many ranges were in flight when one was refused would vary from run to run
        indexer.sync()
        head = Rpc(emulator.url).block_number()
        asked = emulator.tally.by_method["eth_getLogs"]
    blocks = head - indexer.start_block + 1
    assert indexer.sink.cursor().number == head
    # Growing from 100 blocks to the cap costs a few requests and a refusal; the rest are full ranges (33 blocks with
    # events among 33,001: one request per empty block would be 33,001).
    assert asked <= blocks // 1000 + 8, (asked, blocks)


def commons_sync(manifest, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMONS_")}
    command = [sys.executable, "-m", "scripts.cli", "sync", "--manifest", str(manifest), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def test_commons_sync_works_through_the_emulator(commons, history, anvil_url, tmp_path):
    commons.w3.provider.make_request("anvil_mine", [hex(80)])  # settled blocks, fetched by concurrent ranges
    manifest = save(commons.manifest, tmp_path / "manifest.json")
    with emulate(anvil_url, provider="alchemy", block_range=5, throttle_every=23, fail_every=13, state_depth=4) as emulator:
        database = f"sqlite:///{tmp_path / 'cli.db'}"
        result = commons_sync(manifest, "--rpc", emulator.url, "--database-url", database)
        assert result.returncode == 0, result.stderr
        assert emulator.tally.refused_ranges and emulator.tally.throttled and emulator.tally.failed
    assert cache_rows(make_engine(database)) == clean_index(commons.manifest, anvil_url, tmp_path)


def test_the_pacer_spaces_requests_to_the_rate_it_learnt_and_pauses_for_retry_after():
    import time

    from governance.rpc import Pacer

    pacer = Pacer()
    for _ in range(Pacer.FEWEST - 1):
        pacer.answered()
    pacer.throttled(None)
    assert pacer.rate is None  # too few answers to tell a rate from
    pacer.answered()
    pacer.throttled(0.3)
    assert pacer.rate is not None and pacer.rate >= 1.0
    pacer.rate = 20.0
    started = time.monotonic()
    for _ in range(3):
        pacer.wait()
    assert time.monotonic() - started >= 0.3  # the Retry-After, then 1/20 s between requests


def test_contract_reads_ask_the_chain_id_once_not_around_every_call(anvil_url, deployed):
    """web3 checks the chain id around every eth_call; through a hosted provider that tripled the audit's requests."""
    with emulate(anvil_url) as emulator:
        commons = Commons(connect(emulator.url), deployed)
        for _ in range(10):
            commons.governor.functions.votingDelay().call()
    assert emulator.tally.by_method["eth_call"] >= 10
    assert emulator.tally.by_method["eth_chainId"] <= 2, emulator.tally.by_method
