"""Power outside the vote, attacked: a rogue steward (or anyone who held a timelock role for a while) acting on
the treasury without a vote, in ways the audit, the API and the readings must still show.
"""

from eth_utils import keccak

from api.audit_source import CacheSource
from governance import actions as act
from governance.audit import audit
from governance.power import power_on_chain
from tests.cache_support import indexer_for
from tests.helpers import SETTINGS, advance, impersonate, pass_proposal, propose, send


def test_copy_of_a_proposal_scheduled_directly_on_the_timelock_is_power_outside_the_vote(
    commons, stewards, founders, anvil_url, cache_url
):
    """A rogue who held the proposer role for a moment schedules a proposal the members never passed (its exact
    actions and salt, so the timelock operation id is the proposal's), renounces the role, and executes it once
    the delay is over. The operation id matches a proposal the governor created, but the governor never queued it."""
    w3, rogue = commons.w3, stewards[1]
    pass_proposal(commons, stewards[0], founders, [act.pay(founders[3].address, 1)], "An honest payment")  # no finding
    proposer_role = commons.timelock.functions.PROPOSER_ROLE().call()
    send(w3, impersonate(w3, commons.manifest.timelock), commons.timelock, "grantRole", proposer_role, rogue.address)
    payment = [act.pay(rogue.address, 5 * 10**18)]
    start = w3.eth.block_number
    pid = propose(commons, rogue, payment, "Pay the steward")
    [created] = commons.governor.events.ProposalCreated().get_logs(from_block=start)
    description = created["args"]["description"]
    salt = bytes(a ^ b for a, b in zip(bytes.fromhex(commons.manifest.governor[2:]) + bytes(12), keccak(text=description)))
    batch = ([rogue.address], [5 * 10**18], [b""], b"\0" * 32, salt)
    send(w3, rogue, commons.timelock, "scheduleBatch", *batch, SETTINGS.timelock_delay)
    send(w3, rogue, commons.timelock, "renounceRole", proposer_role, rogue.address)
    advance(w3, SETTINGS.timelock_delay + 1)
    before = w3.eth.get_balance(rogue.address)
    send(w3, founders[5], commons.timelock, "executeBatch", *batch)
    assert w3.eth.get_balance(rogue.address) > before  # paid, with no vote passed
    assert commons.governor.functions.state(pid).call() != 5  # the proposal was never queued by the governor

    power = power_on_chain(w3, commons.manifest)
    assert rogue.address not in power.holders["proposer"]
    assert any("directly on the timelock, not by the governor" in finding for finding in power.outside_the_vote), (
        power.outside_the_vote
    )
    [finding] = power.outside_the_vote
    assert f"scheduled by {rogue.address} directly on the timelock" in finding
    assert f"pay 5 ETH from the treasury to {rogue.address}" in finding
    indexer_for(commons.manifest, anvil_url, cache_url).sync()
    report = audit(w3, anvil_url, commons.manifest, CacheSource(cache_url))
    assert report.power_outside_the_vote == [finding]
    assert not [f for f in report.findings if "power" in f.what], report.findings  # the cache says the same
    assert CacheSource(cache_url).get("/api/commons")["power_outside_the_vote"] == [finding.replace(f"by {rogue.address} ", "")]
