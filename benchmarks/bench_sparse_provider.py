"""Backfill of a sparse history through an emulated hosted provider: prints the floor and the measured time.

A commons with about 10,000 governance events is made on a fresh anvil (members admitted at deployment, then proposals
voted on by every member through the governor's multicall), and shown by the provider emulator
(benchmarks/provider_emulator.py) as a chain of 10 million blocks in which those few blocks are spread evenly and the rest
are empty. The emulator answers after 100 ms, refuses eth_getLogs over 2,000 blocks (in Infura's words) and allows 25
requests per second (HTTP 429 past that). The indexer is not told any of these limits: it learns them.

The floor is the number of eth_getLogs requests the block cap forces divided by the allowed rate; goal: within 1.2x.

    .venv/bin/python benchmarks/bench_sparse_provider.py [--blocks 10000000] [--events 10000]
"""

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the project's packages

from eth_abi import encode  # noqa: E402
from eth_keys import keys  # noqa: E402
from eth_utils import function_signature_to_4byte_selector, keccak  # noqa: E402

from api.db import make_engine, migrate  # noqa: E402
from api.indexing import build_indexer  # noqa: E402
from benchmarks.generate_history import MULTICALL, NODE_ARGS, SETTINGS, domain_separator, send, signed_vote  # noqa: E402
from benchmarks.provider_emulator import Faults, ProviderEmulator  # noqa: E402
from governance import actions as act  # noqa: E402
from governance.chain import NodeSigner, connect  # noqa: E402
from governance.deploy import deploy_commons  # noqa: E402
from governance.events import LogDecoder  # noqa: E402
from governance.manifest import Manifest  # noqa: E402
from governance.node import LocalNode  # noqa: E402
from governance.rpc import Rpc  # noqa: E402
from tests.helpers import free_port  # noqa: E402

MEMBERS = 400
BATCH = 200
LATENCY, BLOCK_CAP, RATE = 0.1, 2_000, 25.0
PROPOSE = function_signature_to_4byte_selector("propose(address[],uint256[],bytes[],string)")


def governance_events(url: str, manifest: Manifest) -> int:
    decoder = LogDecoder(manifest.addresses.by_role())
    return len(Rpc(url).logs(manifest.deployment_block, Rpc(url).block_number(), decoder.addresses, decoder.topics))


def make_commons(url: str, events: int) -> Manifest:
    """A commons of MEMBERS members whose proposals every member votes on, until `events` governance events."""
    w3 = connect(url, timeout=600)
    steward = NodeSigner(w3.eth.accounts[0])
    members = [keys.PrivateKey(keccak(text=f"commons-ledger-sparse:{i}")) for i in range(MEMBERS)]
    founders = [(k.public_key.to_checksum_address(), f"member{i}") for i, k in enumerate(members)]
    manifest = deploy_commons(w3, steward, "Sparse Commons", founders, [steward.address], SETTINGS)
    domain = domain_separator(manifest)
    p = 0
    while governance_events(url, manifest) < events:
        action = act.pay(founders[p][0], 10**15)
        description = f"# Sparse proposal {p + 1}\n\nPay member {p} for seeds."
        args = [[action.target], [action.value], [action.calldata]]
        tx = send(
            w3,
            steward.address,
            manifest.governor,
            PROPOSE + encode(["address[]", "uint256[]", "bytes[]", "string"], [*args, description]),
        )
        assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
        pid = int.from_bytes(
            keccak(encode(["address[]", "uint256[]", "bytes[]", "bytes32"], [*args, keccak(text=description)])), "big"
        )
        w3.provider.make_request("evm_increaseTime", [5])
        w3.provider.make_request("evm_mine", [])
        ballots = [signed_vote(domain, key, pid, 1, p, "") for key in members]
        remaining = events - governance_events(url, manifest)
        ballots = ballots[: max(1, remaining)]
        for start in range(0, len(ballots), BATCH):
            tx = send(w3, steward.address, manifest.governor, MULTICALL + encode(["bytes[]"], [ballots[start : start + BATCH]]))
            assert w3.eth.wait_for_transaction_receipt(tx, timeout=600)["status"] == 1
        p += 1
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=10_000_000)
    parser.add_argument("--events", type=int, default=10_000)
    options = parser.parse_args()
    node = LocalNode(free_port(), None, extra_args=NODE_ARGS)
    url = node.start()
    try:
        started = time.monotonic()
        manifest = make_commons(url, options.events)
        real_head = Rpc(url).block_number()
        events = governance_events(url, manifest)
        real_blocks = real_head - manifest.deployment_block + 1
        sparse = math.ceil(options.blocks / (real_blocks - 1))  # deployment to head: `blocks` blocks shown
        print(f"history: {events:,} events in {real_blocks} blocks of anvil, made in {time.monotonic() - started:.0f} s")

        faults = Faults(provider="infura", latency=LATENCY, block_range=BLOCK_CAP, rate=RATE, sparse=sparse)
        with ProviderEmulator(url, faults) as emulator:
            database = Path(f"/tmp/commons-sparse-{os.getpid()}.db")
            engine = make_engine(f"sqlite:///{database}")
            migrate(engine)
            indexer = build_indexer(manifest, emulator.url, engine, 0, upgrade=False)
            indexer.start_block = manifest.deployment_block * sparse
            first, last = indexer.start_block, real_head * sparse
            span = last - first + 1
            forced = math.ceil(span / BLOCK_CAP)
            floor = forced / RATE
            print(
                f"emulated chain: blocks {first:,}..{last:,} ({span:,} blocks, one in {sparse:,} with events); "
                f"{LATENCY * 1000:.0f} ms latency, {BLOCK_CAP:,}-block cap, {RATE:.0f} requests/s"
            )
            print(f"floor: {forced:,} eth_getLogs requests forced by the cap / {RATE:.0f} per s = {floor:.1f} s")
            load = os.getloadavg()[0]
            started = time.monotonic()
            applied = indexer.sync()
            took = time.monotonic() - started
            tally = emulator.tally
        database.unlink(missing_ok=True)
        print(f"measured: {applied:,} events backfilled in {took:.1f} s = {took / floor:.2f}x the floor (goal 1.2x)")
        print(
            f"requests: {tally.requests:,} in all ({tally.requests / took:.1f}/s): {dict(tally.by_method)}; "
            f"{tally.throttled} answered 429, {tally.refused_ranges} ranges refused; the pace learnt "
            f"{indexer.rpc.pacer.rate or 0:.1f}/s, the range {indexer.ranges.ceiling or indexer.ranges.blocks:,} blocks"
        )
        print(f"machine: {os.cpu_count()} cores, load average {load:.1f} before the backfill, {os.getloadavg()[0]:.1f} after")
    finally:
        node.stop()


if __name__ == "__main__":
    main()
