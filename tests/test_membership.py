"""Membership: one member, one non-transferable token, one vote; admission, delegation, resignation, removal."""

import pytest
from web3.logs import DISCARD

from governance.chain import simulate
from governance.errors import Reverted
from tests.helpers import (
    act,
    assert_refused,
    fund,
    impersonate,
    now,
    propose,
    send,
    to_voting,
    vote,
)
from tests.helpers import test_key_signer as key_signer

SOMEONE = "0x000000000000000000000000000000000000bEEF"


@pytest.fixture
def timelock(commons):
    """The timelock, impersonated: what an executed proposal does to the registry."""
    return impersonate(commons.w3, commons.manifest.timelock)


@pytest.fixture
def newcomer(w3):
    signer = key_signer("membership-newcomer")
    fund(w3, signer.address)
    return signer


def admit(commons, timelock, account: str, handle: str) -> dict:
    return send(commons.w3, timelock, commons.membership, "admit", account, handle)


def votes(commons, account: str) -> int:
    return commons.membership.functions.getVotes(account).call()


def test_founders_are_members_with_their_handles_and_numbers(commons, founders):
    m = commons.membership.functions
    assert m.memberCount().call() == len(founders)
    for number, founder in enumerate(founders, start=1):
        assert m.isMember(founder.address).call()
        assert m.handleOf(founder.address).call() == f"founder{number - 1}"
        assert m.tokenOf(founder.address).call() == number
        assert m.ownerOf(number).call() == founder.address


def test_founders_vote_without_delegating(commons, founders):
    for founder in founders:
        assert votes(commons, founder.address) == 1
        assert commons.membership.functions.delegates(founder.address).call() == founder.address


def test_new_member_votes_from_the_moment_of_admission(commons, timelock, newcomer):
    admit(commons, timelock, newcomer.address, "newcomer")
    assert votes(commons, newcomer.address) == 1
    assert commons.membership.functions.delegates(newcomer.address).call() == newcomer.address


def test_admission_event_names_the_member_and_handle(commons, timelock, newcomer):
    receipt = admit(commons, timelock, newcomer.address, "Newcomer.seedling")
    (event,) = commons.membership.events.MemberAdmitted().process_receipt(receipt, errors=DISCARD)
    assert event["args"] == {"member": newcomer.address, "tokenId": 7, "handle": "Newcomer.seedling"}


def test_member_admitted_before_snapshot_can_vote_on_that_proposal(commons, stewards, timelock, newcomer):
    pid = propose(commons, stewards[0], [act.pay(SOMEONE, 1)], "Pending")
    admit(commons, timelock, newcomer.address, "newcomer")
    to_voting(commons, pid)
    vote(commons, newcomer, pid, "for")
    assert commons.governor.functions.proposalVotes(pid).call() == [0, 1, 0]


def test_delegation_moves_the_vote_to_another_member(commons, founders):
    commons.submit(commons.plan_delegate(founders[3].address), founders[2])
    assert votes(commons, founders[2].address) == 0
    assert votes(commons, founders[3].address) == 2


def test_delegation_can_be_taken_back(commons, founders):
    commons.submit(commons.plan_delegate(founders[3].address), founders[2])
    commons.submit(commons.plan_delegate(founders[2].address), founders[2])
    assert votes(commons, founders[2].address) == 1
    assert votes(commons, founders[3].address) == 1


def test_delegatee_votes_with_the_weight_delegated_before_the_snapshot(commons, founders, stewards):
    commons.submit(commons.plan_delegate(founders[3].address), founders[2])
    pid = propose(commons, stewards[0], [act.pay(SOMEONE, 1)], "Delegated")
    to_voting(commons, pid)
    commons.submit(commons.plan_delegate(founders[2].address), founders[2])  # after the snapshot: too late for pid
    vote(commons, founders[3], pid, "against")
    assert commons.governor.functions.proposalVotes(pid).call() == [2, 0, 0]


def test_member_can_resign(commons, founders):
    receipt = commons.submit(commons.plan_resign(), founders[2])
    m = commons.membership.functions
    assert not m.isMember(founders[2].address).call()
    assert m.tokenOf(founders[2].address).call() == 0
    assert votes(commons, founders[2].address) == 0
    assert m.memberCount().call() == len(founders) - 1
    (event,) = commons.membership.events.MemberResigned().process_receipt(receipt, errors=DISCARD)
    assert event["args"] == {"member": founders[2].address, "tokenId": 3, "handle": "founder2"}


def test_non_member_cannot_resign(commons, newcomer):
    with pytest.raises(Reverted) as refused:
        commons.submit(commons.plan_resign(), newcomer)
    assert_refused(refused, "MembershipNotMember")


def test_removal_burns_the_token_and_ends_the_vote(commons, timelock, founders):
    receipt = send(commons.w3, timelock, commons.membership, "remove", founders[4].address)
    assert not commons.membership.functions.isMember(founders[4].address).call()
    assert votes(commons, founders[4].address) == 0
    (event,) = commons.membership.events.MemberRemoved().process_receipt(receipt, errors=DISCARD)
    assert event["args"] == {"member": founders[4].address, "tokenId": 5, "handle": "founder4"}


def test_removing_a_non_member_is_refused(commons, timelock, newcomer):
    with pytest.raises(Reverted) as refused:
        send(commons.w3, timelock, commons.membership, "remove", newcomer.address)
    assert_refused(refused, "MembershipNotMember")


def test_readmitted_member_keeps_their_member_number(commons, timelock, founders):
    commons.submit(commons.plan_resign(), founders[2])
    admit(commons, timelock, founders[2].address, "back-again")
    m = commons.membership.functions
    assert m.tokenOf(founders[2].address).call() == 3
    assert m.memberNumberOf(founders[2].address).call() == 3
    assert m.handleOf(founders[2].address).call() == "back-again"
    assert votes(commons, founders[2].address) == 1


def test_leaving_and_rejoining_during_a_vote_does_not_give_a_second_vote(commons, open_proposal_and_timelock, founders):
    pid, timelock = open_proposal_and_timelock
    vote(commons, founders[2], pid, "for")
    commons.submit(commons.plan_resign(), founders[2])
    admit(commons, timelock, founders[2].address, "back-again")
    with pytest.raises(Reverted) as refused:
        vote(commons, founders[2], pid, "for")
    assert_refused(refused, "GovernorAlreadyCastVote")


@pytest.fixture
def open_proposal_and_timelock(commons, stewards, timelock):
    pid = propose(commons, stewards[0], [act.pay(SOMEONE, 1)], "Open")
    to_voting(commons, pid)
    return pid, timelock


@pytest.mark.parametrize("handle", ["", "x" * 65])
def test_handle_must_be_1_to_64_bytes(commons, timelock, newcomer, handle):
    with pytest.raises(Reverted) as refused:
        admit(commons, timelock, newcomer.address, handle)
    assert_refused(refused, "MembershipInvalidHandle")


def test_handle_of_a_non_member_is_refused(commons, newcomer):
    data = commons.membership.encode_abi("handleOf", args=[newcomer.address])
    with pytest.raises(Reverted) as refused:
        simulate(commons.w3, {"from": newcomer.address, "to": commons.manifest.membership, "data": data})
    assert_refused(refused, "MembershipNotMember")


def test_membership_and_governor_use_the_timestamp_clock(commons, w3):
    assert commons.membership.functions.CLOCK_MODE().call() == "mode=timestamp"
    assert commons.governor.functions.CLOCK_MODE().call() == "mode=timestamp"
    assert commons.membership.functions.clock().call() == now(w3)


def test_client_lists_current_members_with_handles_and_votes(commons, founders, stewards):
    commons.submit(commons.plan_resign(), founders[5])
    listed = commons.members()
    assert [m.address for m in listed] == [f.address for f in founders[:5]]
    assert [m.handle for m in listed] == [f"founder{i}" for i in range(5)]
    assert all(m.votes == 1 for m in listed)
    assert [m.address for m in listed if m.steward] == [s.address for s in stewards]


def test_a_handle_is_free_again_once_its_member_has_left(commons, timelock, founders, newcomer):
    commons.submit(commons.plan_resign(), founders[2])
    admit(commons, timelock, newcomer.address, "Founder2")
    assert commons.membership.functions.holderOfHandle("FOUNDER2").call() == newcomer.address


def test_a_member_readmitted_under_a_new_handle_frees_the_old_one(commons, timelock, founders, newcomer):
    send(commons.w3, timelock, commons.membership, "remove", founders[2].address)
    admit(commons, timelock, founders[2].address, "back-again")
    assert commons.membership.functions.holderOfHandle("founder2").call() == "0x" + "00" * 20
    admit(commons, timelock, newcomer.address, "founder2")


def test_the_delegator_limit_is_read_from_the_contract(commons):
    assert commons.membership.functions.maxDelegators().call() == 100
