"""Gas of each governance act, for our CommonsGovernor and, in the same run, a plain OpenZeppelin 5.7
Governor (benchmarks/contracts/PlainGovernor.sol) on the same membership token.

Run: .venv/bin/python benchmarks/bench_gas.py   (starts its own anvil; prints a Markdown table)
"""

import argparse
import statistics

from eth_account import Account
from eth_utils import keccak

from governance import actions as act
from governance.ballots import Ballot, domain, sign
from governance.chain import KeySigner, NodeSigner, connect, transact
from governance.compiler import compile_contracts
from governance.config import PROJECT_ROOT
from governance.deploy import ANYONE, deploy_commons
from governance.manifest import CommonsSettings
from governance.node import LocalNode

MEMBERS = 48
DELEGATORS = (0, 100, 1_000)  # removal gas is measured with this many members trying to delegate to the one removed
REASON = "Good for the garden and fair to everyone"  # 40 characters
SETTINGS = CommonsSettings(voting_delay=60, voting_period=3600, quorum_percent=30, late_quorum_extension=600, timelock_delay=300)


def rpc(w3, method, *params):
    return w3.provider.make_request(method, list(params))


def advance_to(w3, timestamp):
    gap = timestamp - w3.eth.get_block("latest")["timestamp"] + 1
    if gap > 0:
        rpc(w3, "evm_increaseTime", gap)
        rpc(w3, "evm_mine")


def run_votes(w3, governor, ballot_domain, members, proposer, relayer, action) -> dict[str, list[int]]:
    """Propose, vote in every way, queue and execute on `governor`; gas used by each act."""
    gas: dict[str, list[int]] = {}

    def send(label, signer, data):
        receipt = transact(w3, signer, governor.address, data)
        gas.setdefault(label, []).append(receipt["gasUsed"])
        return receipt

    description = act.bound_to_proposer(f"# Bench on {governor.address}\n\nPay one wei.", proposer.address)
    args = [[action.target], [action.value], [action.calldata], description]
    send("propose", proposer, governor.encode_abi("propose", args=args))
    pid = governor.functions.hashProposal(*args[:3], keccak(text=description)).call()
    advance_to(w3, governor.functions.proposalSnapshot(pid).call())
    send("castVote (first For vote)", members[0], governor.encode_abi("castVote", args=[pid, 1]))
    for m in members[1:11]:
        send("castVote", m, governor.encode_abi("castVote", args=[pid, 1]))
    for m in members[11:21]:
        send("castVoteWithReason (40-char reason)", m, governor.encode_abi("castVoteWithReason", args=[pid, 1, REASON]))

    def by_sig(m):
        nonce = governor.functions.nonces(m.address).call()
        signature = sign(Ballot(pid, 1, m.address, nonce, extended=False), ballot_domain, m.account)
        return governor.encode_abi("castVoteBySig", args=[pid, 1, m.address, signature])

    for m in members[21:31]:
        send("castVoteBySig", relayer, by_sig(m))
    receipt = send(
        "multicall of 10 castVoteBySig", relayer, governor.encode_abi("multicall", args=[[by_sig(m) for m in members[31:41]]])
    )
    gas["castVoteBySig in a multicall of 10, per vote"] = [receipt["gasUsed"] // 10]
    advance_to(w3, governor.functions.proposalDeadline(pid).call())
    send("queue", relayer, governor.encode_abi("queue", args=[*args[:3], keccak(text=description)]))
    advance_to(w3, governor.functions.proposalEta(pid).call())
    send("execute", relayer, governor.encode_abi("execute", args=[*args[:3], keccak(text=description)]))
    return gas


def send_fast(w3, sender: str, to: str, data) -> bytes:
    """Send without estimating or waiting (the node mines each at once): for setting up hundreds of members."""
    return w3.eth.send_transaction({"from": sender, "to": to, "data": data, "gas": 1_000_000})


def removal_gas(w3, artifact, owner: NodeSigner, delegators: int) -> tuple[int, int]:
    """(gas of Membership.remove, delegations accepted) for a member whom `delegators` members try to delegate to.

    A fresh registry owned by `owner`; each member is an impersonated address, so no keys are needed.
    """
    address = transact(
        w3,
        owner,
        None,
        w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        .constructor("Removal bench", owner.address, [], [], 100)
        .data_in_transaction,
    )["contractAddress"]
    membership = w3.eth.contract(address=address, abi=artifact.abi)
    accounts = [Account.from_key(keccak(text=f"bench-removal-{i}")).address for i in range(delegators + 1)]
    for i, account in enumerate(accounts):
        send_fast(w3, owner.address, address, membership.encode_abi("admit", args=[account, f"r{i}"]))
    removed, last = accounts[0], None
    for account in accounts[1:]:
        rpc(w3, "anvil_impersonateAccount", account)
        rpc(w3, "anvil_setBalance", account, hex(10**18))
        last = send_fast(w3, account, address, membership.encode_abi("delegate", args=[removed]))
    if last is not None:
        w3.eth.wait_for_transaction_receipt(last)
    accepted = len(membership.functions.delegatorsOf(removed).call())
    rpc(w3, "evm_increaseTime", 1)  # returned votes are checkpointed in a later second, as on a real chain
    receipt = transact(w3, owner, address, membership.encode_abi("remove", args=[removed]))
    assert all(membership.functions.getVotes(a).call() == 1 for a in accounts[1:])
    return receipt["gasUsed"], accepted


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    node = LocalNode(18545, None)
    w3 = connect(node.start())
    try:
        relayer = NodeSigner(w3.eth.accounts[0])
        members = [KeySigner(Account.from_key(keccak(text=f"bench-gas-member-{i}"))) for i in range(MEMBERS)]
        for m in members:
            rpc(w3, "anvil_setBalance", m.address, hex(10**20))
        manifest = deploy_commons(
            w3, relayer, "Bench Commons", [(m.address, f"m{i}") for i, m in enumerate(members)], [members[0].address], SETTINGS
        )
        ours = compile_contracts()
        plain = compile_contracts(
            contracts_dir=PROJECT_ROOT / "benchmarks" / "contracts", build_dir=PROJECT_ROOT / "build" / "bench"
        )
        payee = act.pay("0x000000000000000000000000000000000000bEEF", 1)

        governor = w3.eth.contract(address=manifest.governor, abi=ours["CommonsGovernor"].abi)
        rpc(w3, "anvil_setBalance", manifest.timelock, hex(10**20))
        ours_gas = run_votes(
            w3, governor, domain(manifest.name, w3.eth.chain_id, manifest.governor), members, members[0], relayer, payee
        )

        def create(artifact, *args):
            data = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode).constructor(*args).data_in_transaction
            return transact(w3, relayer, None, data)["contractAddress"]

        plain_timelock = create(plain["TimelockController"], SETTINGS.timelock_delay, [], [ANYONE], relayer.address)
        plain_address = create(
            plain["PlainGovernor"],
            manifest.membership,
            plain_timelock,
            SETTINGS.voting_delay,
            SETTINGS.voting_period,
            SETTINGS.quorum_percent,
        )
        timelock = w3.eth.contract(address=plain_timelock, abi=plain["TimelockController"].abi)
        transact(
            w3,
            relayer,
            plain_timelock,
            timelock.encode_abi("grantRole", args=[timelock.functions.PROPOSER_ROLE().call(), plain_address]),
        )
        rpc(w3, "anvil_setBalance", plain_timelock, hex(10**20))
        plain_governor = w3.eth.contract(address=plain_address, abi=plain["PlainGovernor"].abi)
        plain_gas = run_votes(
            w3, plain_governor, domain("Plain", w3.eth.chain_id, plain_address), members, members[0], relayer, payee
        )

        membership = w3.eth.contract(address=manifest.membership, abi=ours["Membership"].abi)
        rpc(w3, "anvil_impersonateAccount", manifest.timelock)
        newcomer = "0x000000000000000000000000000000000000cafE"
        admit = transact(
            w3, NodeSigner(manifest.timelock), manifest.membership, membership.encode_abi("admit", args=[newcomer, "newcomer"])
        )
        delegate = transact(w3, members[-2], manifest.membership, membership.encode_abi("delegate", args=[members[-3].address]))
        resign = transact(w3, members[-1], manifest.membership, membership.encode_abi("resign", args=[]))
        ours_gas["admit (Membership.admit by the timelock)"] = [admit["gasUsed"]]
        ours_gas["delegate to another member"] = [delegate["gasUsed"]]
        ours_gas["resign"] = [resign["gasUsed"]]
        for count in DELEGATORS:
            gas, accepted = removal_gas(w3, ours["Membership"], relayer, count)
            refused = f"; {count - accepted:,} refused at the limit" if accepted < count else ""
            ours_gas[f"remove a member whom {count:,} members delegate to ({accepted:,} accepted{refused})"] = [gas]
    finally:
        node.stop()

    print("| act | CommonsGovernor (median) | plain OZ 5.7 Governor, same run (median) |")
    print("| --- | ---: | ---: |")
    for label, values in ours_gas.items():
        base = plain_gas.get(label)
        print(
            f"| {label} | {statistics.median(values):,.0f} | {statistics.median(base):,.0f} |"
            if base
            else f"| {label} | {statistics.median(values):,.0f} | – |"
        )


if __name__ == "__main__":
    main()
