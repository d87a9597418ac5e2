"""Generate (once) the benchmark history on anvil: 1,000 members, 201 proposals, about 101,000 votes.

The chain is kept in .state/bench/anvil-state.json (outside git) with its manifest beside it, so later
runs just start anvil on that state. Votes are members' EIP-712 ballots (a quarter with reasons),
signed here with coincurve and submitted 250 at a time through the governor's `multicall`: one block
carries 250 votes, as a busy relay would send them.

    .venv/bin/python benchmarks/generate_history.py        # prints where the node listens
"""

import random
import sys
import time
from pathlib import Path

from eth_abi import encode
from eth_keys import keys
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from governance import actions as act
from governance.chain import NodeSigner, connect
from governance.config import PROJECT_ROOT
from governance.deploy import deploy_commons
from governance.manifest import CommonsSettings, Manifest, save
from governance.node import LocalNode

BENCH_DIR = PROJECT_ROOT / ".state" / "bench"
STATE_FILE = BENCH_DIR / "anvil-state.json"
MANIFEST = BENCH_DIR / "manifest.json"
PORT = 8599
MEMBERS = 1_000
PROPOSALS = 201  # the first gets every member's vote (1,000), the others 500 each
VOTES_PER_PROPOSAL = 500
BATCH = 250
# Prague: no per-transaction gas cap (Osaka's 2**24 would split the 1,000-founder deployment).
NODE_ARGS = ("--gas-limit", "2000000000", "--hardfork", "prague", "--accounts", "2", "--code-size-limit", "100000")
SETTINGS = CommonsSettings(voting_delay=1, voting_period=30 * 24 * 3600, quorum_percent=10, late_quorum_extension=0,
                           timelock_delay=60)
BALLOT_TYPEHASH = keccak(text="Ballot(uint256 proposalId,uint8 support,address voter,uint256 nonce)")
EXTENDED_TYPEHASH = keccak(text="ExtendedBallot(uint256 proposalId,uint8 support,address voter,uint256 nonce,string reason,bytes params)")
CAST = function_signature_to_4byte_selector("castVoteBySig(uint256,uint8,address,bytes)")
CAST_EXTENDED = function_signature_to_4byte_selector("castVoteWithReasonAndParamsBySig(uint256,uint8,address,string,bytes,bytes)")
MULTICALL = function_signature_to_4byte_selector("multicall(bytes[])")


def member_keys() -> list[keys.PrivateKey]:
    """Throwaway benchmark keys derived from labels: never for real funds."""
    return [keys.PrivateKey(keccak(text=f"commons-ledger-bench:{i}")) for i in range(MEMBERS)]


def domain_separator(manifest: Manifest) -> bytes:
    typehash = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    return keccak(typehash + keccak(text=manifest.name) + keccak(text="1")
                  + encode(["uint256", "address"], [manifest.chain_id, manifest.governor]))


def signed_vote(domain: bytes, key: keys.PrivateKey, proposal_id: int, support: int, nonce: int, reason: str) -> bytes:
    """The calldata of one signed vote (castVoteBySig, or the extended form when there is a reason)."""
    voter = key.public_key.to_checksum_address()
    if reason:
        struct = keccak(EXTENDED_TYPEHASH + encode(["uint256", "uint8", "address", "uint256"], [proposal_id, support, voter, nonce])
                        + keccak(text=reason) + keccak(b""))
    else:
        struct = keccak(BALLOT_TYPEHASH + encode(["uint256", "uint8", "address", "uint256"], [proposal_id, support, voter, nonce]))
    signature = key.sign_msg_hash(keccak(b"\x19\x01" + domain + struct))
    sig = signature.r.to_bytes(32, "big") + signature.s.to_bytes(32, "big") + bytes([signature.v + 27])
    if reason:
        return CAST_EXTENDED + encode(["uint256", "uint8", "address", "string", "bytes", "bytes"],
                                      [proposal_id, support, voter, reason, b"", sig])
    return CAST + encode(["uint256", "uint8", "address", "bytes"], [proposal_id, support, voter, sig])


def send(w3, sender: str, to: str, data: bytes, gas: int = 1_500_000_000) -> str:
    return w3.eth.send_transaction({"from": sender, "to": to, "data": data, "gas": gas}).to_0x_hex()


def generate(w3) -> Manifest:
    """Deploy the benchmark commons and fill it with proposals and votes; returns its manifest."""
    started = time.monotonic()
    steward = NodeSigner(w3.eth.accounts[0])
    members = member_keys()
    founders = [(k.public_key.to_checksum_address(), f"member{i}") for i, k in enumerate(members)]
    manifest = deploy_commons(w3, steward, "Bench Commons", founders, [steward.address], SETTINGS)
    print(f"deployed with {MEMBERS} members in {time.monotonic() - started:.0f} s", flush=True)
    w3.provider.make_request("anvil_setBalance", [manifest.timelock, hex(10**24)])

    descriptions, proposal_ids, calls = [], [], []
    for p in range(PROPOSALS):
        action = act.pay(founders[p % MEMBERS][0], 10**15 * (p + 1))
        description = f"# Benchmark proposal {p + 1}\n\nPay member {p % MEMBERS} for shared tools, batch {p}."
        calls.append(function_signature_to_4byte_selector("propose(address[],uint256[],bytes[],string)")
                     + encode(["address[]", "uint256[]", "bytes[]", "string"], [[action.target], [action.value], [action.calldata], description]))
        proposal_ids.append(int.from_bytes(keccak(encode(["address[]", "uint256[]", "bytes[]", "bytes32"],
                                                         [[action.target], [action.value], [action.calldata], keccak(text=description)])), "big"))
        descriptions.append(description)
    for start in range(0, PROPOSALS, 50):
        tx = send(w3, steward.address, manifest.governor, MULTICALL + encode(["bytes[]"], [calls[start:start + 50]]))
        assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    w3.provider.make_request("evm_increaseTime", [5])
    w3.provider.make_request("evm_mine", [])

    domain = domain_separator(manifest)
    rng = random.Random(7)
    nonces = [0] * MEMBERS
    pending: list[bytes] = []
    sent: list[str] = []
    total = 0
    for p, proposal_id in enumerate(proposal_ids):
        voters = range(MEMBERS) if p == 0 else [(p * 37 + j) % MEMBERS for j in range(VOTES_PER_PROPOSAL)]
        for v in voters:
            reason = f"member {v} on proposal {p + 1}: {rng.choice(['good for the garden', 'too costly', 'not now', 'yes'])}" \
                if rng.random() < 0.25 else ""
            pending.append(signed_vote(domain, members[v], proposal_id, rng.choice((0, 1, 1, 2)), nonces[v], reason))
            nonces[v] += 1
            total += 1
            if len(pending) == BATCH:
                sent.append(send(w3, steward.address, manifest.governor, MULTICALL + encode(["bytes[]"], [pending])))
                pending = []
    if pending:
        sent.append(send(w3, steward.address, manifest.governor, MULTICALL + encode(["bytes[]"], [pending])))
    failed = [tx for tx in sent if w3.eth.wait_for_transaction_receipt(tx, timeout=600)["status"] != 1]
    if failed:
        raise SystemExit(f"{len(failed)} vote batches failed, e.g. {failed[0]}")
    print(f"{total:,} votes on {PROPOSALS} proposals in {len(sent)} blocks; {time.monotonic() - started:.0f} s in all", flush=True)
    return manifest


def bench_node() -> LocalNode:
    # Dumping this chain's state (~700 MB of JSON) takes a good part of a core; the default every 5 s would run
    # alongside every measurement. It is dumped once an hour, and when the node stops.
    return LocalNode(PORT, STATE_FILE, extra_args=NODE_ARGS, log_file=BENCH_DIR / "anvil.log", state_interval=3600)


def ensure_history() -> tuple[LocalNode, Manifest]:
    """A running node with the benchmark history (generated the first time); the caller stops the node."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    node = bench_node()
    url = node.start(timeout=120)
    w3 = connect(url, timeout=600)
    if MANIFEST.is_file() and w3.eth.block_number > 0:
        return node, Manifest.from_json(MANIFEST.read_text())
    manifest = generate(w3)
    save(manifest, MANIFEST)
    return node, manifest


if __name__ == "__main__":
    sys.setrecursionlimit(10_000)
    node, manifest = ensure_history()
    print(f"history ready at {node.url} (governor {to_checksum_address(manifest.governor)}); state in {STATE_FILE}")
    node.stop(timeout=300)
    print("node stopped; state saved", Path(STATE_FILE).stat().st_size // 1_000_000, "MB")
