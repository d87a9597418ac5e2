"""Stewards: appointed and recalled by the members' vote; only stewards propose."""

import pytest

from governance.errors import Reverted
from tests.helpers import act, assert_refused, fund, pass_proposal, propose, send, to_voting, vote
from tests.helpers import test_key_signer as key_signer

SOMEONE = "0x000000000000000000000000000000000000bEEF"


@pytest.fixture
def outsider(w3):
    signer = key_signer("stewards-outsider")
    fund(w3, signer.address)
    return signer


def test_founding_stewards_are_stewards(commons, stewards, founders):
    governor = commons.governor.functions
    assert all(governor.isSteward(s.address).call() for s in stewards)
    assert not any(governor.isSteward(f.address).call() for f in founders[2:])
    assert commons.stewards() == [s.address for s in stewards]


def test_appointed_steward_can_propose(commons, founders, stewards):
    pass_proposal(commons, stewards[0], founders, [act.appoint_steward(commons.addresses, founders[2].address)], "Appoint")
    assert commons.governor.functions.isSteward(founders[2].address).call()
    assert founders[2].address in commons.stewards()
    pid = propose(commons, founders[2], [act.pay(SOMEONE, 1)], "My first proposal")
    assert commons.governor.functions.proposalProposer(pid).call() == founders[2].address


def test_recalled_steward_can_no_longer_propose(commons, founders, stewards):
    pass_proposal(commons, stewards[0], founders, [act.recall_steward(commons.addresses, stewards[1].address)], "Recall")
    assert not commons.governor.functions.isSteward(stewards[1].address).call()
    assert commons.stewards() == [stewards[0].address]
    with pytest.raises(Reverted) as refused:
        propose(commons, stewards[1], [act.pay(SOMEONE, 1)], "After the recall")
    assert_refused(refused, "CommonsOnlyStewards")


def test_steward_may_recall_themselves_by_proposal(commons, founders, stewards):
    pass_proposal(commons, stewards[0], founders, [act.recall_steward(commons.addresses, stewards[0].address)], "Step down")
    assert not commons.governor.functions.isSteward(stewards[0].address).call()


def test_steward_who_is_not_a_member_can_propose_but_not_vote(commons, founders, stewards, outsider):
    pass_proposal(commons, stewards[0], founders, [act.appoint_steward(commons.addresses, outsider.address)], "Appoint")
    pid = propose(commons, outsider, [act.pay(SOMEONE, 1)], "From an outside steward")
    to_voting(commons, pid)
    with pytest.raises(Reverted) as refused:
        vote(commons, outsider, pid, "for")
    assert_refused(refused, "CommonsNoVotingPower")


def test_steward_cannot_appoint_a_steward_directly(commons, stewards, outsider):
    with pytest.raises(Reverted) as refused:
        send(commons.w3, stewards[0], commons.governor, "appointSteward", outsider.address)
    assert_refused(refused, "GovernorOnlyExecutor")


def test_steward_cannot_recall_a_steward_directly(commons, stewards):
    with pytest.raises(Reverted) as refused:
        send(commons.w3, stewards[0], commons.governor, "recallSteward", stewards[1].address)
    assert_refused(refused, "GovernorOnlyExecutor")


def test_appointing_a_steward_twice_fails_at_execution(commons, founders, stewards):
    with pytest.raises(Reverted) as refused:
        pass_proposal(commons, stewards[0], founders, [act.appoint_steward(commons.addresses, stewards[1].address)], "Again")
    assert_refused(refused, "CommonsAlreadySteward")


def test_recalling_a_non_steward_fails_at_execution(commons, founders, stewards):
    with pytest.raises(Reverted) as refused:
        pass_proposal(commons, stewards[0], founders, [act.recall_steward(commons.addresses, founders[3].address)], "Who?")
    assert_refused(refused, "CommonsNotSteward")
