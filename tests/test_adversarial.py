"""Everything the commons must refuse, each refusal by its decoded error name and in words."""

import dataclasses

import pytest

from governance import ballots
from governance.ballots import Ballot
from governance.chain import NodeSigner
from governance.client import Commons
from governance.deploy import deploy_commons
from governance.errors import Reverted
from tests.helpers import (
    SETTINGS,
    act,
    advance_to,
    assert_refused,
    fund,
    impersonate,
    pass_proposal,
    propose,
    send,
    to_deadline_passed,
    to_voting,
    vote,
)
from tests.helpers import test_key_signer as key_signer

SOMEONE = "0x000000000000000000000000000000000000bEEF"


@pytest.fixture
def outsider(w3):
    signer = key_signer("adversarial-outsider")
    fund(w3, signer.address)
    return signer


@pytest.fixture
def open_proposal(commons, stewards) -> int:
    pid = propose(commons, stewards[0], [act.pay(SOMEONE, 1)], "Buy seeds")
    to_voting(commons, pid)
    return pid


@pytest.fixture
def timelock(commons) -> NodeSigner:
    """The timelock, impersonated: acting as it is what a passed and executed proposal does."""
    return impersonate(commons.w3, commons.manifest.timelock)


def relayer(commons) -> NodeSigner:
    return NodeSigner(commons.w3.eth.accounts[8])


def signed_ballot(commons: Commons, voter, proposal_id: int, support: int = 1, domain: dict | None = None):
    nonce = commons.governor.functions.nonces(voter.address).call()
    ballot = Ballot(proposal_id, support, voter.address, nonce, extended=False)
    return ballot, ballots.sign(ballot, domain or commons.ballot_domain(), voter.account)


def submit_ballot(commons: Commons, ballot: Ballot, signature: bytes) -> dict:
    return commons.submit(commons.plan_vote_by_signature(ballot, signature), relayer(commons))


# ---- votes -----------------------------------------------------------------------------


def test_non_member_cannot_vote(commons, open_proposal, outsider):
    with pytest.raises(Reverted) as refused:
        vote(commons, outsider, open_proposal, "for")
    assert_refused(refused, "CommonsNoVotingPower")
    assert not commons.governor.functions.hasVoted(open_proposal, outsider.address).call()


def test_member_cannot_vote_twice(commons, open_proposal, founders):
    vote(commons, founders[2], open_proposal, "for")
    with pytest.raises(Reverted) as refused:
        vote(commons, founders[2], open_proposal, "against")
    reason = assert_refused(refused, "GovernorAlreadyCastVote")
    assert "already voted" in reason
    assert commons.governor.functions.proposalVotes(open_proposal).call() == [0, 1, 0]


def test_vote_of_unknown_kind_is_refused(commons, open_proposal, founders):
    data = commons.governor.encode_abi("castVote", args=[open_proposal, 3])
    with pytest.raises(Reverted) as refused:
        commons.submit(dataclasses.replace(commons.plan_vote(open_proposal, 1), data=data), founders[2])
    assert_refused(refused, "GovernorInvalidVoteType")


def test_replayed_ballot_signature_is_refused(commons, open_proposal, founders):
    ballot, signature = signed_ballot(commons, founders[2], open_proposal)
    submit_ballot(commons, ballot, signature)
    with pytest.raises(Reverted) as refused:
        submit_ballot(commons, ballot, signature)
    assert_refused(refused, "GovernorInvalidSignature")
    assert commons.governor.functions.proposalVotes(open_proposal).call() == [0, 1, 0]


def test_ballot_signed_for_another_proposal_is_refused(commons, open_proposal, founders, stewards):
    other = propose(commons, stewards[0], [act.pay(SOMEONE, 2)], "Buy tools")
    to_voting(commons, other)
    ballot, signature = signed_ballot(commons, founders[2], open_proposal)
    moved = Ballot(other, ballot.support, ballot.voter, ballot.nonce, extended=False)
    with pytest.raises(Reverted) as refused:
        submit_ballot(commons, moved, signature)
    assert_refused(refused, "GovernorInvalidSignature")


def test_ballot_signed_for_another_chain_is_refused(commons, open_proposal, founders):
    other_chain = {**commons.ballot_domain(), "chainId": commons.manifest.chain_id + 1}
    ballot, signature = signed_ballot(commons, founders[2], open_proposal, domain=other_chain)
    with pytest.raises(Reverted) as refused:
        submit_ballot(commons, ballot, signature)
    assert_refused(refused, "GovernorInvalidSignature")


def test_ballot_signed_for_another_governor_is_refused(commons, w3, deployer, founders, stewards):
    """Same name, same members, same proposal id: only the governor's address differs, and that is enough."""
    second = Commons(w3, deploy_commons(
        w3, deployer, commons.manifest.name, [(f.address, f"founder{i}") for i, f in enumerate(founders)],
        [stewards[0].address], SETTINGS))
    proposal_actions = [act.pay(SOMEONE, 1)]
    pid = propose(commons, stewards[0], proposal_actions, "Twin")
    assert propose(second, stewards[0], proposal_actions, "Twin") == pid
    to_voting(commons, pid)
    ballot, signature = signed_ballot(second, founders[2], pid)
    with pytest.raises(Reverted) as refused:
        submit_ballot(commons, ballot, signature)
    assert_refused(refused, "GovernorInvalidSignature")
    submit_ballot(second, ballot, signature)  # the same ballot is good where it was meant to go
    assert second.governor.functions.hasVoted(pid, founders[2].address).call()


def test_vote_after_the_deadline_says_voting_closed(commons, open_proposal, founders):
    to_deadline_passed(commons, open_proposal)
    with pytest.raises(Reverted) as refused:
        vote(commons, founders[2], open_proposal, "for")
    reason = assert_refused(refused, "GovernorUnexpectedProposalState")
    assert reason.startswith(f"voting on proposal {open_proposal} closed on ")
    assert "UTC" in reason


def test_vote_before_voting_opens_says_when_it_opens(commons, stewards, founders):
    pid = propose(commons, stewards[0], [act.pay(SOMEONE, 1)], "Too early")
    with pytest.raises(Reverted) as refused:
        vote(commons, founders[2], pid, "for")
    assert assert_refused(refused, "GovernorUnexpectedProposalState").startswith(f"voting on proposal {pid} opens on ")


def test_member_admitted_after_snapshot_cannot_vote(commons, open_proposal, outsider, timelock):
    send(commons.w3, timelock, commons.membership, "admit", outsider.address, "latecomer")
    assert commons.membership.functions.getVotes(outsider.address).call() == 1
    with pytest.raises(Reverted) as refused:
        vote(commons, outsider, open_proposal, "for")
    assert_refused(refused, "CommonsNoVotingPower")


def test_member_who_delegated_before_snapshot_cannot_vote_themselves(commons, stewards, founders):
    commons.submit(commons.plan_delegate(founders[3].address), founders[2])
    pid = propose(commons, stewards[0], [act.pay(SOMEONE, 1)], "Delegated")
    to_voting(commons, pid)
    with pytest.raises(Reverted) as refused:
        vote(commons, founders[2], pid, "for")
    assert_refused(refused, "CommonsNoVotingPower")
    vote(commons, founders[3], pid, "for")
    assert commons.governor.functions.proposalVotes(pid).call() == [0, 2, 0]


# ---- resignation and removal during a vote -----------------------------------------------


def test_member_who_resigns_after_snapshot_can_still_vote_on_that_proposal(commons, open_proposal, founders):
    """OpenZeppelin semantics: vote weight is read at the snapshot, so leaving afterwards does not take it back."""
    commons.submit(commons.plan_resign(), founders[2])
    assert not commons.membership.functions.isMember(founders[2].address).call()
    vote(commons, founders[2], open_proposal, "against")
    assert commons.governor.functions.proposalVotes(open_proposal).call() == [1, 0, 0]


def test_member_removed_after_snapshot_can_still_vote_on_that_proposal(commons, open_proposal, founders, timelock):
    send(commons.w3, timelock, commons.membership, "remove", founders[2].address)
    vote(commons, founders[2], open_proposal, "against")
    assert commons.governor.functions.hasVoted(open_proposal, founders[2].address).call()


def test_member_who_resigns_before_snapshot_cannot_vote_on_that_proposal(commons, stewards, founders):
    pid = propose(commons, stewards[0], [act.pay(SOMEONE, 1)], "Pending")
    commons.submit(commons.plan_resign(), founders[2])
    to_voting(commons, pid)
    with pytest.raises(Reverted) as refused:
        vote(commons, founders[2], pid, "for")
    assert_refused(refused, "CommonsNoVotingPower")


def test_resigned_member_cannot_vote_on_later_proposals(commons, stewards, founders):
    commons.submit(commons.plan_resign(), founders[2])
    pid = propose(commons, stewards[0], [act.pay(SOMEONE, 1)], "Later")
    to_voting(commons, pid)
    with pytest.raises(Reverted) as refused:
        vote(commons, founders[2], pid, "for")
    assert_refused(refused, "CommonsNoVotingPower")


def test_removed_member_cannot_vote_on_later_proposals(commons, stewards, founders):
    pass_proposal(commons, stewards[0], founders, [act.remove(commons.addresses, founders[2].address)], "Remove")
    pid = propose(commons, stewards[0], [act.pay(SOMEONE, 1)], "Later")
    to_voting(commons, pid)
    with pytest.raises(Reverted) as refused:
        vote(commons, founders[2], pid, "for")
    assert_refused(refused, "CommonsNoVotingPower")


def test_former_member_holding_delegated_votes_cannot_vote_on_later_proposals(commons, stewards, founders):
    """'A vote never leaves the commons': once the delegatee resigns, they must not vote with others' votes."""
    commons.submit(commons.plan_delegate(founders[3].address), founders[2])
    commons.submit(commons.plan_resign(), founders[3])
    pid = propose(commons, stewards[0], [act.pay(SOMEONE, 1)], "Later")
    to_voting(commons, pid)
    with pytest.raises(Reverted) as refused:
        vote(commons, founders[3], pid, "for")
    assert_refused(refused, "CommonsNoVotingPower")


def test_votes_delegated_to_a_leaving_member_return_to_their_owners(commons, founders):
    commons.submit(commons.plan_delegate(founders[3].address), founders[2])
    commons.submit(commons.plan_delegate(founders[3].address), founders[4])
    assert commons.membership.functions.delegatorsOf(founders[3].address).call() == [founders[2].address, founders[4].address]
    commons.submit(commons.plan_resign(), founders[3])
    m = commons.membership.functions
    assert [m.getVotes(f.address).call() for f in founders[2:5]] == [1, 0, 1]
    assert [m.delegates(f.address).call() for f in (founders[2], founders[4])] == [founders[2].address, founders[4].address]
    assert m.delegatorsOf(founders[3].address).call() == []


# ---- proposing, executing ----------------------------------------------------------------


def test_non_steward_cannot_propose(commons, founders):
    with pytest.raises(Reverted) as refused:
        propose(commons, founders[2], [act.pay(SOMEONE, 1)], "Not mine to ask")
    reason = assert_refused(refused, "CommonsOnlyStewards")
    assert reason.startswith("only stewards can propose")


def test_execution_before_the_timelock_delay_is_refused(commons, open_proposal, founders, w3):
    vote(commons, founders[2], open_proposal, "for")
    to_deadline_passed(commons, open_proposal)
    anyone = NodeSigner(w3.eth.accounts[9])
    commons.submit(commons.plan_lifecycle("queue", open_proposal), anyone)
    advance_to(w3, commons.governor.functions.proposalEta(open_proposal).call() - 10)
    with pytest.raises(Reverted) as refused:
        commons.submit(commons.plan_lifecycle("execute", open_proposal), anyone)
    assert_refused(refused, "TimelockUnexpectedOperationState")
    assert w3.eth.get_balance(SOMEONE) == 0


def test_execution_without_queueing_is_refused(commons, open_proposal, founders, w3):
    vote(commons, founders[2], open_proposal, "for")
    to_deadline_passed(commons, open_proposal)
    with pytest.raises(Reverted) as refused:
        commons.submit(commons.plan_lifecycle("execute", open_proposal), NodeSigner(w3.eth.accounts[9]))
    assert assert_refused(refused, "GovernorUnexpectedProposalState").endswith("needs it to be queued")


# ---- membership ------------------------------------------------------------------------


def test_membership_cannot_be_transferred_with_transfer_from(commons, founders, outsider):
    token = commons.membership.functions.tokenOf(founders[2].address).call()
    with pytest.raises(Reverted) as refused:
        send(commons.w3, founders[2], commons.membership, "transferFrom", founders[2].address, outsider.address, token)
    assert_refused(refused, "MembershipNotTransferable")
    assert commons.membership.functions.ownerOf(token).call() == founders[2].address


def test_membership_cannot_be_transferred_with_safe_transfer_from(commons, founders, outsider):
    token = commons.membership.functions.tokenOf(founders[2].address).call()
    with pytest.raises(Reverted) as refused:
        send(commons.w3, founders[2], commons.membership, "safeTransferFrom", founders[2].address, outsider.address, token)
    assert_refused(refused, "MembershipNotTransferable")


def test_approved_operator_cannot_transfer_a_membership(commons, founders, outsider):
    token = commons.membership.functions.tokenOf(founders[2].address).call()
    send(commons.w3, founders[2], commons.membership, "approve", outsider.address, token)
    with pytest.raises(Reverted) as refused:
        send(commons.w3, outsider, commons.membership, "transferFrom", founders[2].address, outsider.address, token)
    assert_refused(refused, "MembershipNotTransferable")


def test_vote_cannot_be_delegated_to_a_non_member(commons, founders, outsider):
    with pytest.raises(Reverted) as refused:
        commons.submit(commons.plan_delegate(outsider.address), founders[2])
    assert_refused(refused, "MembershipDelegateNotMember")
    assert commons.membership.functions.delegates(founders[2].address).call() == founders[2].address


def test_address_cannot_be_admitted_twice(commons, founders, timelock):
    with pytest.raises(Reverted) as refused:
        send(commons.w3, timelock, commons.membership, "admit", founders[2].address, "again")
    assert_refused(refused, "MembershipAlreadyMember")
    assert commons.membership.functions.balanceOf(founders[2].address).call() == 1


def test_proposal_admitting_an_existing_member_fails_at_execution_in_words(commons, founders, stewards):
    with pytest.raises(Reverted) as refused:
        pass_proposal(commons, stewards[0], founders, [act.admit(commons.addresses, founders[2].address, "again")], "Twice")
    assert_refused(refused, "MembershipAlreadyMember")


# ---- the deployer after deployment ---------------------------------------------------------


def test_deployer_cannot_admit_a_member(commons, deployer, outsider):
    with pytest.raises(Reverted) as refused:
        send(commons.w3, deployer, commons.membership, "admit", outsider.address, "friend")
    assert_refused(refused, "OwnableUnauthorizedAccount")


def test_deployer_cannot_remove_a_member(commons, deployer, founders):
    with pytest.raises(Reverted) as refused:
        send(commons.w3, deployer, commons.membership, "remove", founders[2].address)
    assert_refused(refused, "OwnableUnauthorizedAccount")


def test_deployer_cannot_grant_timelock_roles(commons, deployer):
    proposer_role = commons.timelock.functions.PROPOSER_ROLE().call()
    with pytest.raises(Reverted) as refused:
        send(commons.w3, deployer, commons.timelock, "grantRole", proposer_role, deployer.address)
    assert_refused(refused, "AccessControlUnauthorizedAccount")


def test_deployer_cannot_schedule_on_the_timelock(commons, deployer):
    with pytest.raises(Reverted) as refused:
        send(commons.w3, deployer, commons.timelock, "schedule", deployer.address, 10**18, b"", b"\0" * 32, b"\0" * 32,
             SETTINGS.timelock_delay)
    assert_refused(refused, "AccessControlUnauthorizedAccount")


def test_deployer_cannot_change_the_timelock_delay(commons, deployer):
    with pytest.raises(Reverted) as refused:
        send(commons.w3, deployer, commons.timelock, "updateDelay", 0)
    assert_refused(refused, "TimelockUnauthorizedCaller")


def test_deployer_cannot_appoint_a_steward(commons, deployer):
    with pytest.raises(Reverted) as refused:
        send(commons.w3, deployer, commons.governor, "appointSteward", deployer.address)
    assert_refused(refused, "GovernorOnlyExecutor")


def test_deployer_cannot_propose(commons, deployer):
    with pytest.raises(Reverted) as refused:
        propose(commons, deployer, [act.pay(deployer.address, 1)], "Mine")
    assert_refused(refused, "CommonsOnlyStewards")


def test_deployer_cannot_cancel_a_proposal(commons, deployer, stewards):
    pid = propose(commons, stewards[0], [act.pay(SOMEONE, 1)], "Not yours")
    with pytest.raises(Reverted) as refused:
        commons.submit(commons.plan_lifecycle("cancel", pid), deployer)
    assert_refused(refused, "GovernorUnableToCancel")
    assert commons.governor.functions.state(pid).call() == 0  # still pending


def test_deployer_cannot_cancel_a_queued_operation_on_the_timelock(commons, deployer, open_proposal, founders, w3):
    vote(commons, founders[2], open_proposal, "for")
    to_deadline_passed(commons, open_proposal)
    commons.submit(commons.plan_lifecycle("queue", open_proposal), NodeSigner(w3.eth.accounts[9]))
    timelock_id = timelock_operation_id(commons, open_proposal)
    assert commons.timelock.functions.isOperationPending(timelock_id).call()
    with pytest.raises(Reverted) as refused:
        send(w3, deployer, commons.timelock, "cancel", timelock_id)
    assert_refused(refused, "AccessControlUnauthorizedAccount")


def timelock_operation_id(commons: Commons, proposal_id: int) -> bytes:
    """The timelock's id for a queued proposal, as GovernorTimelockControl computes it."""
    targets, values, calldatas, description_hash = commons.governor.functions.proposalDetails(proposal_id).call()
    governor_left_aligned = bytes.fromhex(commons.manifest.governor[2:]) + bytes(12)  # bytes20(address(this))
    salt = bytes(a ^ b for a, b in zip(governor_left_aligned, description_hash))
    return commons.timelock.functions.hashOperationBatch(targets, values, calldatas, b"\0" * 32, salt).call()


def test_non_member_cannot_join_a_members_delegators(commons, founders, outsider):
    """delegatorsOf lists 'the members who delegate' to someone; an outsider's delegation is refused outright,
    so nobody can make a member costly (or impossible) to remove by piling entries onto that list."""
    with pytest.raises(Reverted) as refused:
        commons.submit(commons.plan_delegate(founders[3].address), outsider)
    assert_refused(refused, "MembershipNotMember")
    assert outsider.address not in commons.membership.functions.delegatorsOf(founders[3].address).call()


def test_a_delegator_who_resigns_leaves_the_delegates_list_and_the_delegate_can_still_leave(commons, founders):
    commons.submit(commons.plan_delegate(founders[3].address), founders[2])
    commons.submit(commons.plan_resign(), founders[2])
    assert commons.membership.functions.delegatorsOf(founders[3].address).call() == []
    commons.submit(commons.plan_resign(), founders[3])
    assert not commons.membership.functions.isMember(founders[3].address).call()
