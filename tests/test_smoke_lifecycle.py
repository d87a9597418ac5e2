from tests.helpers import act, pass_proposal


def test_passed_proposal_admits_a_newcomer(commons, founders, stewards):
    newcomer = "0x000000000000000000000000000000000000dEaD"
    pass_proposal(commons, stewards[0], founders, [act.admit(commons.addresses, newcomer, "newbie")], "Admit newbie")
    assert commons.membership.functions.isMember(newcomer).call()
