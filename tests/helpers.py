"""Test helpers: members with keys, moving anvil's clock, and carrying a proposal through its life
(as OpenZeppelin's GovernorHelper does)."""

import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from eth_account import Account
from eth_utils import keccak
from web3 import Web3

from governance import actions as act
from governance.chain import KeySigner, NodeSigner, transact
from governance.client import Commons
from governance.manifest import CommonsSettings

SETTINGS = CommonsSettings(voting_delay=60, voting_period=3600, quorum_percent=30, late_quorum_extension=600, timelock_delay=300)
FOUNDER_COUNT = 6
TREASURY_WEI = 100 * 10**18


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_key_signer(label: str) -> KeySigner:
    """A throwaway key derived from a label: for tests only, never for real funds."""
    return KeySigner(Account.from_key(keccak(text=f"commons-ledger-test:{label}")))


def key_of(signer: KeySigner) -> str:
    """A test signer's private key, as COMMONS_PRIVATE_KEY takes it (tests only)."""
    return signer.account.key.hex()


def fund(w3: Web3, address: str, wei: int = 10**20) -> None:
    w3.provider.make_request("anvil_setBalance", [address, hex(wei)])


def advance(w3: Web3, seconds: int) -> None:
    """Move anvil's clock forward and mine a block."""
    w3.provider.make_request("evm_increaseTime", [seconds])
    w3.provider.make_request("evm_mine", [])


def now(w3: Web3) -> int:
    return w3.eth.get_block("latest")["timestamp"]


def advance_to(w3: Web3, timestamp: int) -> None:
    """Mine a block with a timestamp just after `timestamp`."""
    current = now(w3)
    if current <= timestamp:
        advance(w3, timestamp - current + 1)


def propose(commons: Commons, steward, proposal_actions: list, title: str = "A proposal", body: str = "") -> int:
    description = f"# {title}\n\n{body or 'Details.'}"
    commons.submit(commons.plan_propose(proposal_actions, description, steward.address), steward)
    return commons.proposal_id_of(proposal_actions, description, steward.address)


def vote(commons: Commons, voter, proposal_id: int, support: str = "for", reason: str = "") -> dict:
    from governance.vocabulary import parse_support

    return commons.submit(commons.plan_vote(proposal_id, parse_support(support), reason), voter)


def to_voting(commons: Commons, proposal_id: int) -> None:
    advance_to(commons.w3, commons.governor.functions.proposalSnapshot(proposal_id).call())


def to_deadline_passed(commons: Commons, proposal_id: int) -> None:
    advance_to(commons.w3, commons.governor.functions.proposalDeadline(proposal_id).call())


def pass_proposal(commons: Commons, steward, members: list, proposal_actions: list, title: str = "A proposal") -> int:
    """Propose, have every given member vote For, queue, wait the timelock, execute. Returns the id."""
    pid = propose(commons, steward, proposal_actions, title)
    carry_through(commons, pid, members)
    return pid


def carry_through(commons: Commons, pid: int, members: list) -> None:
    """Take a proposed proposal through voting (every given member For), queue, the timelock delay and execution."""
    to_voting(commons, pid)
    for member in members:
        vote(commons, member, pid, "for")
    to_deadline_passed(commons, pid)
    anyone = NodeSigner(commons.w3.eth.accounts[9])
    commons.submit(commons.plan_lifecycle("queue", pid), anyone)
    advance_to(commons.w3, commons.governor.functions.proposalEta(pid).call())
    commons.submit(commons.plan_lifecycle("execute", pid), anyone)


def impersonate(w3: Web3, address: str) -> NodeSigner:
    """Let anvil send transactions from `address` (e.g. the timelock, as a passed proposal would act)."""
    w3.provider.make_request("anvil_impersonateAccount", [address])
    return NodeSigner(Web3.to_checksum_address(address))


def admit_crowd(w3: Web3, commons: Commons, count: int) -> list[str]:
    """`count` members admitted by the (impersonated) timelock in a few blocks; their addresses, in order."""
    timelock = impersonate(w3, commons.manifest.timelock)
    addresses = [Web3.to_checksum_address(Web3.keccak(text=f"crowd{i}")[-20:]) for i in range(count)]
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        for i, address in enumerate(addresses):
            data = commons.membership.encode_abi("admit", args=[address, f"crowd{i}"])
            w3.eth.send_transaction({"from": timelock.address, "to": commons.manifest.membership, "data": data, "gas": 400_000})
        while int(w3.provider.make_request("txpool_status", [])["result"]["pending"], 16):
            w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    return addresses


def send(w3: Web3, signer, contract, function: str, *args, value: int = 0) -> dict:
    """Call `contract.function(*args)` from `signer` (simulated first); raises Reverted in words."""
    return transact(w3, signer, contract.address, contract.encode_abi(function, args=list(args)), value)


HEX_BLOB = re.compile(r"0x[0-9a-fA-F]{41,}")


def assert_in_words(reason: str) -> None:
    """A refusal a person can read: sentences, addresses at most, never a raw hex blob."""
    assert not HEX_BLOB.search(reason), reason
    assert "Unknown" not in reason and "the chain refused" not in reason, reason
    assert len(re.findall(r"\b[A-Za-z]{2,}\b", re.sub(r"0x[0-9a-fA-F]+", "", reason))) >= 3, reason


def assert_refused(excinfo, name: str) -> str:
    """The Reverted in `excinfo` carries the custom error `name` and says it in words; returns the sentence."""
    assert excinfo.value.name == name, (excinfo.value.name, excinfo.value.reason)
    assert_in_words(excinfo.value.reason)
    return excinfo.value.reason


__all__ = ["act", "SETTINGS", "FOUNDER_COUNT"]


@contextmanager
def rolled_back(w3: Web3) -> Iterator[None]:
    """The chain as it was before the block, with what evm_revert leaves behind undone, so the next test's chain is a
    chain and not this one's remains:
    - anvil's clock goes back to the snapshot's time (measured: a 4 s test leaves the chain 4 s behind the wall
      clock); over a whole run the chain fell about 12 minutes behind, and reminders said "closes in 47 minutes" of
      a vote that closed in 59 on the chain. A real chain's clock never goes back;
    - transactions still waiting in the mempool outlive the revert and can hold later ones of the same account back;
    - the next block's base fee stays where the test's blocks took it."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
    try:
        yield
    finally:
        w3.provider.make_request("evm_revert", [snapshot])
        w3.provider.make_request("anvil_setNextBlockBaseFeePerGas", [hex(base_fee)])
        clean_mempool_and_clock(w3)


def clean_mempool_and_clock(w3: Web3) -> None:
    """No transaction left waiting, and the chain's clock no earlier than the wall clock's."""
    w3.provider.make_request("anvil_dropAllTransactions", [])
    latest = w3.eth.get_block("latest")["timestamp"]
    w3.provider.make_request("anvil_setTime", [max(int(time.time()), latest)])


def timelock_batch(commons, proposal_id: int) -> tuple:
    """(targets, values, calldatas, predecessor, salt): the timelock batch a proposal is queued as, as
    GovernorTimelockControl makes it (the salt is bytes20(governor) XOR the description's hash)."""
    targets, values, calldatas, description_hash = commons.governor.functions.proposalDetails(proposal_id).call()
    governor_left_aligned = bytes.fromhex(commons.manifest.governor[2:]) + bytes(12)
    salt = bytes(a ^ b for a, b in zip(governor_left_aligned, description_hash))
    return targets, values, calldatas, b"\0" * 32, salt


def timelock_operation_id(commons, proposal_id: int) -> bytes:
    """The timelock's id for a proposal's operation."""
    return commons.timelock.functions.hashOperationBatch(*timelock_batch(commons, proposal_id)).call()
