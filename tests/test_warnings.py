"""Dry-run warnings: actions that cannot work or change nothing are said in sentences, and nothing is refused."""

import json

from governance.warnings import proposal_warnings
from tests.helpers import SETTINGS, TREASURY_WEI, act, key_of, propose
from tests.helpers import test_key_signer as key_signer

pytest_plugins = ["tests.cli_support"]  # the `run` fixture

NEWCOMER = key_signer("warnings-newcomer").address


def warnings(commons, *proposal_actions) -> list[str]:
    return proposal_warnings(commons, list(proposal_actions))


def test_sensible_actions_bring_no_warning(commons, founders):
    a = commons.addresses
    assert (
        warnings(commons, act.admit(a, NEWCOMER, "newcomer"), act.pay(NEWCOMER, 10**18), act.remove(a, founders[3].address)) == []
    )


def test_paying_more_than_the_treasury_holds_is_warned(commons):
    (said,) = warnings(commons, act.pay(NEWCOMER, TREASURY_WEI), act.pay(NEWCOMER, 1))
    assert said == (
        "the treasury holds 100 ETH but this proposal pays 100.000000000000000001 ETH: "
        "it will fail at execution unless the treasury is funded first"
    )


def test_admitting_a_current_member_is_warned(commons, founders):
    (said,) = warnings(commons, act.admit(commons.addresses, founders[2].address, "again"))
    assert said == f"@founder2 ({founders[2].address}) is already a member: admitting them again will fail"


def test_a_taken_handle_is_warned_whatever_its_case(commons, founders):
    (said,) = warnings(commons, act.admit(commons.addresses, NEWCOMER, "FOUNDER3"))
    assert (
        said
        == f"the handle “FOUNDER3” is taken by @founder3 ({founders[3].address}): the admission will fail unless they leave first"
    )


def test_removing_a_non_member_is_warned(commons):
    assert warnings(commons, act.remove(commons.addresses, NEWCOMER)) == [f"{NEWCOMER} is not a member: removing them will fail"]


def test_recalling_a_non_steward_is_warned(commons, founders):
    (said,) = warnings(commons, act.recall_steward(commons.addresses, founders[4].address))
    assert said.endswith("is not a steward: recalling them will fail")


def test_appointing_a_current_steward_or_a_non_member_is_warned(commons, stewards):
    a = commons.addresses
    assert warnings(commons, act.appoint_steward(a, stewards[0].address)) == [
        f"@founder0 ({stewards[0].address}) is already a steward: appointing them again will fail"
    ]
    assert warnings(commons, act.appoint_steward(a, NEWCOMER)) == [
        f"{NEWCOMER} is not a member: as a steward they could propose but not vote"
    ]


def test_a_setting_to_its_current_value_is_warned(commons):
    a = commons.addresses
    assert warnings(commons, act.change_setting(a, "timelock-delay", SETTINGS.timelock_delay)) == [
        "the timelock delay is already 5 minutes: this changes nothing"
    ]
    assert warnings(commons, act.change_setting(a, "quorum", SETTINGS.quorum_percent)) == [
        "the quorum is already 30% of members: this changes nothing"
    ]
    assert warnings(commons, act.change_setting(a, "voting-period", SETTINGS.voting_period + 1)) == []


def test_an_action_identical_to_an_open_proposals_is_warned(commons, stewards):
    payment = act.pay(NEWCOMER, 10**18)
    propose(commons, stewards[0], [act.pay(NEWCOMER, 5)], "First")
    propose(commons, stewards[0], [payment], "Second")
    assert warnings(commons, payment) == [
        f"“Pay 1 ETH from the treasury to {NEWCOMER}” is identical to an action of #2, which is still pending"
    ]


def test_dry_run_prints_the_warnings_and_still_simulates(run, commons, stewards, founders):
    result = run("propose", "remove", NEWCOMER, "--text", str(run.text), "--dry-run", key=key_of(stewards[0]))
    assert result.returncode == 0, result.stderr
    assert f"Warning: {NEWCOMER} is not a member: removing them will fail" in " ".join(result.stdout.split())
    assert "Simulation succeeded" in result.stdout
    as_json = json.loads(
        run("propose", "remove", NEWCOMER, "--text", str(run.text), "--dry-run", "--json", key=key_of(stewards[0])).stdout
    )
    assert as_json["warnings"] == [f"{NEWCOMER} is not a member: removing them will fail"] and not as_json["sent"]


def test_propose_call_takes_hex_for_bytes32_and_shows_the_power_change(run, commons, stewards):
    role = "0x" + commons.timelock.functions.PROPOSER_ROLE().call().hex()
    args = json.dumps([role, stewards[1].address])
    result = run(
        "propose", "call", commons.manifest.timelock, "grantRole(bytes32,address)", args, "--text", str(run.text), "--dry-run",
        key=key_of(stewards[0]),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    shown = " ".join(result.stdout.split())
    assert f"Give @founder1 ({stewards[1].address}) the proposer role on the treasury (timelock)" in shown
    assert f"⚠ Power change: this gives @founder1 ({stewards[1].address}) the power to schedule treasury calls" in shown
