"""The indexer against anvil: backfill, idempotence, decoding, states, confirmations (on SQLite and PostgreSQL)."""

import gc
import subprocess
import sys
import threading

import orjson
import pytest
import sqlalchemy as sa

from api.cache.sink import SqlSink
from api.db import make_engine
from governance.errors import RpcError
from governance.events import LogDecoder
from governance.indexer import RangePolicy, wait_until_caught_up
from tests.cache_support import cache_rows, clean_index, fresh_sqlite, indexer_for, make_history
from tests.helpers import act, admit_crowd, advance, propose, to_deadline_passed, to_voting, vote


@pytest.fixture
def history(commons, stewards, founders):
    return make_history(commons, stewards, founders)


def test_governance_library_imports_no_fastapi_or_sqlmodel():
    code = (
        "import sys, governance.indexer, governance.audit, governance.decision_log, governance.proposal_state; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('fastapi', 'sqlmodel', 'sqlalchemy', 'starlette')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_decoder_agrees_with_web3_process_log(commons, history, anvil_url):
    logs = commons.governor.events.VoteCast().get_logs(from_block=commons.manifest.deployment_block)
    raw = commons.w3.provider.make_request(
        "eth_getLogs", [{"fromBlock": hex(commons.manifest.deployment_block), "address": commons.manifest.governor}]
    )["result"]
    decoder = LogDecoder(commons.manifest.addresses.by_role())
    mine = [e for e in (decoder.decode(r) for r in raw) if e and e.name == "VoteCast"]
    assert [(e.args["voter"], e.args["proposalId"], e.args["support"], e.args["weight"], e.args["reason"]) for e in mine] == [
        (dict(x["args"])["voter"], x["args"]["proposalId"], x["args"]["support"], x["args"]["weight"], x["args"]["reason"])
        for x in logs
    ]


def test_backfill_records_members_stewards_proposals_and_votes(commons, history, anvil_url, cache_url):
    indexer_for(commons.manifest, anvil_url, cache_url).sync()
    with make_engine(cache_url).connect() as conn:
        members = {r.handle: r for r in conn.execute(sa.text("select * from member"))}
        proposals = {r.title: r for r in conn.execute(sa.text("select * from proposal"))}
        votes = conn.execute(sa.text("select count(*) from vote")).scalar()
        stewards = conn.execute(sa.text("select count(*) from steward where active")).scalar()
    assert members["newcomer"].is_member and not members["founder5"].is_member
    assert members["founder5"].left_how == "resigned"
    assert members["founder3"].delegate == members["founder4"].address
    assert proposals["Pay the newcomer"].votes_against == 1 and proposals["Pay the newcomer"].votes_abstain == 1
    assert proposals["Admit the newcomer"].executed_block is not None
    assert votes == 10 and stewards == 3


def test_proposal_actions_are_recorded_in_words(commons, history, anvil_url, cache_url):
    indexer_for(commons.manifest, anvil_url, cache_url).sync()
    with make_engine(cache_url).connect() as conn:
        words = conn.execute(
            sa.select(sa.text("actions_in_words")).select_from(sa.text("proposal")).where(sa.text("title = 'Pay the newcomer'"))
        ).scalar()
    assert "Pay 1 ETH from the treasury" in str(words)


def test_rereading_indexed_blocks_changes_nothing(commons, history, anvil_url, cache_url):
    indexer = indexer_for(commons.manifest, anvil_url, cache_url)
    indexer.sync()
    engine = make_engine(cache_url)
    before = cache_rows(engine)
    sink: SqlSink = indexer.sink
    batch = indexer._fetch(commons.manifest.deployment_block, sink.cursor().number, None)
    sink.apply(batch)
    assert cache_rows(engine) == before


def test_sync_in_small_ranges_equals_sync_in_one_range(commons, history, anvil_url, tmp_path):
    from tests.cache_support import fresh_sqlite

    url = fresh_sqlite(tmp_path, "small.db")
    indexer = indexer_for(commons.manifest, anvil_url, url)
    indexer.ranges = RangePolicy(blocks=1, maximum=1)
    indexer.sync()
    assert cache_rows(make_engine(url)) == clean_index(commons.manifest, anvil_url, tmp_path)


def test_follow_catches_up_in_prefetched_batches_stops_when_asked_and_resumes(commons, history, anvil_url, tmp_path):
    from tests.cache_support import fresh_sqlite

    url = fresh_sqlite(tmp_path, "follow.db")
    indexer = indexer_for(commons.manifest, anvil_url, url)
    indexer.ranges = RangePolicy(blocks=1, maximum=1)
    stop, applied, apply = threading.Event(), [], indexer.sink.apply

    def apply_then_stop_after_three(happening):
        apply(happening)
        applied.append(happening)
        if len(applied) == 3:
            stop.set()

    indexer.sink.apply = apply_then_stop_after_three
    thresholds = gc.get_threshold()
    indexer.follow(stop, poll_seconds=0.01)
    assert len(applied) == 3 and indexer.sink.cursor().number == commons.manifest.deployment_block + 2
    assert gc.get_threshold() == thresholds  # the backfill's collector setting is undone

    indexer.sink.apply = apply
    stop = threading.Event()
    follower = threading.Thread(target=indexer.follow, args=(stop, 0.01))
    follower.start()
    try:
        wait_until_caught_up(indexer)
    finally:
        stop.set()
        follower.join(10)
    assert cache_rows(make_engine(url)) == clean_index(commons.manifest, anvil_url, tmp_path)


def test_range_halves_when_the_node_says_too_many_results():
    policy = RangePolicy(blocks=1000)
    error = RpcError("eth_getLogs", -32005, "query returned more than 10000 results")
    assert error.too_many_results
    policy.shrink()
    assert policy.blocks == 500


def test_range_grows_when_answers_are_small():
    policy = RangePolicy(blocks=1000, target_logs=10_000)
    policy.after(10)
    assert policy.blocks == 2000


def test_an_over_full_answer_sets_the_range_that_would_have_held_the_target():
    """Halving was not enough: 100 blocks answered with 250,000 logs, and the next range of 50 held 125,000."""
    policy = RangePolicy(blocks=100, target_logs=10_000)
    policy.after(250_000, 100)
    assert policy.blocks == 4


def test_confirmations_keep_the_newest_blocks_out(commons, history, anvil_url, cache_url):
    indexer = indexer_for(commons.manifest, anvil_url, cache_url, confirmations=3)
    indexer.sync()
    assert indexer.sink.cursor().number == commons.w3.eth.block_number - 3


def test_cached_state_equals_contract_state_through_a_proposal_life(commons, stewards, founders, anvil_url, cache_url):
    from fastapi.testclient import TestClient

    from api.app import create_app

    indexer = indexer_for(commons.manifest, anvil_url, cache_url)
    pid = propose(commons, stewards[0], [act.appoint_steward(commons.addresses, founders[3].address)], "Appoint")
    seen = []
    with TestClient(create_app(cache_url, upgrade_schema=False)) as client:

        def check():
            indexer.sync()
            api_state = client.get(f"/api/proposals/{pid}").json()["state"]
            chain_state = commons.proposal(pid).state
            seen.append(chain_state)
            assert api_state == chain_state

        check()  # pending
        to_voting(commons, pid)
        check()  # active
        for member in founders[:3]:
            vote(commons, member, pid, "for")
        check()
        to_deadline_passed(commons, pid)
        check()  # succeeded
        commons.submit(commons.plan_lifecycle("queue", pid), founders[0])
        check()  # queued
        advance(commons.w3, 400)
        commons.submit(commons.plan_lifecycle("execute", pid), founders[0])
        check()  # executed
    assert seen[0] == "pending" and {"active", "succeeded", "queued", "executed"} <= set(seen)


def test_unvoted_proposal_reads_defeated_after_its_deadline(commons, stewards, anvil_url, cache_url):
    from fastapi.testclient import TestClient

    from api.app import create_app

    pid = propose(commons, stewards[0], [act.pay(stewards[1].address, 1)], "Ignored")
    to_deadline_passed(commons, pid)
    indexer_for(commons.manifest, anvil_url, cache_url).sync()
    with TestClient(create_app(cache_url, upgrade_schema=False)) as client:
        assert client.get(f"/api/proposals/{pid}").json()["state"] == commons.proposal(pid).state == "defeated"


def test_entry_hash_is_the_hash_of_its_canonical_json(commons, history, anvil_url):
    from governance.audit import chain_events
    from governance.decision_log import chain, entry_hash

    entries = list(chain(chain_events(anvil_url, commons.manifest, commons.w3.eth.block_number)))
    assert entries and all(entry_hash(e.body) == e.hash for e in entries)


def test_fast_decoding_agrees_with_eth_abi_for_every_event(commons, history, anvil_url):
    from eth_abi import decode

    from governance.events import checksummed

    raw = commons.w3.provider.make_request("eth_getLogs", [{"fromBlock": hex(commons.manifest.deployment_block)}])["result"]
    decoder = LogDecoder(commons.manifest.addresses.by_role())
    checked = 0
    for log in raw:
        event = decoder.decode(log)
        if event is None:
            continue
        spec = decoder._decoders[(event.contract, log["topics"][0])]
        values = decode(spec.data_types, bytes.fromhex(log["data"][2:])) if spec.data_types else ()
        for name, abi_type, value in zip(spec.data_names, spec.data_types, values):
            expected = checksummed(value) if abi_type == "address" else "0x" + value.hex() if isinstance(value, bytes) else value
            if not abi_type.endswith("]"):
                assert event.args[name] == expected, (event.name, name)
                checked += 1
    assert checked > 50


def test_fast_data_json_equals_canonical_json():
    from governance.decision_log import canonical_json, data_json, json_safe

    for args in (
        {"voter": "0xAb", "proposalId": 2**256 - 1, "support": 0, "reason": 'quote " back\\ slash\n\t\x01 é 🌱'},
        {"b": True, "a": False, "c": ""},
        {},
        {"targets": ["0x1"], "values": [1], "x": None},
    ):
        assert data_json(args) == canonical_json(json_safe(args))


def test_sink_rechains_entries_built_from_another_log_head(commons, history, anvil_url, cache_url, tmp_path):
    from dataclasses import replace

    from governance.decision_log import chain

    indexer = indexer_for(commons.manifest, anvil_url, cache_url)
    batch = indexer._fetch(commons.manifest.deployment_block, commons.w3.eth.block_number, None)
    stale = list(chain(batch.events, 7, "0x" + "ab" * 32))
    indexer.sink.apply(replace(batch, entries=stale))
    assert cache_rows(make_engine(cache_url)) == clean_index(commons.manifest, anvil_url, tmp_path)


def test_a_dense_history_is_read_one_block_at_a_time_until_its_density_is_known(commons, anvil_url, tmp_path):
    """Observed on the million-vote history (5,000 votes a block): the first range, 100 blocks, was answered with
    hundreds of thousands of logs at once and the backfill peaked at 1.7 GB. Ranges start at one block and grow only
    while answers are small."""
    w3 = commons.w3
    first_dense = w3.eth.block_number + 1
    admit_crowd(w3, commons, 300)  # 600 logs in a few blocks
    indexer = indexer_for(commons.manifest, anvil_url, fresh_sqlite(tmp_path, "dense.db"))
    indexer.start_block, indexer.ranges.target_logs = first_dense, 100
    answers = []
    read_logs = indexer.rpc.logs

    def logs_measured(first, last, *rest):
        found = read_logs(first, last, *rest)
        answers.append((last - first + 1, len(found)))
        return found

    indexer.rpc.logs = logs_measured
    indexer.sync()
    dense = [span for span, count in answers if count > 2 * indexer.ranges.target_logs]
    assert dense and dense == [1] * len(dense), answers  # blocks of ~200+ logs came one by one, never several at once


def test_a_node_without_an_answer_cap_is_read_in_ranges_whose_answers_stay_under_the_client_s(commons, anvil_url, tmp_path):
    """A range grown over sparse blocks can reach dense ones: on the million-vote history one answer held 300,000
    logs and the backfill 1.4 GB. An answer over several blocks that runs past the client's cap is refused as a capped
    provider refuses it, and the range split; the cache is the same."""
    w3 = commons.w3
    first_dense = w3.eth.block_number + 1
    admit_crowd(w3, commons, 300)  # 600 logs in a few blocks
    url = fresh_sqlite(tmp_path, "capped.db")
    indexer = indexer_for(commons.manifest, anvil_url, url)
    indexer.start_block, indexer.ranges = first_dense, RangePolicy(blocks=100, target_logs=100_000)
    indexer.rpc.max_logs_bytes = 150_000
    sizes = []
    read_logs = indexer.rpc.logs

    def logs_measured(first, last, *rest):
        found = read_logs(first, last, *rest)
        sizes.append((last - first + 1, len(orjson.dumps(found))))
        return found

    indexer.rpc.logs = logs_measured
    indexer.sync()
    assert sum(size for _, size in sizes) > 2 * 150_000, sizes  # the dense blocks did not fit in one answer
    assert all(size <= 150_000 for span, size in sizes if span > 1), sizes
    clean = indexer_for(commons.manifest, anvil_url, fresh_sqlite(tmp_path, "clean.db"))
    clean.start_block = first_dense
    clean.sync()
    assert cache_rows(make_engine(url)) == cache_rows(clean.sink.engine)
