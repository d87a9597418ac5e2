"""The audit: a clean cache passes; a tampered row and a forged decision-log entry are found; the CLI exits 1."""

import subprocess
import sys

import pytest
import sqlalchemy as sa

from api.audit_source import CacheSource
from api.db import make_engine
from governance.audit import audit
from governance.manifest import save
from tests.cache_support import forge_entry, indexer_for, make_history
from tests.helpers import SETTINGS, act, advance, pass_proposal, propose, send


@pytest.fixture
def audited(commons, stewards, founders, anvil_url, cache_url):
    make_history(commons, stewards, founders)
    indexer_for(commons.manifest, anvil_url, cache_url).sync()
    return cache_url


def run_audit(commons, anvil_url, url):
    return audit(commons.w3, anvil_url, commons.manifest, CacheSource(url))


def test_clean_cache_passes_the_audit(commons, anvil_url, audited):
    report = run_audit(commons, anvil_url, audited)
    assert report.ok, report.findings
    assert report.checked["votes"] == 10


def test_audit_finds_a_tampered_vote(commons, anvil_url, audited):
    with make_engine(audited).begin() as conn:
        conn.execute(sa.text("UPDATE vote SET support = 1 WHERE reason = 'too early'"))
    report = run_audit(commons, anvil_url, audited)
    assert any(f.area == "votes" for f in report.findings)


def test_audit_finds_a_tampered_tally(commons, anvil_url, audited):
    with make_engine(audited).begin() as conn:
        conn.execute(sa.text("UPDATE proposal SET votes_for = votes_for + 5 WHERE number = 3"))
    assert any("votes_for" in f.what for f in run_audit(commons, anvil_url, audited).findings)


def test_audit_finds_a_forged_entry_even_with_its_hash_recomputed(commons, anvil_url, audited):
    forge_entry(audited, "MemberAdmitted", {"handle": "impostor"})
    areas = {f.area for f in run_audit(commons, anvil_url, audited).findings}
    assert {"hash chain", "decision log"} <= areas


def test_audit_finds_a_deleted_entry(commons, anvil_url, audited):
    with make_engine(audited).begin() as conn:
        conn.execute(sa.text("DELETE FROM decision_entry WHERE seq = 5"))
    assert any(f.area == "hash chain" for f in run_audit(commons, anvil_url, audited).findings)


def test_audit_command_exits_nonzero_on_a_difference(commons, anvil_url, audited, tmp_path):
    with make_engine(audited).begin() as conn:
        conn.execute(sa.text("UPDATE member SET handle = 'someone else' WHERE handle = 'newcomer'"))
    manifest = save(commons.manifest, tmp_path / "manifest.json")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.cli",
            "audit",
            "--rpc",
            anvil_url,
            "--manifest",
            str(manifest),
            "--database-url",
            audited,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and "someone else" in result.stdout


# ---- power outside the vote ----------------------------------------------------------------------


def test_clean_commons_lists_the_timelock_roles_and_no_power_outside_the_vote(commons, anvil_url, audited):
    report = run_audit(commons, anvil_url, audited)
    assert report.timelock_roles == {
        "admin": [commons.manifest.timelock],
        "proposer": [commons.manifest.governor],
        "canceller": [commons.manifest.governor],
        "executor": ["0x0000000000000000000000000000000000000000"],
    }
    assert report.power_outside_the_vote == []


def grab_power(commons, stewards, founders) -> str:
    """What observation 1 of issue 9 did: a passed grantRole(PROPOSER_ROLE, steward), then a payment scheduled and
    executed directly on the timelock. Returns the steward's address."""
    rogue = stewards[1]
    role = "0x" + commons.timelock.functions.PROPOSER_ROLE().call().hex()
    grant = act.contract_call(commons.manifest.timelock, "grantRole(bytes32,address)", [role, rogue.address])
    pass_proposal(commons, rogue, founders, [grant], "Routine treasury maintenance")
    w3, salt, none = commons.w3, b"\1" * 32, b"\0" * 32
    send(w3, rogue, commons.timelock, "schedule", rogue.address, 5 * 10**18, b"", none, salt, SETTINGS.timelock_delay)
    advance(w3, SETTINGS.timelock_delay + 1)
    send(w3, rogue, commons.timelock, "execute", rogue.address, 5 * 10**18, b"", none, salt)
    return rogue.address


def test_power_taken_outside_the_vote_is_in_the_audit_and_the_api(commons, stewards, founders, anvil_url, cache_url):
    rogue = grab_power(commons, stewards, founders)
    indexer_for(commons.manifest, anvil_url, cache_url).sync()
    report = run_audit(commons, anvil_url, cache_url)
    assert report.ok, report.findings  # the cache says what the chain says, power included
    assert rogue in report.timelock_roles["proposer"]
    assert len(report.power_outside_the_vote) == 2
    assert report.power_outside_the_vote[0].startswith(f"{rogue} holds the proposer role on the treasury (timelock)")
    assert f"scheduled by {rogue} directly on the timelock, not by the governor" in report.power_outside_the_vote[1]
    assert f"pay 5 ETH from the treasury to {rogue}" in report.power_outside_the_vote[1]
    overview = CacheSource(cache_url).get("/api/commons")
    assert overview["timelock_roles"] == report.timelock_roles
    assert overview["power_outside_the_vote"][0] == report.power_outside_the_vote[0]


def run_audit_command(commons, anvil_url, url, tmp_path, *flags) -> subprocess.CompletedProcess:
    manifest = save(commons.manifest, tmp_path / "manifest.json")
    command = [sys.executable, "-m", "scripts.cli", "audit", "--rpc", anvil_url, "--manifest", str(manifest)]
    return subprocess.run([*command, "--database-url", url, *flags], capture_output=True, text=True, timeout=120)


def test_audit_command_exits_nonzero_on_power_outside_the_vote_unless_accepted(
    commons, stewards, founders, anvil_url, cache_url, tmp_path
):
    rogue = grab_power(commons, stewards, founders)
    indexer_for(commons.manifest, anvil_url, cache_url).sync()
    refused = run_audit_command(commons, anvil_url, cache_url, tmp_path)
    assert refused.returncode == 1, refused.stderr
    assert "Power outside the vote" in refused.stdout and rogue in refused.stdout
    accepted = run_audit_command(commons, anvil_url, cache_url, tmp_path, "--accept-power-outside-the-vote")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_the_api_flags_a_power_change_and_an_unknown_call_among_a_proposals_actions(commons, stewards, anvil_url, cache_url):
    role = "0x" + commons.timelock.functions.PROPOSER_ROLE().call().hex()
    grant = act.contract_call(commons.manifest.timelock, "grantRole(bytes32,address)", [role, stewards[1].address])
    opaque = act.contract_call("0x000000000000000000000000000000000000bEEF", "frobnicate(uint256)", [1])
    pid = propose(commons, stewards[1], [act.pay(stewards[1].address, 1), grant, opaque], "Routine treasury maintenance")
    indexer_for(commons.manifest, anvil_url, cache_url).sync()
    actions = CacheSource(cache_url).get(f"/api/proposals/{pid}")["actions"]
    assert [(a["known"], a["power_change"]) for a in actions] == [
        (True, None),
        (True, f"this gives @founder1 ({stewards[1].address}) the power to schedule treasury calls without a vote"),
        (False, None),
    ]
    assert actions[1]["in_words"] == f"Give @founder1 ({stewards[1].address}) the proposer role on the treasury (timelock)"
