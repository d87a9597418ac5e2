"""Everything the commons must refuse, each refusal by its decoded error name and in words."""

import dataclasses

import pytest

from governance import ballots
from governance.ballots import Ballot
from governance.chain import NodeSigner, wait_for_canonical_receipt
from governance.client import Commons
from governance.deploy import deploy_commons
from governance.errors import Reverted
from tests.helpers import (
    SETTINGS,
    act,
    advance,
    advance_to,
    assert_refused,
    fund,
    impersonate,
    pass_proposal,
    propose,
    send,
    timelock_operation_id,
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
    second = Commons(
        w3,
        deploy_commons(
            w3,
            deployer,
            commons.manifest.name,
            [(f.address, f"founder{i}") for i, f in enumerate(founders)],
            [stewards[0].address],
            SETTINGS,
        ),
    )
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
    assert reason.startswith("voting on ") and " closed on " in reason
    assert "UTC" in reason


def test_vote_before_voting_opens_says_when_it_opens(commons, stewards, founders):
    pid = propose(commons, stewards[0], [act.pay(SOMEONE, 1)], "Too early")
    with pytest.raises(Reverted) as refused:
        vote(commons, founders[2], pid, "for")
    reason = assert_refused(refused, "GovernorUnexpectedProposalState")
    assert reason.startswith("voting on ") and " opens on " in reason


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
    assert "when its timelock delay ends" in refused.value.reason
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
        send(
            commons.w3,
            deployer,
            commons.timelock,
            "schedule",
            deployer.address,
            10**18,
            b"",
            b"\0" * 32,
            b"\0" * 32,
            SETTINGS.timelock_delay,
        )
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


# ---- issue 9: no power outside the vote ----------------------------------------------------------


def _role(commons: Commons, name: str) -> str:
    return "0x" + getattr(commons.timelock.functions, name)().call().hex()


def test_a_proposal_granting_a_timelock_role_reads_in_words_as_a_power_change(commons, stewards):
    """Observed: 'Call 0x6BdB… with data 0x2f2ff15d… (68 bytes)' was the timelock's grantRole(PROPOSER_ROLE, steward)."""
    steward = stewards[0].address
    action = act.contract_call(
        commons.manifest.timelock, "grantRole(bytes32,address)", [_role(commons, "PROPOSER_ROLE"), steward]
    )
    reading = act.read(action, commons.addresses)
    assert reading.words == f"Give {steward} the proposer role on the treasury (timelock)"
    assert reading.known
    assert reading.power == f"this gives {steward} the power to schedule treasury calls without a vote"


def test_power_taken_through_a_passed_proposal_is_reported_as_power_outside_the_vote(commons, stewards, founders, w3):
    from governance.power import power_on_chain

    rogue = stewards[1]
    grant = act.contract_call(
        commons.manifest.timelock, "grantRole(bytes32,address)", [_role(commons, "PROPOSER_ROLE"), rogue.address]
    )
    pass_proposal(commons, stewards[1], founders, [grant], "Routine treasury maintenance")
    salt, no_predecessor = b"\1" * 32, b"\0" * 32
    send(w3, rogue, commons.timelock, "schedule", rogue.address, 5 * 10**18, b"", no_predecessor, salt, SETTINGS.timelock_delay)
    advance_to(w3, w3.eth.get_block("latest")["timestamp"] + SETTINGS.timelock_delay)
    send(w3, rogue, commons.timelock, "execute", rogue.address, 5 * 10**18, b"", no_predecessor, salt)

    power = power_on_chain(w3, commons.manifest)
    assert rogue.address in power.holders["proposer"]
    assert power.holders["executor"] == ["0x0000000000000000000000000000000000000000"]
    outside = " ".join(power.outside_the_vote)
    assert f"{rogue.address} holds the proposer role" in outside
    assert "scheduled by " in outside and "not by the governor" in outside


def test_the_deployer_holds_no_timelock_role_and_nothing_is_outside_the_vote(commons):
    from governance.power import power_on_chain

    power = power_on_chain(commons.w3, commons.manifest)
    everyone = {who for holders in power.holders.values() for who in holders}
    assert commons.manifest.deployer not in everyone
    assert power.holders["proposer"] == [commons.manifest.governor]
    assert power.holders["canceller"] == [commons.manifest.governor]
    assert power.outside_the_vote == []


def _mempool_input(w3, sender: str) -> str:
    pending = w3.provider.make_request("txpool_content", [])["result"]["pending"]
    (tx,) = {k.lower(): v for k, v in pending.items()}[sender.lower()].values()
    return tx["input"]


def _send_now(w3, signer, to: str, data, tip_gwei: int) -> bytes:
    base = w3.eth.get_block("latest")["baseFeePerGas"]
    tip = tip_gwei * 10**9
    tx = {
        "from": signer.address,
        "to": to,
        "data": data,
        "value": 0,
        "gas": 3_000_000,
        "nonce": w3.eth.get_transaction_count(signer.address, "pending"),
        "chainId": w3.eth.chain_id,
        "maxFeePerGas": 2 * base + tip,
        "maxPriorityFeePerGas": tip,
    }
    return signer.send(w3, tx)


def test_a_propose_copied_from_the_mempool_reverts_and_the_honest_proposal_stands(commons, stewards, w3):
    """Observed: a rogue steward front-ran another's propose with a copy, became its proposer, and cancelled it."""
    honest, rogue = stewards
    proposal_actions = [act.recall_steward(commons.addresses, rogue.address)]
    description = "# Recall the rogue steward\n\nThey squat our proposals."
    plan = commons.plan_propose(proposal_actions, description, honest.address)
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        honest_tx = _send_now(w3, honest, plan.to, plan.data, tip_gwei=1)
        copied = _mempool_input(w3, honest.address)
        rogue_tx = _send_now(w3, rogue, plan.to, copied, tip_gwei=50)  # pays more, so it is mined first
        w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    rogue_receipt, honest_receipt = w3.eth.get_transaction_receipt(rogue_tx), w3.eth.get_transaction_receipt(honest_tx)
    assert rogue_receipt["transactionIndex"] < honest_receipt["transactionIndex"]
    assert rogue_receipt["status"] == 0
    assert honest_receipt["status"] == 1
    pid = commons.proposal_id_of(proposal_actions, description, honest.address)
    assert commons.governor.functions.proposalProposer(pid).call() == honest.address
    with pytest.raises(Reverted) as refused:
        commons.submit(commons.plan_lifecycle("cancel", pid), rogue)
    assert_refused(refused, "GovernorUnableToCancel")


def test_the_text_shown_has_no_proposer_suffix(commons, stewards):
    pid = propose(commons, stewards[0], [act.pay(SOMEONE, 1)], "Bound")
    view = commons.proposal(pid)
    assert view.description == "# Bound\n\nDetails."
    raw = commons.descriptions()[pid]
    assert raw.endswith(f"#proposer={stewards[0].address}")


def test_cancelling_a_canceled_proposal_says_it_is_already_canceled(commons, stewards):
    pid = propose(commons, stewards[0], [act.pay(SOMEONE, 1)], "Twice cancelled")
    commons.submit(commons.plan_lifecycle("cancel", pid), stewards[0])
    with pytest.raises(Reverted) as refused:
        commons.submit(commons.plan_lifecycle("cancel", pid), stewards[0])
    assert "is already canceled" in assert_refused(refused, "GovernorUnableToCancel")


def _become_members(w3, commons: Commons, count: int, label: str) -> list[NodeSigner]:
    """`count` new members admitted by the (impersonated) timelock, sent without estimating: fast enough for hundreds."""
    timelock = impersonate(w3, commons.manifest.timelock)
    members = []
    for i in range(count):
        member = impersonate(w3, key_signer(f"{label}-{i}").address)
        fund(w3, member.address)
        data = commons.membership.encode_abi("admit", args=[member.address, f"{label}-{i}"])
        last = w3.eth.send_transaction(
            {"from": timelock.address, "to": commons.manifest.membership, "data": data, "gas": 400_000}
        )
        members.append(member)
    assert wait_for_canonical_receipt(w3, last, poll=0.005)["status"] == 1
    return members


def _delegate_fast(w3, commons: Commons, member: NodeSigner, to: str) -> dict:
    data = commons.membership.encode_abi("delegate", args=[to])
    tx_hash = w3.eth.send_transaction({"from": member.address, "to": commons.manifest.membership, "data": data, "gas": 600_000})
    return wait_for_canonical_receipt(w3, tx_hash, poll=0.005)


def test_a_member_holding_the_most_delegations_allowed_can_still_be_removed_within_a_block(commons, founders, w3):
    """Observed: removal returned every delegated vote in a loop, ~63k gas each: ~480 delegators made removal impossible."""
    cap = commons.membership.functions.maxDelegators().call()
    assert 0 < cap <= 200
    delegate = founders[3].address
    delegators = _become_members(w3, commons, cap + 1, "delegator")
    for member in delegators[:cap]:
        assert _delegate_fast(w3, commons, member, delegate)["status"] == 1
    with pytest.raises(Reverted) as refused:
        commons.submit(commons.plan_delegate(delegate), delegators[cap])
    assert_refused(refused, "MembershipTooManyDelegators")
    # Estimated in the same second as the last delegation, each returned vote would update a checkpoint in place;
    # mined a second later it writes a new one. Let a second pass, as blocks on a real chain do.
    advance(w3, 1)
    timelock = impersonate(w3, commons.manifest.timelock)
    receipt = send(w3, timelock, commons.membership, "remove", delegate)
    assert receipt["gasUsed"] < 10_000_000
    m = commons.membership.functions
    assert all(m.getVotes(d.address).call() == 1 for d in delegators)
    assert m.getVotes(delegate).call() == 0


@pytest.mark.parametrize("handle", ["FOUNDER2", "founder2", "Founder2"])
def test_a_handle_in_use_cannot_be_taken_again_whatever_its_case(commons, founders, outsider, timelock, handle):
    """Observed: a second member admitted as 'ada' showed as @ada in vote lists next to the first."""
    with pytest.raises(Reverted) as refused:
        send(commons.w3, timelock, commons.membership, "admit", outsider.address, handle)
    assert f"the handle {handle!r} is taken: {founders[2].address}" in assert_refused(refused, "MembershipHandleTaken")


@pytest.mark.parametrize("handle", ["ada lovelace", "ada\u202e", "аda", "ada@home", "<b>ada</b>"])
def test_a_handle_outside_the_safe_characters_is_refused(commons, outsider, timelock, handle):
    with pytest.raises(Reverted) as refused:
        send(commons.w3, timelock, commons.membership, "admit", outsider.address, handle)
    assert_refused(refused, "MembershipInvalidHandle")
