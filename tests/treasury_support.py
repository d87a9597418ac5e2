"""A commons with a treasury in several assets, for the treasury tests: Garden Dollar (6 decimals) and a token
that returns no boolean (as USDT) tracked from deployment, and a history of contributions, plain transfers and a
token payment passed by vote."""

from dataclasses import dataclass

import pytest
from web3 import Web3

from governance import treasury
from governance.chain import NodeSigner, transact
from governance.client import Commons
from governance.compiler import compile_contracts
from governance.deploy import deploy_commons
from governance.manifest import Manifest
from governance.treasury_acts import plan_contribution, resolve_asset
from tests.helpers import SETTINGS, fund, pass_proposal, test_key_signer

GUSD = 10**6  # one Garden Dollar in its smallest units


def deploy_token(w3: Web3, deployer, name: str) -> str:
    artifact = compile_contracts()[name]
    data = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode).constructor().data_in_transaction
    return transact(w3, deployer, None, data)["contractAddress"]


def mint(w3: Web3, token: str, to: str, units: int) -> None:
    artifact = compile_contracts()["GardenDollar"]
    contract = w3.eth.contract(address=token, abi=artifact.abi)
    transact(w3, NodeSigner(w3.eth.accounts[0]), token, contract.encode_abi("mint", args=[to, units]))


def transfer(w3: Web3, signer, token: str, to: str, units: int) -> dict:
    return transact(w3, signer, token, treasury.TRANSFER + treasury.encode(["address", "uint256"], [to, units]))


@dataclass
class TreasuryCommons:
    manifest: Manifest
    gusd: str
    nrt: str


def deploy_treasury_commons(w3: Web3, founders: list) -> TreasuryCommons:
    deployer = NodeSigner(w3.eth.accounts[0])
    gusd = deploy_token(w3, deployer, "GardenDollar")
    nrt = deploy_token(w3, deployer, "NoReturnToken")
    manifest = deploy_commons(
        w3,
        deployer,
        "Treasury Garden",
        [(f.address, f"founder{i}") for i, f in enumerate(founders)],
        [founders[0].address, founders[1].address],
        SETTINGS,
        tracked_tokens=[gusd, nrt],
    )
    return TreasuryCommons(manifest, gusd, nrt)


def contribute(commons: Commons, signer, amount: str, token: str | None = None, note: str = "") -> list[dict]:
    asset = resolve_asset(commons, token)
    units = treasury.parse_amount(amount, asset)
    return [commons.submit(plan, signer) for plan in plan_contribution(commons, asset, units, note, signer.address)]


OUTSIDER = "outsider"


def make_treasury_history(commons: Commons, tc: TreasuryCommons, founders: list) -> dict:
    """Contributions in ETH, gUSD and the no-return token from a member and an outsider (with notes), a plain ETH
    transfer and a plain gUSD transfer to the treasury, and 12.5 gUSD paid to a gardener by vote."""
    w3 = commons.w3
    outsider = test_key_signer(OUTSIDER)
    fund(w3, outsider.address)
    member = founders[2]
    for who in (member, outsider):
        mint(w3, tc.gusd, who.address, 1_000 * GUSD)
        mint(w3, tc.nrt, who.address, 1_000 * GUSD)
    contribute(commons, member, "0.5", None, "For the seed fund")
    contribute(commons, member, "40", "gUSD", "Compost bins")
    contribute(commons, outsider, "1.25", "ETH", "From the bakery next door")
    contribute(commons, outsider, "100.000001", "gUSD", "")
    contribute(commons, outsider, "7", tc.nrt, "No-return coins")
    transact(w3, outsider, commons.manifest.timelock, b"", 2 * 10**17)  # plain ETH, no note
    transfer(w3, outsider, tc.gusd, commons.manifest.timelock, 3 * GUSD)  # plain token transfer
    gardener = test_key_signer("gardener").address
    asset = resolve_asset(commons, "gUSD")
    pay = pass_proposal(
        commons,
        founders[0],
        founders[:4],
        [treasury.pay_token(asset, gardener, treasury.parse_amount("12.5", asset))],
        "Pay the gardener",
    )
    return {"member": member.address, "outsider": outsider.address, "gardener": gardener, "pay": pay}


@pytest.fixture(scope="module")
def tc(w3, founders) -> TreasuryCommons:
    """The module's commons with a treasury in several assets."""
    return deploy_treasury_commons(w3, founders)


@pytest.fixture
def treasury_commons(w3, tc):
    """That commons, with the chain rolled back after the test (a test module names it `commons`)."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    yield Commons(w3, tc.manifest)
    w3.provider.make_request("evm_revert", [snapshot])
