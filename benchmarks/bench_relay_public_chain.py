"""The relay on a chain like a public one: a burst of ballots through two API processes sharing one PostgreSQL
database, 2-second blocks, and an attacker copying one ballot out of every relay batch in the mempool and
sending it alone with a higher tip.

Run: .venv/bin/python benchmarks/bench_relay_public_chain.py [--burst 500]
Starts its own anvil (automine for the deployment, then a block every 2 s), a PostgreSQL database of its own
on 127.0.0.1:5432 (dropped afterwards), two relay processes (tests/relay_server.py) on it, and prints how
many honest ballots were lost or doubled, votes/s, gas per vote and the gas the relay wasted.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import sqlalchemy as sa
from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector
from web3.logs import DISCARD

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.db import make_engine, migrate  # noqa: E402
from benchmarks.bench_relay import REASON, open_proposal, rpc, signed, start_commons  # noqa: E402
from governance.chain import KeySigner  # noqa: E402
from governance.client import Commons  # noqa: E402
from governance.compiler import load_artifacts  # noqa: E402
from governance.config import PROJECT_ROOT  # noqa: E402
from governance.relayer import CAST_VOTES  # noqa: E402
from tests.helpers import free_port, test_key_signer  # noqa: E402

BLOCK_SECONDS = 2
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CAST_VOTES_SELECTOR = function_signature_to_4byte_selector(CAST_VOTES[0]).hex()
RELAY_OPTIONS = {"batch_window": 0.25, "max_batch": 50, "client_rate_per_minute": 10**6}


class Attacker(threading.Thread):
    """Watches the mempool; copies one ballot out of each new relay transaction and sends it with a higher tip."""

    def __init__(self, commons: Commons, key: KeySigner, relayer: str):
        super().__init__(daemon=True)
        self.commons, self.key, self.relayer = commons, key, relayer.lower()
        self.seen: set[str] = set()
        self.copies: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        w3 = self.commons.w3
        nonce = w3.eth.get_transaction_count(self.key.address)
        while not self.stopping.wait(0.05):
            pool = rpc(w3, "txpool_content")["result"]["pending"]
            for sender, txs in pool.items():
                if sender.lower() != self.relayer:
                    continue
                for tx in txs.values():
                    if tx["hash"] in self.seen or not tx["input"].startswith("0x" + CAST_VOTES_SELECTOR):
                        continue
                    self.seen.add(tx["hash"])
                    ballots = abi_decode(CAST_VOTES[1], bytes.fromhex(tx["input"][10:]))[0]
                    tip = int(tx["maxPriorityFeePerGas"], 16) * 2
                    copy = {
                        "type": 2,
                        "chainId": w3.eth.chain_id,
                        "nonce": nonce,
                        "to": self.commons.manifest.governor,
                        "data": ballots[len(ballots) // 2],
                        "gas": 300_000,
                        "maxPriorityFeePerGas": tip,
                        "maxFeePerGas": int(tx["maxFeePerGas"], 16) + tip,
                        "value": 0,
                    }
                    self.copies.append(self.key.send(w3, copy).to_0x_hex())
                    nonce += 1


def relay_processes(commons: Commons, node_url: str, database_url: str, key: KeySigner, workdir: Path) -> list:
    manifest_file = workdir / "manifest.json"
    manifest_file.write_text(commons.manifest.to_json())
    environment = {**os.environ, "COMMONS_RELAYER_PRIVATE_KEY": "0x" + bytes(key.account.key).hex()}
    processes = []
    for _ in range(2):
        port = free_port()
        command = [sys.executable, "-m", "tests.relay_server", node_url, str(manifest_file), database_url, str(port)]
        process = subprocess.Popen([*command, json.dumps(RELAY_OPTIONS)], cwd=PROJECT_ROOT, env=environment)
        processes.append((process, f"http://127.0.0.1:{port}"))
    for process, url in processes:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/api/relay/status", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("a relay process did not start")
            time.sleep(0.1)
    return processes


def body(ballot, signature: bytes) -> dict:
    return {
        "proposal_id": str(ballot.proposal_id),
        "support": "for",
        "voter": ballot.voter,
        "nonce": str(ballot.nonce),
        "reason": ballot.reason,
        "signature": "0x" + signature.hex(),
    }


def burst(urls: list[str], bodies: list[dict], clients: int = 64) -> tuple[list, float]:
    """POST every ballot at once, alternating between the replicas; returns the answers and the seconds taken."""
    with requests.Session() as session:
        adapter = requests.adapters.HTTPAdapter(pool_connections=clients, pool_maxsize=clients)
        session.mount("http://", adapter)
        started = time.monotonic()
        with ThreadPoolExecutor(clients) as pool:
            answers = list(
                pool.map(
                    lambda i: session.post(f"{urls[i % len(urls)]}/api/relay/ballots", json=bodies[i], timeout=120),
                    range(len(bodies)),
                )
            )
        return answers, time.monotonic() - started


def wait_settled(url: str, ids: list[str], timeout: float = 300) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tickets = [requests.get(f"{url}/api/relay/ballots/{i}", timeout=10).json() for i in ids]
        if all(t["status"] not in ("queued", "sent") for t in tickets):
            return tickets
        time.sleep(0.5)
    raise SystemExit("some ballots never settled")


def relay_gas(commons: Commons, relayer: str, from_block: int) -> dict:
    """Gas the relay paid in mined transactions, and what skipped ballots and failed transactions wasted."""
    w3 = commons.w3
    batcher = w3.eth.contract(address=commons.manifest.vote_batcher, abi=load_artifacts()["VoteBatcher"].abi)
    total = wasted = transactions = skipped = 0
    for number in range(from_block, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"].lower() != relayer.lower():
                continue
            receipt = w3.eth.get_transaction_receipt(tx["hash"])
            transactions += 1
            total += receipt["gasUsed"]
            if receipt["status"] != 1:
                wasted += receipt["gasUsed"]
                continue
            for event in batcher.events.BallotSkipped().process_receipt(receipt, errors=DISCARD):
                skipped += 1
                wasted += event["args"]["gasUsed"]
    return {"total": total, "wasted": wasted, "transactions": transactions, "skipped": skipped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--port", type=int, default=18747)
    args = parser.parse_args()
    print(f"Deploying a commons of {args.burst + 1} members on anvil…", flush=True)
    node, commons, keys, relay_key = start_commons(args.burst + 1, args.port, block_time=None)
    database = f"relay_bench_{uuid.uuid4().hex[:10]}"
    server = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    database_url = PG_SERVER.rsplit("/", 1)[0] + f"/{database}"
    processes = []
    workdir = Path(PROJECT_ROOT / ".state" / "bench" / f"relay-{database}")
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        migrate(make_engine(database_url))
        pid = open_proposal(commons, keys[0], f"Burst of {args.burst} on a public chain")
        bodies = [body(*signed(commons, key, pid, REASON)) for key in keys[1 : args.burst + 1]]
        attacker_key = test_key_signer("bench-attacker")
        rpc(commons.w3, "anvil_setBalance", attacker_key.address, hex(10**21))
        # From here on the chain behaves like a public one: a mempool anyone reads, a block every 2 s.
        rpc(commons.w3, "evm_setAutomine", False)
        rpc(commons.w3, "evm_setIntervalMining", BLOCK_SECONDS)
        start_block = commons.w3.eth.block_number + 1
        processes = relay_processes(commons, node.url, database_url, relay_key, workdir)
        urls = [url for _, url in processes]
        attacker = Attacker(commons, attacker_key, relay_key.address)
        attacker.start()
        started = time.monotonic()
        answers, accepted_s = burst(urls, bodies)
        accepted = [a.json()["id"] for a in answers if a.status_code == 202]
        refused = [a.json() for a in answers if a.status_code != 202]
        tickets = wait_settled(urls[0], accepted)
        settled_s = time.monotonic() - started
        attacker.stopping.set()
        attacker.join()
        time.sleep(BLOCK_SECONDS * 2)  # let the last blocks in, then read them
        votes = commons.governor.events.VoteCast().get_logs(from_block=start_block, argument_filters={"proposalId": pid})
        voters = [e["args"]["voter"] for e in votes]
        gas = relay_gas(commons, relay_key.address, start_block)
        attacker_gas = sum(commons.w3.eth.get_transaction_receipt(h)["gasUsed"] for h in attacker.copies)
    finally:
        for process, _ in processes:
            process.terminate()
            process.wait()
        node.stop()
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    by_relay = sum(1 for t in tickets if t["counted_by_relay"])
    lost = len({b["voter"] for b in bodies} - set(voters))
    print(f"\nBurst: {args.burst} ballots POSTed by 64 clients to two relay processes on one PostgreSQL database;")
    print(f"{BLOCK_SECONDS} s blocks; an attacker copied one ballot from each of {len(attacker.copies)} relay batches.")
    print("| measure | figure |\n| --- | ---: |")
    print(f"| accepted (202) / refused | {len(accepted)} / {len(refused)} |")
    print(f"| honest ballots lost | {lost} |")
    print(f"| doubled | {len(voters) - len(set(voters))} |")
    print(f"| counted by the relay / by the attacker's copies | {by_relay} / {len(tickets) - by_relay} |")
    print(f"| statuses | {sorted({t['status'] for t in tickets})} |")
    print(f"| all accepted / all counted | {accepted_s:.1f} s / {settled_s:.1f} s ({len(voters) / settled_s:.0f} votes/s) |")
    print(f"| relay transactions mined | {gas['transactions']} |")
    print(f"| relay gas per vote it counted | {gas['total'] // max(by_relay, 1):,} |")
    print(f"| relay gas wasted (skipped copied ballots, failed transactions) | {gas['wasted']:,} ({gas['skipped']} skipped) |")
    print(f"| attacker's gas for its copies | {attacker_gas:,} |")
    if refused:
        print(f"First refusal: {refused[0]}")


if __name__ == "__main__":
    main()
