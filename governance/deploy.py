"""Deploy a commons: timelock (treasury), membership, governor; wire the roles; write the manifest.

After deployment the deployer holds no role anywhere: the timelock owns membership, only the
governor proposes to the timelock, and the deployer renounces the timelock's admin role.
"""

from web3 import Web3

from governance.chain import Signer, transact
from governance.compiler import compile_contracts, compiler_version
from governance.errors import InvalidInput
from governance.manifest import CommonsSettings, Manifest

ANYONE = "0x0000000000000000000000000000000000000000"


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
    if len({address.lower() for address, _ in founders}) != len(founders):
        raise InvalidInput("Each founding member must have a different address.")
    if any(not 0 < len(handle.encode()) <= 64 for _, handle in founders):
        raise InvalidInput("Every handle must be 1 to 64 bytes long.")


def deploy_commons(
    w3: Web3,
    deployer: Signer,
    name: str,
    founders: list[tuple[str, str]],
    stewards: list[str],
    settings: CommonsSettings,
) -> Manifest:
    """Deploy and wire a commons; returns its manifest (not yet saved).

    Raises InvalidInput for a bad name or settings, Reverted if the chain refuses a step.
    """
    validate(name, founders, settings)
    artifacts = compile_contracts()
    transactions: dict[str, str] = {}

    def create(contract_name: str, *args) -> str:
        artifact = artifacts[contract_name]
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        data = factory.constructor(*args).data_in_transaction
        receipt = transact(w3, deployer, None, data)
        transactions[contract_name] = receipt["transactionHash"].to_0x_hex()
        return receipt["contractAddress"]

    def call(label: str, address: str, contract_name: str, function: str, *args) -> None:
        contract = w3.eth.contract(address=address, abi=artifacts[contract_name].abi)
        receipt = transact(w3, deployer, address, contract.encode_abi(function, args=list(args)))
        transactions[label] = receipt["transactionHash"].to_0x_hex()

    start_block = w3.eth.block_number + 1
    timelock = create("TimelockController", settings.timelock_delay, [], [ANYONE], deployer.address)
    membership = create("Membership", name, timelock, [a for a, _ in founders], [h for _, h in founders])
    governor = create(
        "CommonsGovernor",
        name,
        membership,
        timelock,
        stewards,
        (settings.voting_delay, settings.voting_period, settings.quorum_percent, settings.late_quorum_extension),
    )
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
        deployment_block=start_block,
        deployer=deployer.address,
        deployed_at=block["timestamp"],
        compiler_version=compiler_version(),
        settings=settings,
        founders=[{"address": Web3.to_checksum_address(a), "handle": h} for a, h in founders],
        stewards=[Web3.to_checksum_address(s) for s in stewards],
        transactions=transactions,
    )
