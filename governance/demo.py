"""Seed a realistic demo commons on a local anvil node: a named garden with a dozen founders, two
stewards, treasury funds, and proposals that were executed, defeated, and one still open.

Members act through anvil's unlocked development accounts, so no key is involved anywhere. Time is
moved with `evm_increaseTime`, which only a development node allows.
"""

import json
import secrets
from collections.abc import Callable
from pathlib import Path

from eth_account import Account
from web3 import Web3

from governance import actions as act
from governance.chain import NodeSigner, transact
from governance.client import Commons
from governance.compiler import compile_contracts
from governance.deploy import deploy_commons
from governance.errors import ConfigurationError
from governance.manifest import CommonsSettings, Manifest
from governance.node import advance_clock, is_development_node
from governance.treasury import parse_amount, pay_token
from governance.treasury_acts import plan_contribution, resolve_asset
from governance.vocabulary import parse_support

NAME = "Riverside Community Garden"
HANDLES = ["ada", "bell", "cato", "dara", "eli", "fern", "gus", "hana", "ivo", "juno", "kai", "lena"]
SETTINGS = CommonsSettings(
    voting_delay=60, voting_period=3 * 24 * 3600, quorum_percent=30, late_quorum_extension=24 * 3600, timelock_delay=24 * 3600
)
TREASURY_ETH = 25
RELAYER_ETH = 10
ACCOUNTS_NEEDED = len(HANDLES) + 3  # founders, the deployer, a newcomer, a supplier


def _advance(w3: Web3, seconds: int) -> None:
    advance_clock(w3, seconds)


def _advance_past(w3: Web3, timestamp: int) -> None:
    gap = timestamp - w3.eth.get_block("latest")["timestamp"] + 1
    if gap > 0:
        _advance(w3, gap)


def seed_demo(w3: Web3, report: Callable[[str], None] = lambda _: None) -> Manifest:
    """Deploy the demo commons and play out its history; returns the manifest (not yet saved).

    Raises ConfigurationError if the node is not a development node with enough unlocked accounts.
    """
    if not is_development_node(w3):
        raise ConfigurationError(
            "The demo needs a local anvil node (it moves the chain's clock); start one with `commons node start`."
        )
    accounts = w3.eth.accounts
    if len(accounts) < ACCOUNTS_NEEDED:
        raise ConfigurationError(f"The demo needs {ACCOUNTS_NEEDED} unlocked accounts; `commons node start` provides 20.")
    members = [NodeSigner(a) for a in accounts[: len(HANDLES)]]
    deployer, newcomer, supplier = (NodeSigner(a) for a in accounts[len(HANDLES) : ACCOUNTS_NEEDED])
    by_handle = dict(zip(HANDLES, members))

    report(f"Deploying “{NAME}” with {len(HANDLES)} founders…")
    garden_dollar = deploy_garden_dollar(w3, deployer)
    manifest = deploy_commons(
        w3,
        deployer,
        NAME,
        [(m.address, h) for h, m in by_handle.items()],
        [by_handle["ada"].address, by_handle["bell"].address],
        SETTINGS,
        tracked_tokens=[garden_dollar],
    )
    transact(w3, deployer, manifest.timelock, b"", Web3.to_wei(TREASURY_ETH, "ether"))
    commons = Commons(w3, manifest)
    a = commons.addresses
    report("Contributions in ETH and Garden Dollars (gUSD)…")
    contribute_demo_funds(commons, garden_dollar, by_handle, supplier)

    def run(steward: str, proposal_actions: list, text: str, votes: dict[str, tuple[str, str]], finish: bool) -> int:
        report(f"Proposal: {act.proposal_title(text)}")
        proposer = by_handle[steward]
        commons.submit(commons.plan_propose(proposal_actions, text, proposer.address), proposer)
        pid = commons.proposal_id_of(proposal_actions, text, proposer.address)
        _advance_past(w3, commons.governor.functions.proposalSnapshot(pid).call())
        for handle, (support, reason) in votes.items():
            commons.submit(commons.plan_vote(pid, parse_support(support), reason), by_handle[handle])
            _advance(w3, 1800)
        if finish:
            _advance_past(w3, commons.governor.functions.proposalDeadline(pid).call())
            if commons.proposal(pid).state == "succeeded":
                commons.submit(commons.plan_lifecycle("queue", pid), deployer)
                _advance_past(w3, commons.governor.functions.proposalEta(pid).call())
                commons.submit(commons.plan_lifecycle("execute", pid), deployer)
        return pid

    run(
        "ada",
        [act.admit(a, newcomer.address, "mo")],
        "# Welcome Mo to the garden\n\nMo has helped at every **work day** since spring and asked to join.\n\n"
        "- shares the compost duty\n- brings seedlings from the allotment next door",
        {
            "ada": ("for", "Mo already does the work of a member."),
            "bell": ("for", ""),
            "cato": ("for", "Welcome!"),
            "dara": ("for", ""),
            "eli": ("abstain", "I have not met Mo yet."),
            "fern": ("for", ""),
        },
        finish=True,
    )
    run(
        "bell",
        [act.pay(supplier.address, Web3.to_wei(2.5, "ether"))],
        "# Buy a 2,000-litre rainwater tank\n\nLast summer we paid for mains water for six weeks. A tank from "
        "the co-op supplier costs **2.5 ETH** delivered and fitted.",
        {
            "bell": ("for", "It pays for itself in two summers."),
            "ada": ("for", ""),
            "gus": ("for", "Yes please"),
            "hana": ("against", "Too expensive; a smaller tank would do."),
            "ivo": ("for", ""),
            "juno": ("for", ""),
        },
        finish=True,
    )
    run(
        "ada",
        [act.pay(supplier.address, Web3.to_wei(6, "ether"))],
        "# Pave the north path\n\nPaving would make the path usable by wheelchairs all year.",
        {
            "ada": ("for", "Accessibility matters."),
            "cato": ("against", "Gravel is cheaper and drains better."),
            "dara": ("against", "Let us try gravel first."),
            "eli": ("against", ""),
            "fern": ("against", "Too costly now."),
            "kai": ("for", ""),
        },
        finish=True,
    )
    run(
        "bell",
        [act.appoint_steward(a, by_handle["cato"].address)],
        "# Appoint Cato as a steward\n\nCato ran the tool shed rota all year and offered to help propose.",
        {"bell": ("for", ""), "ada": ("for", "Thank you, Cato."), "dara": ("for", ""), "lena": ("for", "")},
        finish=True,
    )
    run(
        "bell",
        [pay_token(resolve_asset(commons, "gUSD"), supplier.address, 120_500_000)],
        "# Buy spring seedlings\n\nThe co-op nursery sells the tomato, bean and squash seedlings for the beds at "
        "**120.50 gUSD**, paid from the Garden Dollars members gave.",
        {
            "bell": ("for", "Paid from what we raised for seeds."),
            "ada": ("for", ""),
            "eli": ("for", "The compost is ready for them."),
            "fern": ("for", ""),
            "hana": ("abstain", "I would rather grow them from seed."),
        },
        finish=True,
    )
    run(
        "cato",
        [act.pay(supplier.address, Web3.to_wei(0.8, "ether"))],
        "# Repair the tool shed roof\n\nThe roof leaks onto the seed store. The quote is **0.8 ETH** for new panels.\n\n"
        "Voting is open: members, please vote.",
        {"cato": ("for", "The seed store got wet twice this month."), "gus": ("for", "")},
        finish=False,
    )
    report("Demo history written.")
    return manifest


def deploy_garden_dollar(w3: Web3, deployer: NodeSigner) -> str:
    """The demo's 6-decimal stable token, Garden Dollar (gUSD); a demo token anyone may mint, not money."""
    artifact = compile_contracts()["GardenDollar"]
    data = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode).constructor().data_in_transaction
    return transact(w3, deployer, None, data)["contractAddress"]


# Who gives what, with which note: (handle or "supplier", amount, token symbol or None for ETH, note).
CONTRIBUTIONS = [
    ("dara", "0.5", None, "For the seed fund"),
    ("eli", "150", "gUSD", "Compost bins and a sieve"),
    ("gus", "0.25", None, ""),
    ("juno", "40.75", "gUSD", "From the plant sale"),
    ("supplier", "25", "gUSD", "From the co-op nursery, with thanks"),
]


def contribute_demo_funds(commons: Commons, garden_dollar: str, by_handle: dict[str, NodeSigner], supplier: NodeSigner) -> None:
    """Members (and the nursery next door) give ETH and Garden Dollars, each with a note, through the Contributions
    contract; the Garden Dollars are minted to them first."""
    mint = compile_contracts()["GardenDollar"]
    token = commons.w3.eth.contract(address=Web3.to_checksum_address(garden_dollar), abi=mint.abi)
    for who, amount, symbol, note in CONTRIBUTIONS:
        signer = supplier if who == "supplier" else by_handle[who]
        asset = resolve_asset(commons, symbol)
        units = parse_amount(amount, asset)
        if not asset.is_eth:
            transact(commons.w3, signer, token.address, token.encode_abi("mint", args=[signer.address, units]))
        for plan in plan_contribution(commons, asset, units, note, signer.address):
            commons.submit(plan, signer)


def provision_relayer(w3: Web3, keystore: Path, password_file: Path) -> str:
    """Create the local demo's relayer key, stored encrypted beside the chain state, and fund it.

    The password sits in its own file readable only by its owner; nothing is printed or logged.
    Returns the relayer's address.
    """
    if keystore.is_file():
        return "0x" + json.loads(keystore.read_text())["address"]
    if not is_development_node(w3):
        raise ConfigurationError("A demo relayer is only made on a local anvil node; give a real one COMMONS_RELAYER_KEYSTORE.")
    account = Account.create()
    password = secrets.token_urlsafe(24)
    keystore.parent.mkdir(parents=True, exist_ok=True)
    password_file.touch(mode=0o600)
    password_file.write_text(password)
    keystore.touch(mode=0o600)
    keystore.write_text(json.dumps(Account.encrypt(account.key, password)))
    transact(w3, NodeSigner(w3.eth.accounts[-1]), account.address, b"", Web3.to_wei(RELAYER_ETH, "ether"))
    return account.address
