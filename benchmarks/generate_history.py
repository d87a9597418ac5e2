"""Generate (once) the benchmark history on anvil: 1,000 members, 201 proposals, about 101,000 votes.

The chain is kept in .state/bench/anvil-state.json (outside git) with its manifest beside it, so later
runs just start anvil on that state. Votes are members' EIP-712 ballots (a quarter with reasons),
signed here with coincurve and submitted 250 at a time through the governor's `multicall`, as a busy relay
would send them: by default one such transaction a block.

    .venv/bin/python benchmarks/generate_history.py        # prints where the node listens

Other shapes go to their own directory, on a free port, e.g. a million votes (10,000 members; 10 proposals with
every member's vote and 1,990 with 500 each), 20 transactions of 250 votes a block:

    .venv/bin/python benchmarks/generate_history.py --members 10000 --proposals 2000 --full-proposals 10 \
        --votes-per-block 5000 --dir DIR

(DIR: e.g. .state/bench-million; benchmarks/bench_million.py generates and measures it). anvil recomputes its state
root over the whole state for every block it mines, so a large history goes many votes to a block: at 250 a block,
the million's blocks would take longer and longer to mine (the generation ran at about 190 votes/s by 350,000 votes).
Signing runs in this thread while a second one has anvil mine the previous block.
"""

import argparse
import queue
import random
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from coincurve import PrivateKey as CurveKey
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
BATCH = 250  # votes a transaction carries
BATCH_GAS = 30_000_000  # gas allowed a transaction of BATCH votes (they use at most about 13.2 million)
VOTES_PER_BLOCK = BATCH
# Prague: no per-transaction gas cap (Osaka's 2**24 would split the 1,000-founder deployment).
NODE_ARGS = ("--gas-limit", "2000000000", "--hardfork", "prague", "--accounts", "2", "--code-size-limit", "100000")
SETTINGS = CommonsSettings(
    voting_delay=1, voting_period=30 * 24 * 3600, quorum_percent=10, late_quorum_extension=0, timelock_delay=60
)
BALLOT_TYPEHASH = keccak(text="Ballot(uint256 proposalId,uint8 support,address voter,uint256 nonce)")
EXTENDED_TYPEHASH = keccak(
    text="ExtendedBallot(uint256 proposalId,uint8 support,address voter,uint256 nonce,string reason,bytes params)"
)
CAST = function_signature_to_4byte_selector("castVoteBySig(uint256,uint8,address,bytes)")
CAST_EXTENDED = function_signature_to_4byte_selector("castVoteWithReasonAndParamsBySig(uint256,uint8,address,string,bytes,bytes)")
MULTICALL = function_signature_to_4byte_selector("multicall(bytes[])")
EMPTY_HASH = keccak(b"")
# At most this many founders are admitted by the registry's constructor: its init code grows by about 130 bytes a
# founder, and anvil refuses a request of 10,000 founders as too large. Larger shapes admit the rest afterwards.
FOUNDERS_AT_DEPLOYMENT = 1_000
# Admissions a block: the block gas limit would take 6,250, whose logs are more than a hosted provider's 10,000-log
# answer (the emulator's max_logs) could ever return for one block.
ADMISSIONS_PER_BLOCK = 1_000
GAS_PER_FOUNDER = 250_000  # admitting a founder at deployment, with margin (the block gas limit grows with the members)


@dataclass(frozen=True)
class Shape:
    """How big a generated history is, and where it is kept (state file and manifest)."""

    members: int = MEMBERS
    proposals: int = PROPOSALS
    votes_per_proposal: int = VOTES_PER_PROPOSAL
    full_proposals: int = 1  # the first proposals, voted on by every member
    directory: Path = field(default=BENCH_DIR)
    votes_per_block: int = VOTES_PER_BLOCK  # a multiple of BATCH: this many votes' transactions go into each block

    @property
    def votes(self) -> int:
        full = min(self.full_proposals, self.proposals)
        return full * self.members + (self.proposals - full) * min(self.votes_per_proposal, self.members)


def member_keys(count: int = MEMBERS) -> list[keys.PrivateKey]:
    """Throwaway benchmark keys derived from labels: never for real funds."""
    return [keys.PrivateKey(keccak(text=f"commons-ledger-bench:{i}")) for i in range(count)]


def domain_separator(manifest: Manifest) -> bytes:
    typehash = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    return keccak(
        typehash
        + keccak(text=manifest.name)
        + keccak(text="1")
        + encode(["uint256", "address"], [manifest.chain_id, manifest.governor])
    )


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 32)


@dataclass(frozen=True)
class Voter:
    """A member's key as the generator signs with it: coincurve's key and the address, computed once."""

    key: CurveKey
    address: bytes  # 20 bytes

    @classmethod
    def of(cls, key: keys.PrivateKey) -> "Voter":
        return cls(CurveKey(key.to_bytes()), key.public_key.to_canonical_address())


def ballot(domain: bytes, voter: Voter, proposal_id: int, support: int, nonce: int, reason: str) -> bytes:
    """The calldata of one signed vote (castVoteBySig, or the extended form when there is a reason), ABI-encoded by
    hand: eth_abi and eth_keys took about two thirds of the signing time. Same bytes as `encode` would give."""
    head = _word(proposal_id) + _word(support) + b"\0" * 12 + voter.address
    if reason:
        text = reason.encode()
        struct = keccak(EXTENDED_TYPEHASH + head + _word(nonce) + keccak(text) + EMPTY_HASH)
    else:
        struct = keccak(BALLOT_TYPEHASH + head + _word(nonce))
    signed = voter.key.sign_recoverable(keccak(b"\x19\x01" + domain + struct), hasher=None)
    sig = _word(65) + _padded(signed[:64] + bytes([signed[64] + 27]))
    if not reason:
        return CAST + head + _word(128) + sig
    reason_part = _word(len(text)) + _padded(text)
    params_at = 192 + len(reason_part)
    return CAST_EXTENDED + head + _word(192) + _word(params_at) + _word(params_at + 32) + reason_part + _word(0) + sig


def signed_vote(domain: bytes, key: keys.PrivateKey, proposal_id: int, support: int, nonce: int, reason: str) -> bytes:
    """The calldata of one signed vote (castVoteBySig, or the extended form when there is a reason)."""
    return ballot(domain, Voter.of(key), proposal_id, support, nonce, reason)


def multicall(calls: list[bytes]) -> bytes:
    """The governor's `multicall(bytes[])` calldata for `calls`, encoded by hand (as `encode(["bytes[]"], ...)`)."""
    offsets, tails, at = [], [], 32 * len(calls)
    for call in calls:
        offsets.append(_word(at))
        tails.append(_word(len(call)) + _padded(call))
        at += len(tails[-1])
    return MULTICALL + _word(32) + _word(len(calls)) + b"".join(offsets) + b"".join(tails)


def send(w3, sender: str, to: str, data: bytes, gas: int = 1_500_000_000) -> str:
    return w3.eth.send_transaction({"from": sender, "to": to, "data": data, "gas": gas}).to_0x_hex()


class BlockSender:
    """Mines blocks of vote transactions on anvil from a thread of its own, while the caller signs the next ones.

    anvil recomputes its state root from the whole state for every block: on a history of 39,000 votes an empty block
    took about 250 ms, and the cost grows with every vote stored. Votes therefore go several transactions (of `BATCH`
    votes each, as a relay sends them) to a block, mined with `evm_mine` once they are all in the pool."""

    def __init__(self, w3, sender: str, to: str, backlog: int = 4):
        self.w3, self.sender, self.to = w3, sender, to
        self.queue: queue.Queue[list[bytes] | None] = queue.Queue(backlog)
        self.error: BaseException | None = None
        self.mined = self.transactions = self.max_gas = 0
        self.busy = 0.0  # seconds spent waiting on anvil
        self.thread = threading.Thread(target=self._run, name="block-sender", daemon=True)

    def __enter__(self) -> "BlockSender":
        self._request("evm_setAutomine", [False])
        self.thread.start()
        return self

    def put(self, transactions: list[bytes]) -> None:
        while True:
            if self.error is not None:
                raise SystemExit(f"mining the votes failed: {self.error}")
            try:
                self.queue.put(transactions, timeout=1)
                return
            except queue.Full:
                continue

    def __exit__(self, kind, value, traceback) -> None:
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        self._request("evm_setAutomine", [True])
        if kind is None and self.error is not None:
            raise SystemExit(f"mining the votes failed: {self.error}")

    def _request(self, method: str, params: list):
        answer = self.w3.provider.make_request(method, params)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def _run(self) -> None:
        try:
            while (transactions := self.queue.get()) is not None:
                began = time.perf_counter()
                hashes = [
                    self._request(
                        "eth_sendTransaction",
                        [{"from": self.sender, "to": self.to, "data": "0x" + data.hex(), "gas": hex(BATCH_GAS)}],
                    )
                    for data in transactions
                ]
                self._request("evm_mine", [])
                for tx in hashes:
                    receipt = self._request("eth_getTransactionReceipt", [tx])
                    if receipt is None or int(receipt["status"], 16) != 1:
                        raise RuntimeError(f"vote batch {tx} failed or was not mined: {receipt and receipt['status']}")
                    self.max_gas = max(self.max_gas, int(receipt["gasUsed"], 16))
                self.mined += 1
                self.transactions += len(hashes)
                self.busy += time.perf_counter() - began
        except BaseException as error:  # noqa: BLE001 - handed to the signing thread, which stops on it
            self.error = error
            while self.queue.get() is not None:  # unblock the producer until it sees the error
                pass


def admit_as_timelock(w3, manifest: Manifest, members: list[tuple[str, str]]) -> None:
    """Admit `members` as the timelock would after a vote, by impersonating it on anvil (a benchmark shortcut: a
    history of 10,000 members would otherwise need thousands of admission votes), a block of them at a time."""
    if not members:
        return
    admit = function_signature_to_4byte_selector("admit(address,string)")
    w3.provider.make_request("anvil_impersonateAccount", [manifest.timelock])
    w3.provider.make_request("anvil_setBalance", [manifest.timelock, hex(10**24)])
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        for n, (address, handle) in enumerate(members, 1):
            send(w3, manifest.timelock, manifest.membership, admit + encode(["address", "string"], [address, handle]), 400_000)
            if n % ADMISSIONS_PER_BLOCK == 0:
                w3.provider.make_request("evm_mine", [])
        while int(w3.provider.make_request("txpool_status", [])["result"]["pending"], 16):
            w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
        w3.provider.make_request("anvil_stopImpersonatingAccount", [manifest.timelock])
    count_call = function_signature_to_4byte_selector("memberCount()")
    admitted = int.from_bytes(w3.eth.call({"to": manifest.membership, "data": count_call}), "big")
    if admitted != FOUNDERS_AT_DEPLOYMENT + len(members):
        raise SystemExit(f"only {admitted:,} members after admitting {len(members):,} more")


def generate(w3, shape: Shape = Shape()) -> Manifest:
    """Deploy the benchmark commons and fill it with proposals and votes; returns its manifest."""
    started = time.monotonic()
    steward = NodeSigner(w3.eth.accounts[0])
    members = member_keys(shape.members)
    count = shape.members
    founders = [(k.public_key.to_checksum_address(), f"member{i}") for i, k in enumerate(members)]
    manifest = deploy_commons(w3, steward, "Bench Commons", founders[:FOUNDERS_AT_DEPLOYMENT], [steward.address], SETTINGS)
    admit_as_timelock(w3, manifest, founders[FOUNDERS_AT_DEPLOYMENT:])
    print(f"deployed with {count:,} members in {time.monotonic() - started:.0f} s", flush=True)
    w3.provider.make_request("anvil_setBalance", [manifest.timelock, hex(10**24)])

    descriptions, proposal_ids, calls = [], [], []
    for p in range(shape.proposals):
        action = act.pay(founders[p % count][0], 10**15 * (p + 1))
        description = f"# Benchmark proposal {p + 1}\n\nPay member {p % count} for shared tools, batch {p}."
        calls.append(
            function_signature_to_4byte_selector("propose(address[],uint256[],bytes[],string)")
            + encode(
                ["address[]", "uint256[]", "bytes[]", "string"], [[action.target], [action.value], [action.calldata], description]
            )
        )
        proposal_ids.append(
            int.from_bytes(
                keccak(
                    encode(
                        ["address[]", "uint256[]", "bytes[]", "bytes32"],
                        [[action.target], [action.value], [action.calldata], keccak(text=description)],
                    )
                ),
                "big",
            )
        )
        descriptions.append(description)
    for start in range(0, shape.proposals, 50):
        tx = send(w3, steward.address, manifest.governor, MULTICALL + encode(["bytes[]"], [calls[start : start + 50]]))
        assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    w3.provider.make_request("evm_increaseTime", [5])
    w3.provider.make_request("evm_mine", [])

    voting = time.monotonic()
    domain = domain_separator(manifest)
    voters_keys = [Voter.of(k) for k in members]
    rng = random.Random(7)
    nonces = [0] * count
    pending: list[bytes] = []
    block: list[bytes] = []
    total = 0
    with BlockSender(w3, steward.address, manifest.governor) as sender:
        for p, proposal_id in enumerate(proposal_ids):
            if p < shape.full_proposals:
                voters: range | list[int] = range(count)
            else:
                voters = [(p * 37 + j) % count for j in range(min(shape.votes_per_proposal, count))]
            for v in voters:
                reason = (
                    f"member {v} on proposal {p + 1}: {rng.choice(['good for the garden', 'too costly', 'not now', 'yes'])}"
                    if rng.random() < 0.25
                    else ""
                )
                pending.append(ballot(domain, voters_keys[v], proposal_id, rng.choice((0, 1, 1, 2)), nonces[v], reason))
                nonces[v] += 1
                total += 1
                if len(pending) == BATCH:
                    block.append(multicall(pending))
                    pending = []
                    if len(block) * BATCH >= shape.votes_per_block:
                        sender.put(block)
                        block = []
                if total % 100_000 == 0:
                    print(
                        f"{total:,} votes signed, {sender.mined:,} blocks mined; {time.monotonic() - started:.0f} s", flush=True
                    )
        if pending:
            block.append(multicall(pending))
        if block:
            sender.put(block)
    print(
        f"{total:,} votes on {shape.proposals:,} proposals in {sender.mined} blocks ({sender.transactions} transactions, "
        f"at most {sender.max_gas:,} gas each) in {time.monotonic() - voting:.0f} s, {sender.busy:.0f} s of it mining; "
        f"{time.monotonic() - started:.0f} s in all",
        flush=True,
    )
    return manifest


def free_port() -> int:
    """A port nothing listens on now (other shapes' nodes get one each, so several can be generated at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench_node(shape: Shape = Shape()) -> LocalNode:
    # Dumping this chain's state (~700 MB of JSON for the 101,000 votes, gigabytes for a million) takes a good part of
    # a core; the default every 5 s would run alongside every measurement. It is dumped when the node stops (and once
    # a day: an hourly dump fell in the middle of the million's measurements).
    gas_limit = max(2_000_000_000, shape.members * GAS_PER_FOUNDER, shape.votes_per_block // BATCH * BATCH_GAS)
    args = ("--gas-limit", str(gas_limit), *NODE_ARGS[2:])
    port = PORT if shape.directory == BENCH_DIR else free_port()
    state = shape.directory / STATE_FILE.name
    return LocalNode(port, state, extra_args=args, log_file=shape.directory / "anvil.log", state_interval=86_400)


def ensure_history(shape: Shape = Shape()) -> tuple[LocalNode, Manifest]:
    """A running node with the history of `shape` (generated the first time); the caller stops the node."""
    shape.directory.mkdir(parents=True, exist_ok=True)
    manifest_file = shape.directory / MANIFEST.name
    state_file = shape.directory / STATE_FILE.name
    if not manifest_file.is_file() and state_file.is_file():
        # The manifest is written last: a state file without it is a generation that was stopped half way.
        state_file.unlink()
    node = bench_node(shape)
    url = node.start(timeout=600)
    w3 = connect(url, timeout=600)
    if manifest_file.is_file() and w3.eth.block_number > 0:
        return node, Manifest.from_json(manifest_file.read_text())
    try:
        manifest = generate(w3, shape)
    except BaseException:
        node.stop(timeout=300)
        raise
    save(manifest, manifest_file)
    return node, manifest


def parse_shape(argv: list[str]) -> Shape:
    parser = argparse.ArgumentParser(description="Generate (once) a benchmark history on anvil, kept for reruns.")
    add_shape_arguments(parser, Shape())
    return shape_of(parser.parse_args(argv))


def add_shape_arguments(parser: argparse.ArgumentParser, default: Shape) -> None:
    """--members, --proposals, --votes-per-proposal, --full-proposals, --dir and --votes-per-block, `default`'s values
    unless given."""
    parser.add_argument("--members", type=int, default=default.members)
    parser.add_argument("--proposals", type=int, default=default.proposals)
    parser.add_argument("--votes-per-proposal", type=int, default=default.votes_per_proposal)
    parser.add_argument(
        "--full-proposals", type=int, default=default.full_proposals, help="the first N proposals get every member's vote"
    )
    parser.add_argument("--dir", type=Path, default=default.directory, help="where the state file and manifest are kept")
    add_votes_per_block(parser, default.votes_per_block)


def shape_of(options: argparse.Namespace) -> Shape:
    return Shape(
        options.members,
        options.proposals,
        options.votes_per_proposal,
        options.full_proposals,
        options.dir.resolve(),
        options.votes_per_block,
    )


def add_votes_per_block(parser: argparse.ArgumentParser, default: int) -> None:
    def votes_per_block(text: str) -> int:
        value = int(text)
        if value < BATCH or value % BATCH:
            raise argparse.ArgumentTypeError(f"a multiple of {BATCH} (the votes a transaction carries)")
        return value

    parser.add_argument(
        "--votes-per-block",
        type=votes_per_block,
        default=default,
        help=f"votes mined in each block, {BATCH} a transaction (default {default:,})",
    )


if __name__ == "__main__":
    sys.setrecursionlimit(10_000)
    shape = parse_shape(sys.argv[1:])
    print(f"history of {shape.members:,} members, {shape.proposals:,} proposals, {shape.votes:,} votes in {shape.directory}")
    node, manifest = ensure_history(shape)
    state_file = shape.directory / STATE_FILE.name
    print(f"history ready at {node.url} (governor {to_checksum_address(manifest.governor)}); state in {state_file}")
    node.stop(timeout=300)
    print("node stopped; state saved", state_file.stat().st_size // 1_000_000, "MB")
