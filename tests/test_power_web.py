"""On the page: a power change and an undecodable call stand out on a proposal, and power outside the vote is a
warning on the audit view (the real app, its indexer following anvil, in chromium)."""

from tests.helpers import act, propose
from tests.test_audit import grab_power
from tests.web_support import wait_indexed

pytest_plugins = ["tests.web_fixtures"]  # fixtures: server, browser, page


def test_a_power_change_and_an_unknown_call_stand_out_on_the_proposal(page, server, commons, stewards, w3):
    role = "0x" + commons.timelock.functions.PROPOSER_ROLE().call().hex()
    grant = act.contract_call(commons.manifest.timelock, "grantRole(bytes32,address)", [role, stewards[1].address])
    opaque = act.contract_call("0x000000000000000000000000000000000000bEEF", "frobnicate(uint256)", [1])
    pid = propose(commons, stewards[1], [grant, opaque], "Routine treasury maintenance")
    wait_indexed(server.url, w3)
    page.goto(f"{server.url}/#/proposal/{pid}")
    page.wait_for_selector("#actions .power-change")
    assert "⚠ Power change: this gives @founder1 the power to schedule treasury calls without a vote" in page.inner_text(
        "#actions .power-change"
    )
    assert "could not be decoded" in page.inner_text("#actions .unknown-call")
    assert page.errors == []


def test_power_outside_the_vote_is_a_warning_on_the_audit_view(page, server, commons, stewards, founders, w3):
    rogue = grab_power(commons, stewards, founders)
    wait_indexed(server.url, w3)
    page.goto(f"{server.url}/#/audit")
    page.wait_for_selector("#power-outside-the-vote")
    warning = page.inner_text("#power-outside-the-vote")
    assert "Power outside the vote" in warning and f"{rogue} holds the proposer role" in warning
    assert rogue in page.inner_text("#timelock-roles")
    assert page.errors == []
