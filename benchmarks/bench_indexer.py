"""Indexer benchmark on the generated history (benchmarks/generate_history.py): prints figures, asserts nothing.

- decoding: eth-abi decoder (governance.events) vs web3.py `process_log`, same logs, same run;
- backfill: events/s end to end (eth_getLogs + decode + SQL) into SQLite and PostgreSQL;
- steady state: lag behind the head, in blocks, while blocks of votes keep arriving.

    .venv/bin/python benchmarks/bench_indexer.py [--skip-postgres]
"""

import argparse
import statistics
import threading
import time
import uuid

import sqlalchemy as sa
from eth_abi import encode
from eth_utils import event_abi_to_log_topic

from api.db import make_engine, migrate
from api.indexing import build_indexer
from benchmarks.generate_history import BENCH_DIR, MULTICALL, domain_separator, ensure_history, member_keys, signed_vote
from governance.chain import connect
from governance.compiler import load_artifacts
from governance.events import LogDecoder
from governance.indexer import RangePolicy
from governance.rpc import Rpc

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def fetch_raw_logs(rpc: Rpc, decoder: LogDecoder, first: int, last: int) -> list[dict]:
    logs, policy = [], RangePolicy()
    while first <= last:
        end = min(last, first + policy.blocks - 1)
        batch = rpc.logs(first, end, decoder.addresses, decoder.topics)
        policy.after(len(batch))
        logs.extend(batch)
        first = end + 1
    return logs


def bench_decoding(url: str, manifest, head: int) -> None:
    rpc = Rpc(url, timeout=600)
    decoder = LogDecoder(manifest.addresses.by_role())
    started = time.perf_counter()
    raw = fetch_raw_logs(rpc, decoder, manifest.deployment_block, head)
    fetched = time.perf_counter() - started
    started = time.perf_counter()
    events = [decoder.decode(log) for log in raw]
    ours = time.perf_counter() - started
    print(f"eth_getLogs: {len(raw):,} logs in {fetched:.2f} s ({len(raw) / fetched:,.0f} logs/s)")
    print(f"decode, eth-abi direct: {len(events):,} events in {ours:.2f} s = {len(events) / ours:,.0f} events/s")

    w3 = connect(url, timeout=600)
    artifacts = load_artifacts()
    contracts = {
        manifest.governor.lower(): w3.eth.contract(address=manifest.governor, abi=artifacts["CommonsGovernor"].abi),
        manifest.membership.lower(): w3.eth.contract(address=manifest.membership, abi=artifacts["Membership"].abi),
        manifest.timelock.lower(): w3.eth.contract(address=manifest.timelock, abi=artifacts["TimelockController"].abi),
    }
    formatted = w3.eth.get_logs(
        {"fromBlock": manifest.deployment_block, "toBlock": head, "address": decoder.addresses, "topics": [decoder.topics]}
    )
    handlers = {}
    for address, contract in contracts.items():
        for abi in contract.abi:
            if abi["type"] == "event":
                handlers[(address, event_abi_to_log_topic(abi))] = getattr(contract.events, abi["name"])()
    started = time.perf_counter()
    for log in formatted:
        handlers[(log["address"].lower(), bytes(log["topics"][0]))].process_log(log)
    base = time.perf_counter() - started
    print(f"decode, web3 process_log: {len(formatted):,} events in {base:.2f} s = {len(formatted) / base:,.0f} events/s")
    print(f"decoding speed-up over process_log: {base / ours:.1f}x")


def timed_backfill(url: str, manifest, database_url: str) -> tuple:
    """Backfill the history into `database_url` (migrated first); returns the indexer, the events and the seconds."""
    engine = make_engine(database_url)
    migrate(engine)
    indexer = build_indexer(manifest, url, engine, 0, upgrade=False)
    indexer.rpc.timeout = 600
    started = time.perf_counter()
    events = indexer.sync()
    return indexer, events, time.perf_counter() - started


def bench_backfill(url: str, manifest, database_url: str, label: str):
    indexer, events, elapsed = timed_backfill(url, manifest, database_url)
    print(f"backfill into {label}: {events:,} events in {elapsed:.2f} s = {events / elapsed:,.0f} events/s (end to end)")
    return indexer


def bench_lag(url: str, manifest, indexer, blocks: int = 25, interval: float = 0.25) -> None:
    """Blocks of 20 new votes every `interval` s; the follower's lag is sampled just before each new block."""
    w3 = connect(url, timeout=600)
    governor = w3.eth.contract(address=manifest.governor, abi=load_artifacts()["CommonsGovernor"].abi)
    keys = member_keys()
    # A proposal with room for blocks × 20 new voters (earlier runs of this benchmark used some up).
    for index in range(1, governor.functions.proposalCount().call()):
        proposal_id = governor.functions.proposalDetailsAt(index).call()[0]
        voters = [
            i
            for i in range(len(keys))
            if not governor.functions.hasVoted(proposal_id, keys[i].public_key.to_checksum_address()).call()
        ]
        if len(voters) >= blocks * 20:
            break
    domain = domain_separator(manifest)
    sender = w3.eth.accounts[0]
    stop = threading.Event()
    follower = threading.Thread(target=indexer.follow, args=(stop, 0.02), daemon=True)
    follower.start()
    lags = []
    try:
        for b in range(blocks):
            chunk = voters[b * 20 : (b + 1) * 20]
            calls = [
                signed_vote(
                    domain,
                    keys[v],
                    proposal_id,
                    1,
                    governor.functions.nonces(keys[v].public_key.to_checksum_address()).call(),
                    "",
                )
                for v in chunk
            ]
            lags.append(w3.eth.block_number - indexer.sink.cursor().number)
            w3.eth.send_transaction(
                {"from": sender, "to": manifest.governor, "data": MULTICALL + encode(["bytes[]"], [calls]), "gas": 50_000_000}
            )
            time.sleep(interval)
    finally:
        stop.set()
        follower.join(10)
    print(
        f"steady-state lag over {blocks} blocks of votes every {interval} s: median {statistics.median(lags):.0f}, "
        f"max {max(lags)} block(s) behind the head"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-postgres", action="store_true", help="backfill into SQLite only")
    options = parser.parse_args()
    node, manifest = ensure_history()
    try:
        url = node.url
        head = Rpc(url).block_number()
        print(f"history: blocks {manifest.deployment_block}..{head}")
        bench_decoding(url, manifest, head)
        sqlite_path = BENCH_DIR / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            sqlite_path.with_name(sqlite_path.name + suffix).unlink(missing_ok=True)
        indexer = bench_backfill(url, manifest, f"sqlite:///{sqlite_path}", "SQLite")
        if not options.skip_postgres:
            name = f"commons_bench_{uuid.uuid4().hex[:8]}"
            server = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
            with server.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            try:
                pg = bench_backfill(url, manifest, PG_SERVER.rsplit("/", 1)[0] + f"/{name}", "PostgreSQL")
                pg.sink.engine.dispose()
            finally:
                with server.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        bench_lag(url, manifest, indexer)
    finally:
        node.stop(timeout=300)


if __name__ == "__main__":
    main()
