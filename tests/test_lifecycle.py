"""End to end on anvil: a commons admits, pays, appoints and recalls by vote, and changes its own settings."""

import pytest

from governance.chain import NodeSigner
from governance.errors import Reverted
from governance.vocabulary import PROPOSAL_STATES
from tests.helpers import (
    SETTINGS,
    act,
    advance_to,
    assert_refused,
    fund,
    now,
    pass_proposal,
    propose,
    to_deadline_passed,
    to_voting,
    vote,
)
from tests.helpers import (
    test_key_signer as key_signer,
)

ETH = 10**18


def state_of(commons, proposal_id: int) -> str:
    return PROPOSAL_STATES[commons.governor.functions.state(proposal_id).call()]


def tallies(commons, proposal_id: int) -> tuple[int, int, int]:
    """(against, for, abstain), as the governor reports them."""
    return tuple(commons.governor.functions.proposalVotes(proposal_id).call())


def anyone(commons) -> NodeSigner:
    return NodeSigner(commons.w3.eth.accounts[9])


def queue(commons, proposal_id: int) -> dict:
    return commons.submit(commons.plan_lifecycle("queue", proposal_id), anyone(commons))


def execute(commons, proposal_id: int) -> dict:
    return commons.submit(commons.plan_lifecycle("execute", proposal_id), anyone(commons))


@pytest.fixture
def newcomer(w3):
    signer = key_signer("lifecycle-newcomer")
    fund(w3, signer.address)
    return signer


def test_commons_story_end_to_end(commons, founders, stewards, newcomer, w3):
    """Admit a newcomer by vote, who then votes to pay from the treasury, is appointed steward and recalled."""
    membership, governor = commons.membership.functions, commons.governor.functions
    recipient = key_signer("lifecycle-recipient").address

    # 1. Admit the newcomer: pending → active → succeeded → queued → executed.
    admission = propose(commons, stewards[0], [act.admit(commons.addresses, newcomer.address, "newcomer")], "Admit newcomer")
    assert state_of(commons, admission) == "pending"
    to_voting(commons, admission)
    assert state_of(commons, admission) == "active"
    for member in founders[:4]:
        vote(commons, member, admission, "for")
    vote(commons, founders[4], admission, "against")
    vote(commons, founders[5], admission, "abstain", reason="I have not met them yet")
    assert tallies(commons, admission) == (1, 4, 1)
    to_deadline_passed(commons, admission)
    assert state_of(commons, admission) == "succeeded"
    queued_at = w3.eth.get_block(queue(commons, admission)["blockNumber"])["timestamp"]
    assert state_of(commons, admission) == "queued"
    assert governor.proposalEta(admission).call() == queued_at + SETTINGS.timelock_delay
    advance_to(w3, governor.proposalEta(admission).call())
    execute(commons, admission)
    assert state_of(commons, admission) == "executed"
    assert membership.isMember(newcomer.address).call()
    assert membership.handleOf(newcomer.address).call() == "newcomer"
    assert membership.memberCount().call() == len(founders) + 1

    # 2. The newcomer votes on a later proposal that pays from the treasury; balances move exactly.
    treasury_before = w3.eth.get_balance(commons.manifest.timelock)
    assert w3.eth.get_balance(recipient) == 0
    payment = propose(commons, stewards[1], [act.pay(recipient, 3 * ETH)], "Pay for seeds")
    to_voting(commons, payment)
    vote(commons, newcomer, payment, "for")
    vote(commons, founders[2], payment, "for")
    assert governor.hasVoted(payment, newcomer.address).call()
    assert tallies(commons, payment) == (0, 2, 0)
    to_deadline_passed(commons, payment)
    assert state_of(commons, payment) == "succeeded"
    queue(commons, payment)
    assert w3.eth.get_balance(commons.manifest.timelock) == treasury_before
    advance_to(w3, governor.proposalEta(payment).call())
    execute(commons, payment)
    assert state_of(commons, payment) == "executed"
    assert w3.eth.get_balance(commons.manifest.timelock) == treasury_before - 3 * ETH
    assert w3.eth.get_balance(recipient) == 3 * ETH

    # 3. Appoint the newcomer as steward: they can propose. Recall them: they cannot any more.
    voters = founders + [newcomer]
    pass_proposal(commons, stewards[0], voters, [act.appoint_steward(commons.addresses, newcomer.address)], "Appoint")
    assert governor.isSteward(newcomer.address).call()
    own = propose(commons, newcomer, [act.pay(recipient, 1)], "The newcomer's first proposal")
    assert governor.proposalProposer(own).call() == newcomer.address
    pass_proposal(commons, stewards[0], voters, [act.recall_steward(commons.addresses, newcomer.address)], "Recall")
    assert not governor.isSteward(newcomer.address).call()
    with pytest.raises(Reverted) as refused:
        propose(commons, newcomer, [act.pay(recipient, 2)], "After the recall")
    assert_refused(refused, "CommonsOnlyStewards")
    assert w3.eth.get_balance(commons.manifest.timelock) == treasury_before - 3 * ETH


def test_proposal_without_quorum_is_defeated(commons, stewards):
    pid = propose(commons, stewards[0], [act.pay(stewards[0].address, ETH)], "Nobody cares")
    to_deadline_passed(commons, pid)
    assert state_of(commons, pid) == "defeated"


def test_proposal_with_more_against_than_for_is_defeated(commons, founders, stewards):
    pid = propose(commons, stewards[0], [act.pay(stewards[0].address, ETH)], "Contested")
    to_voting(commons, pid)
    vote(commons, founders[0], pid, "for")
    vote(commons, founders[1], pid, "against")
    vote(commons, founders[2], pid, "against")
    to_deadline_passed(commons, pid)
    assert tallies(commons, pid) == (2, 1, 0)
    assert state_of(commons, pid) == "defeated"


def test_tie_between_for_and_against_is_defeated(commons, founders, stewards):
    pid = propose(commons, stewards[0], [act.pay(stewards[0].address, ETH)], "Tied")
    to_voting(commons, pid)
    vote(commons, founders[0], pid, "for")
    vote(commons, founders[1], pid, "against")
    to_deadline_passed(commons, pid)
    assert state_of(commons, pid) == "defeated"


def test_abstentions_count_toward_quorum_but_not_for_passing(commons, founders, stewards):
    """Quorum is 30 % of 6 members = 1; one Abstain meets it, one For then carries the vote."""
    pid = propose(commons, stewards[0], [act.pay(stewards[0].address, ETH)], "Quiet")
    to_voting(commons, pid)
    vote(commons, founders[0], pid, "abstain")
    vote(commons, founders[1], pid, "for")
    to_deadline_passed(commons, pid)
    assert commons.governor.functions.quorum(commons.governor.functions.proposalSnapshot(pid).call()).call() == 1
    assert state_of(commons, pid) == "succeeded"


def test_defeated_proposal_cannot_be_queued(commons, stewards):
    pid = propose(commons, stewards[0], [act.pay(stewards[0].address, ETH)], "Nobody cares")
    to_deadline_passed(commons, pid)
    with pytest.raises(Reverted) as refused:
        queue(commons, pid)
    reason = assert_refused(refused, "GovernorUnexpectedProposalState")
    assert "defeated" in reason and "succeeded" in reason


def test_executed_proposal_cannot_be_executed_again(commons, founders, stewards, w3):
    recipient = key_signer("lifecycle-once").address
    pid = pass_proposal(commons, stewards[0], founders, [act.pay(recipient, ETH)], "Pay once")
    with pytest.raises(Reverted) as refused:
        execute(commons, pid)
    assert_refused(refused, "GovernorUnexpectedProposalState")
    assert w3.eth.get_balance(recipient) == ETH


def test_late_quorum_extends_the_deadline(commons, founders, stewards, w3):
    """Quorum reached in the last minute keeps voting open for the late-quorum extension after that vote."""
    governor = commons.governor.functions
    pid = propose(commons, stewards[0], [act.pay(stewards[0].address, ETH)], "Late")
    original_deadline = governor.proposalDeadline(pid).call()
    advance_to(w3, original_deadline - 60)
    voted_at = w3.eth.get_block(vote(commons, founders[0], pid, "for")["blockNumber"])["timestamp"]
    assert governor.proposalDeadline(pid).call() == voted_at + SETTINGS.late_quorum_extension
    advance_to(w3, original_deadline)
    assert state_of(commons, pid) == "active"
    vote(commons, founders[1], pid, "against")
    vote(commons, founders[2], pid, "against")
    to_deadline_passed(commons, pid)
    assert state_of(commons, pid) == "defeated"


def test_voting_period_changed_by_proposal_applies_to_later_proposals(commons, founders, stewards):
    pass_proposal(commons, stewards[0], founders, [act.change_setting(commons.addresses, "voting-period", 7200)], "Longer votes")
    governor = commons.governor.functions
    assert governor.votingPeriod().call() == 7200
    pid = propose(commons, stewards[0], [act.pay(stewards[0].address, 1)], "Under the new period")
    assert governor.proposalDeadline(pid).call() - governor.proposalSnapshot(pid).call() == 7200


def test_voting_delay_changed_by_proposal_applies_to_later_proposals(commons, founders, stewards, w3):
    pass_proposal(commons, stewards[0], founders, [act.change_setting(commons.addresses, "voting-delay", 600)], "Slower start")
    governor = commons.governor.functions
    assert governor.votingDelay().call() == 600
    pid = propose(commons, stewards[0], [act.pay(stewards[0].address, 1)], "Under the new delay")
    assert governor.proposalSnapshot(pid).call() == now(w3) + 600


def test_quorum_changed_by_proposal_applies_to_later_proposals(commons, founders, stewards):
    """At 50 % of 6 members the quorum is 3: two For votes, enough before, now defeat the proposal."""
    pass_proposal(commons, stewards[0], founders, [act.change_setting(commons.addresses, "quorum", 50)], "Higher quorum")
    governor = commons.governor.functions
    assert governor.quorumNumerator().call() == 50
    pid = propose(commons, stewards[0], [act.pay(stewards[0].address, 1)], "Under the new quorum")
    to_voting(commons, pid)
    vote(commons, founders[0], pid, "for")
    vote(commons, founders[1], pid, "for")
    to_deadline_passed(commons, pid)
    assert governor.quorum(governor.proposalSnapshot(pid).call()).call() == 3
    assert state_of(commons, pid) == "defeated"


def test_timelock_delay_changed_by_proposal_applies_to_later_queues(commons, founders, stewards, w3):
    pass_proposal(commons, stewards[0], founders, [act.change_setting(commons.addresses, "timelock-delay", 900)], "Longer wait")
    assert commons.timelock.functions.getMinDelay().call() == 900
    pid = propose(commons, stewards[0], [act.pay(stewards[0].address, 1)], "Under the new delay")
    to_voting(commons, pid)
    vote(commons, founders[0], pid, "for")
    to_deadline_passed(commons, pid)
    queued_at = w3.eth.get_block(queue(commons, pid)["blockNumber"])["timestamp"]
    assert commons.governor.functions.proposalEta(pid).call() == queued_at + 900


def test_late_quorum_extension_changed_by_proposal(commons, founders, stewards):
    pass_proposal(commons, stewards[0], founders, [act.change_setting(commons.addresses, "late-quorum-extension", 60)], "Shorter")
    assert commons.governor.functions.lateQuorumVoteExtension().call() == 60
    assert commons.current_settings().late_quorum_extension == 60
