"""A queued proposal's state follows its timelock operation, as GovernorTimelockControl's `state()` does: cancelled
directly on the timelock by a canceller it reads canceled, scheduled again (same calls and salt, so the same operation)
by a proposer it reads queued again, and run directly on the timelock it reads executed. The cache says what the chain
says at every step, in a proposal's answer and in the list filtered by state, and the audit finds the cache that
still said canceled.
"""

import pytest

from api.audit_source import CacheSource
from api.cache.tables import PROPOSALS
from api.db import make_engine
from governance import actions as act
from governance.audit import audit
from governance.chain import NodeSigner
from governance.vocabulary import PROPOSAL_STATES
from tests.cache_support import cache_rows, clean_index, indexer_for
from tests.helpers import (
    SETTINGS,
    advance,
    advance_to,
    impersonate,
    propose,
    send,
    timelock_batch,
    timelock_operation_id,
    to_deadline_passed,
    to_voting,
    vote,
)

TITLE = "Pay for the seed order"


def queued_proposal(commons, stewards, founders) -> tuple[int, tuple, str]:
    """A payment proposal passed and queued by the governor: its id, its timelock batch and operation id."""
    w3 = commons.w3
    pid = propose(commons, stewards[0], [act.pay(founders[3].address, 10**15)], TITLE)
    batch = timelock_batch(commons, pid)
    to_voting(commons, pid)
    for member in founders:
        vote(commons, member, pid, "for")
    to_deadline_passed(commons, pid)
    commons.submit(commons.plan_lifecycle("queue", pid), NodeSigner(w3.eth.accounts[9]))
    return pid, batch, "0x" + timelock_operation_id(commons, pid).hex()


def said_alike(commons, cache_url: str, pid: int) -> str:
    """The proposal's state, the same on the chain, in its answer and in the list filtered by that state."""
    on_chain = PROPOSAL_STATES[commons.governor.functions.state(pid).call()]
    source = CacheSource(cache_url)
    assert source.get(f"/api/proposals/{pid}")["state"] == on_chain
    for state in PROPOSAL_STATES:
        listed = [p["proposal_id"] for p in source.get("/api/proposals", {"state": state})["data"]]
        assert (str(pid) in listed) == (state == on_chain), (state, on_chain)
    return on_chain


def proposal_findings(report) -> list[str]:
    return [f"{f.area}: {f.what}" for f in report.findings if f.area == "proposals"]


@pytest.fixture
def rogue(commons, stewards):
    """A steward who also holds the timelock's canceller and proposer roles (granted by the timelock itself)."""
    w3, rogue = commons.w3, stewards[1]
    timelock = impersonate(w3, commons.manifest.timelock)
    for role in (commons.timelock.functions.CANCELLER_ROLE(), commons.timelock.functions.PROPOSER_ROLE()):
        send(w3, timelock, commons.timelock, "grantRole", role.call(), rogue.address)
    return rogue


def test_a_queued_proposal_cancelled_rescheduled_and_run_directly_on_the_timelock_reads_as_the_chain_says(
    commons, stewards, founders, rogue, anvil_url, cache_url
):
    w3 = commons.w3
    indexer = indexer_for(commons.manifest, anvil_url, cache_url)
    pid, batch, operation = queued_proposal(commons, stewards, founders)
    indexer.sync()
    assert said_alike(commons, cache_url, pid) == "queued"
    assert CacheSource(cache_url).get(f"/api/proposals/{pid}")["timelock_id"] == operation

    send(w3, rogue, commons.timelock, "cancel", operation)
    indexer.sync()
    assert said_alike(commons, cache_url, pid) == "canceled"

    send(w3, rogue, commons.timelock, "scheduleBatch", *batch, SETTINGS.timelock_delay)
    indexer.sync()
    assert said_alike(commons, cache_url, pid) == "queued"
    assert not proposal_findings(audit(w3, anvil_url, commons.manifest, CacheSource(cache_url)))

    advance(w3, SETTINGS.timelock_delay + 1)
    before = w3.eth.get_balance(founders[3].address)
    send(w3, founders[5], commons.timelock, "executeBatch", *batch)
    assert w3.eth.get_balance(founders[3].address) == before + 10**15
    indexer.sync()
    assert said_alike(commons, cache_url, pid) == "executed"
    # What happened stays in the proposal's timeline: the governor's queuing, then the operation's own steps.
    timeline = CacheSource(cache_url).get(f"/api/proposals/{pid}")["timeline"]
    assert [step["step"] for step in timeline] == [
        "ProposalCreated",
        "CallScheduled",
        "ProposalQueued",
        "Cancelled",
        "CallScheduled",
        "CallExecuted",
    ]
    assert not proposal_findings(audit(w3, anvil_url, commons.manifest, CacheSource(cache_url)))


def test_a_proposal_cancelled_and_scheduled_again_directly_then_executed_by_the_governor_reads_executed(
    commons, stewards, founders, rogue, anvil_url, cache_url
):
    """Scheduled again directly, the operation is pending, so the governor executes the proposal as any queued one."""
    w3 = commons.w3
    indexer = indexer_for(commons.manifest, anvil_url, cache_url)
    pid, batch, operation = queued_proposal(commons, stewards, founders)
    send(w3, rogue, commons.timelock, "cancel", operation)
    send(w3, rogue, commons.timelock, "scheduleBatch", *batch, SETTINGS.timelock_delay)
    indexer.sync()  # the queuing, the cancellation and the new scheduling in one run of events
    assert said_alike(commons, cache_url, pid) == "queued"
    advance_to(w3, commons.timelock.functions.getTimestamp(operation).call())
    commons.submit(commons.plan_lifecycle("execute", pid), NodeSigner(w3.eth.accounts[9]))
    indexer.sync()
    assert said_alike(commons, cache_url, pid) == "executed"


@pytest.mark.parametrize("fork_before", ["cancellation", "scheduling again"])
def test_a_reorg_that_drops_the_direct_steps_leaves_the_state_the_new_fork_gives(
    commons, stewards, founders, rogue, anvil_url, cache_url, tmp_path, fork_before
):
    """Forked away before the cancellation, the proposal is queued as the governor left it; before the new
    scheduling, it stays canceled. Either way the cache equals a clean index of the new fork."""
    w3 = commons.w3
    indexer = indexer_for(commons.manifest, anvil_url, cache_url)
    pid, batch, operation = queued_proposal(commons, stewards, founders)
    indexer.sync()
    if fork_before == "cancellation":
        fork_point = w3.provider.make_request("evm_snapshot", [])["result"]
    send(w3, rogue, commons.timelock, "cancel", operation)
    if fork_before == "scheduling again":
        fork_point = w3.provider.make_request("evm_snapshot", [])["result"]
    send(w3, rogue, commons.timelock, "scheduleBatch", *batch, SETTINGS.timelock_delay)
    indexer.sync()
    assert said_alike(commons, cache_url, pid) == "queued"
    w3.provider.make_request("evm_revert", [fork_point])
    for _ in range(3):  # longer than what it replaces: the new fork is canonical
        w3.provider.make_request("evm_mine", [])
    indexer.sync()
    assert said_alike(commons, cache_url, pid) == ("queued" if fork_before == "cancellation" else "canceled")
    assert cache_rows(make_engine(cache_url)) == clean_index(commons.manifest, anvil_url, tmp_path)


def test_a_reorg_elsewhere_replays_an_operation_scheduled_cancelled_and_scheduled_again_to_its_last_step(
    commons, stewards, founders, rogue, anvil_url, cache_url, tmp_path
):
    """A reorg that drops a vote on another proposal replays every timelock entry that remains, this proposal's too:
    scheduled directly by the rogue, cancelled, then queued by the governor, it must come out queued, not canceled."""
    w3 = commons.w3
    indexer = indexer_for(commons.manifest, anvil_url, cache_url)
    pid = propose(commons, stewards[0], [act.pay(founders[3].address, 10**15)], TITLE)
    batch = timelock_batch(commons, pid)
    operation = "0x" + timelock_operation_id(commons, pid).hex()
    to_voting(commons, pid)
    for member in founders:
        vote(commons, member, pid, "for")
    to_deadline_passed(commons, pid)
    send(w3, rogue, commons.timelock, "scheduleBatch", *batch, SETTINGS.timelock_delay)
    send(w3, rogue, commons.timelock, "cancel", operation)
    commons.submit(commons.plan_lifecycle("queue", pid), NodeSigner(w3.eth.accounts[9]))
    other = propose(commons, stewards[0], [act.pay(founders[4].address, 10**15)], "Another payment")
    to_voting(commons, other)
    indexer.sync()
    assert said_alike(commons, cache_url, pid) == "queued"
    fork_point = w3.provider.make_request("evm_snapshot", [])["result"]
    vote(commons, founders[0], other, "for")
    indexer.sync()
    w3.provider.make_request("evm_revert", [fork_point])
    for _ in range(3):  # longer than what it replaces: the new fork, without the vote, is canonical
        w3.provider.make_request("evm_mine", [])
    indexer.sync()
    assert said_alike(commons, cache_url, pid) == "queued"
    assert cache_rows(make_engine(cache_url)) == clean_index(commons.manifest, anvil_url, tmp_path)


def test_the_audit_finds_a_cache_that_says_canceled_when_the_chain_says_queued_again(
    commons, stewards, founders, rogue, anvil_url, cache_url
):
    w3 = commons.w3
    indexer = indexer_for(commons.manifest, anvil_url, cache_url)
    pid, batch, operation = queued_proposal(commons, stewards, founders)
    cancel = send(w3, rogue, commons.timelock, "cancel", operation)
    send(w3, rogue, commons.timelock, "scheduleBatch", *batch, SETTINGS.timelock_delay)
    indexer.sync()
    assert not proposal_findings(audit(w3, anvil_url, commons.manifest, CacheSource(cache_url)))
    # The cache as a projection that took the direct cancellation for final would have left it.
    engine = make_engine(cache_url)
    with engine.begin() as conn:
        conn.execute(
            PROPOSALS.update()
            .where(PROPOSALS.c.proposal_id == str(pid))
            .values(canceled_block=cancel["blockNumber"], canceled_tx=cancel["transactionHash"].to_0x_hex(), canceled_time=1)
        )
    engine.dispose()
    number = CacheSource(cache_url).get(f"/api/proposals/{pid}")["number"]
    assert proposal_findings(audit(w3, anvil_url, commons.manifest, CacheSource(cache_url))) == [
        f"proposals: proposal {number}: state is queued on the chain, canceled in the cache"
    ]
