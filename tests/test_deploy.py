"""Deployment: the manifest says everything about it, and afterwards the deployer holds no power at all."""

import dataclasses
import json

import pytest
from web3 import Web3
from web3.logs import DISCARD

from governance.config import get_settings
from governance.deploy import ANYONE, deploy_commons
from governance.errors import ConfigurationError, InvalidInput
from governance.manifest import load, save
from tests.helpers import SETTINGS


def test_manifest_records_the_chain_and_contract_addresses(deployed, w3):
    assert deployed.chain_id == w3.eth.chain_id
    for address in (deployed.membership, deployed.governor, deployed.timelock):
        assert Web3.is_checksum_address(address)
        assert len(w3.eth.get_code(address)) > 0


def test_manifest_records_the_deployment_transactions(deployed, w3):
    receipts = {label: w3.eth.get_transaction_receipt(tx) for label, tx in deployed.transactions.items()}
    assert set(receipts) == {
        "TimelockController",
        "Membership",
        "CommonsGovernor",
        "VoteBatcher",
        "Contributions",
        "Initiatives",
        "grantProposer",
        "grantCanceller",
        "renounceAdmin",
    }
    assert all(r["status"] == 1 for r in receipts.values())
    assert receipts["TimelockController"]["contractAddress"] == deployed.timelock
    assert receipts["Membership"]["contractAddress"] == deployed.membership
    assert receipts["CommonsGovernor"]["contractAddress"] == deployed.governor


def test_manifest_records_the_deployment_block_and_time(deployed, w3):
    blocks = [w3.eth.get_transaction_receipt(tx)["blockNumber"] for tx in deployed.transactions.values()]
    assert min(blocks) == deployed.deployment_block
    assert w3.eth.get_block(deployed.deployment_block)["timestamp"] == deployed.deployed_at


def test_manifest_records_compiler_version_and_settings(deployed):
    info = json.loads((get_settings().build_dir / "build-info.json").read_text())
    assert deployed.compiler_version == info["solcVersion"]
    assert deployed.settings == SETTINGS


def test_deployed_settings_are_the_chosen_ones(commons):
    assert commons.current_settings() == SETTINGS


def test_manifest_records_founders_and_stewards(deployed, founders, stewards, deployer):
    assert deployed.founders == [{"address": f.address, "handle": f"founder{i}"} for i, f in enumerate(founders)]
    assert deployed.stewards == [s.address for s in stewards]
    assert deployed.deployer == deployer.address
    assert deployed.name == "Test Garden"


def test_manifest_round_trips_through_its_file(deployed, tmp_path):
    path = save(deployed, tmp_path / "manifest.json")
    assert load(deployed.chain_id, path) == deployed


def test_manifest_for_another_chain_is_refused(deployed, tmp_path):
    path = save(deployed, tmp_path / "manifest.json")
    with pytest.raises(ConfigurationError, match="is for chain"):
        load(deployed.chain_id + 1, path)


def test_missing_manifest_says_how_to_deploy(tmp_path):
    with pytest.raises(ConfigurationError, match="commons deploy"):
        load(1, tmp_path / "absent.json")


def test_contracts_are_wired_together(commons):
    governor = commons.governor.functions
    assert governor.token().call() == commons.manifest.membership
    assert governor.timelock().call() == commons.manifest.timelock
    assert governor.name().call() == "Test Garden"
    assert commons.membership.functions.name().call() == "Test Garden"


def role_holders(commons) -> dict[bytes, set[str]]:
    """Who holds each timelock role now, replayed from every RoleGranted / RoleRevoked event since deployment."""
    events = commons.timelock.events
    changes = [
        (log["blockNumber"], log["logIndex"], log["args"]["role"], log["args"]["account"], granted)
        for granted, event in ((True, events.RoleGranted), (False, events.RoleRevoked))
        for log in event().get_logs(from_block=commons.manifest.deployment_block)
    ]
    holders: dict[bytes, set[str]] = {}
    for *_, role, who, granted in sorted(changes):
        (holders.setdefault(role, set()).add if granted else holders.setdefault(role, set()).discard)(who)
    return holders


def test_after_deployment_only_the_commons_holds_timelock_roles(commons):
    t = commons.timelock.functions
    roles = {
        name: getattr(t, name)().call() for name in ("DEFAULT_ADMIN_ROLE", "PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE")
    }
    assert role_holders(commons) == {
        roles["DEFAULT_ADMIN_ROLE"]: {commons.manifest.timelock},
        roles["PROPOSER_ROLE"]: {commons.manifest.governor},
        roles["CANCELLER_ROLE"]: {commons.manifest.governor},
        roles["EXECUTOR_ROLE"]: {ANYONE},
    }


def test_deployer_holds_no_timelock_role(commons, deployer):
    t = commons.timelock.functions
    for role in ("DEFAULT_ADMIN_ROLE", "PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE"):
        assert not t.hasRole(getattr(t, role)().call(), deployer.address).call(), role


def test_membership_is_owned_by_the_timelock(commons):
    assert commons.membership.functions.owner().call() == commons.manifest.timelock


def test_deployer_is_neither_member_nor_steward(commons, deployer):
    assert not commons.membership.functions.isMember(deployer.address).call()
    assert not commons.governor.functions.isSteward(deployer.address).call()


def test_founders_are_admitted_with_events(commons, founders):
    logs = commons.membership.events.MemberAdmitted().get_logs(from_block=commons.manifest.deployment_block)
    assert [(log["args"]["member"], log["args"]["handle"]) for log in logs] == [
        (f.address, f"founder{i}") for i, f in enumerate(founders)
    ]


def test_founding_stewards_are_appointed_with_events(commons, stewards):
    receipt = commons.w3.eth.get_transaction_receipt(commons.manifest.transactions["CommonsGovernor"])
    events = commons.governor.events.StewardAppointed().process_receipt(receipt, errors=DISCARD)
    # The Initiatives contract too: members' initiatives become proposals through it.
    assert [e["args"]["steward"] for e in events] == [s.address for s in stewards] + [commons.manifest.initiatives]


GOOD_FOUNDERS = [("0x" + "11" * 20, "ana"), ("0x" + "22" * 20, "ben")]


@pytest.mark.parametrize(
    "name, founders, settings, message",
    [
        ("  ", GOOD_FOUNDERS, SETTINGS, "needs a name"),
        ("Garden", [], SETTINGS, "at least one founding member"),
        ("Garden", GOOD_FOUNDERS, dataclasses.replace(SETTINGS, quorum_percent=0), "quorum"),
        ("Garden", GOOD_FOUNDERS, dataclasses.replace(SETTINGS, quorum_percent=101), "quorum"),
        ("Garden", GOOD_FOUNDERS, dataclasses.replace(SETTINGS, voting_period=0), "voting period"),
        ("Garden", GOOD_FOUNDERS, dataclasses.replace(SETTINGS, late_quorum_extension=SETTINGS.voting_period + 1), "late-quorum"),
        ("Garden", GOOD_FOUNDERS + [GOOD_FOUNDERS[0]], SETTINGS, "different address"),
        ("Garden", [("0x" + "11" * 20, "x" * 65)], SETTINGS, "handle"),
    ],
    ids=[
        "blank-name",
        "no-founders",
        "quorum-0",
        "quorum-101",
        "period-0",
        "extension-too-long",
        "duplicate-founder",
        "long-handle",
    ],
)
def test_bad_deployment_is_refused_before_anything_is_sent(w3, deployer, name, founders, settings, message):
    nonce = w3.eth.get_transaction_count(deployer.address)
    with pytest.raises(InvalidInput, match=message):
        deploy_commons(w3, deployer, name, founders, [], settings)
    assert w3.eth.get_transaction_count(deployer.address) == nonce
