"""Deploy a commons: timelock (treasury), membership, governor; wire the roles; write the manifest.

After deployment the deployer holds no role anywhere: the timelock owns membership, only the
governor proposes to the timelock, and the deployer renounces the timelock's admin role.
"""

import rlp
from eth_typing import ChecksumAddress
from eth_utils import keccak
from web3 import Web3

from governance.actions import check_handle
from governance.chain import Signer, transact
from governance.compiler import compile_contracts, compiler_version
from governance.errors import InvalidInput
from governance.manifest import CommonsSettings, Manifest

ANYONE = "0x0000000000000000000000000000000000000000"
# The most members who may delegate to one member: returning their votes when that member leaves costs about
# 60k gas each, so removal at this many stays near 6M gas, well inside a block.
MAX_DELEGATORS = 100


def validate(name: str, founders: list[tuple[str, str]], settings: CommonsSettings) -> None:
    """Raises InvalidInput, in words, for a deployment that cannot work; nothing is sent."""
    if not name.strip():
        raise InvalidInput("A commons needs a name.")
    if not founders:
        raise InvalidInput("A commons needs at least one founding member.")
    if not 1 <= settings.quorum_percent <= 100:
        raise InvalidInput("The quorum is a percentage of members from 1 to 100.")
    if settings.voting_period <= 0:
        raise InvalidInput("The voting period must be longer than 0 seconds.")
    if settings.late_quorum_extension > settings.voting_period:
        raise InvalidInput("The late-quorum extension cannot be longer than the voting period.")
    if not 1 <= settings.initiative_support_bps <= 10000:
        raise InvalidInput("The support an initiative needs is a share of members from 1 to 10000 basis points.")
    if settings.initiative_lifetime <= 0:
        raise InvalidInput("An initiative must stay open longer than 0 seconds.")
    if len({address.lower() for address, _ in founders}) != len(founders):
        raise InvalidInput("Each founding member must have a different address.")
    for _, handle in founders:
        check_handle(handle)
    if len({handle.lower() for _, handle in founders}) != len(founders):
        raise InvalidInput("Each founding member must have a different handle (ignoring case).")


def deploy_commons(
    w3: Web3,
    deployer: Signer,
    name: str,
    founders: list[tuple[str, str]],
    stewards: list[str],
    settings: CommonsSettings,
    max_delegators: int = MAX_DELEGATORS,
    tracked_tokens: list[str] | None = None,
) -> Manifest:
    """Deploy and wire a commons; returns its manifest (not yet saved).

    `tracked_tokens`: ERC-20 tokens the Contributions contract accepts from the start (later changed only by a vote).
    Raises InvalidInput for a bad name or settings, Reverted if the chain refuses a step.
    """
    validate(name, founders, settings)
    artifacts = compile_contracts()
    transactions: dict[str, str] = {}

    def create(contract_name: str, *args) -> ChecksumAddress:
        artifact = artifacts[contract_name]
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        data = factory.constructor(*args).data_in_transaction
        receipt = transact(w3, deployer, None, data)
        transactions[contract_name] = receipt["transactionHash"].to_0x_hex()
        return receipt["contractAddress"]

    def call(label: str, address: ChecksumAddress, contract_name: str, function: str, *args) -> None:
        contract = w3.eth.contract(address=address, abi=artifacts[contract_name].abi)
        receipt = transact(w3, deployer, address, contract.encode_abi(function, args=list(args)))
        transactions[label] = receipt["transactionHash"].to_0x_hex()

    start_block = w3.eth.block_number + 1
    timelock = create("TimelockController", settings.timelock_delay, [], [ANYONE], deployer.address)
    membership = create("Membership", name, timelock, [a for a, _ in founders], [h for _, h in founders], max_delegators)
    # Initiatives (members' own route to a vote) is a steward from the start: its address, the one after the
    # governor's, is known before either exists.
    nonce = w3.eth.get_transaction_count(deployer.address, "pending")
    initiatives_address = _create_address(deployer.address, nonce + 1)
    governor = create(
        "CommonsGovernor",
        name,
        membership,
        timelock,
        [*stewards, initiatives_address],
        (settings.voting_delay, settings.voting_period, settings.quorum_percent, settings.late_quorum_extension),
    )
    initiatives = create(
        "Initiatives",
        name,
        membership,
        governor,
        timelock,
        settings.initiative_support_bps,
        settings.initiative_lifetime,
    )
    if initiatives != initiatives_address:
        raise InvalidInput("The deployer sent another transaction during deployment; deploy again from a quiet account.")
    vote_batcher = create("VoteBatcher", governor)
    contributions = create("Contributions", timelock, list(tracked_tokens or []))
    timelock_contract = w3.eth.contract(address=timelock, abi=artifacts["TimelockController"].abi)
    proposer_role = timelock_contract.functions.PROPOSER_ROLE().call()
    canceller_role = timelock_contract.functions.CANCELLER_ROLE().call()
    admin_role = timelock_contract.functions.DEFAULT_ADMIN_ROLE().call()
    call("grantProposer", timelock, "TimelockController", "grantRole", proposer_role, governor)
    call("grantCanceller", timelock, "TimelockController", "grantRole", canceller_role, governor)
    call("renounceAdmin", timelock, "TimelockController", "renounceRole", admin_role, deployer.address)
    block = w3.eth.get_block(start_block)
    return Manifest(
        name=name,
        chain_id=w3.eth.chain_id,
        membership=membership,
        governor=governor,
        timelock=timelock,
        vote_batcher=vote_batcher,
        contributions=contributions,
        initiatives=initiatives,
        deployment_block=start_block,
        deployer=deployer.address,
        deployed_at=block["timestamp"],
        compiler_version=compiler_version(),
        settings=settings,
        founders=[{"address": Web3.to_checksum_address(a), "handle": h} for a, h in founders],
        stewards=[Web3.to_checksum_address(s) for s in stewards],
        transactions=transactions,
    )


def _create_address(sender: str, nonce: int) -> ChecksumAddress:
    """The address a contract created by `sender` with `nonce` gets (CREATE)."""
    return Web3.to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])
