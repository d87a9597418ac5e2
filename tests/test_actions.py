"""Proposal actions: encoded from what a steward asks, decoded back into words; bad input refused clearly."""

import pytest
from eth_abi import decode

from governance import actions as act
from governance.errors import InvalidInput
from tests.helpers import propose

ADDRESSES = act.Addresses("0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20)
ANA = "0x" + "ab" * 20
ANA_CHECKSUM = act.checked_address(ANA)


def test_admit_reads_back_in_words():
    assert act.describe(act.admit(ADDRESSES, ANA, "Ana 🌻"), ADDRESSES) == f"Admit {ANA_CHECKSUM} as a member with the handle “Ana 🌻”"


def test_remove_reads_back_in_words():
    assert act.describe(act.remove(ADDRESSES, ANA), ADDRESSES) == f"Remove {ANA_CHECKSUM} from the membership"


def test_appoint_steward_reads_back_in_words():
    assert act.describe(act.appoint_steward(ADDRESSES, ANA), ADDRESSES) == f"Appoint {ANA_CHECKSUM} as a steward"


def test_recall_steward_reads_back_in_words():
    assert act.describe(act.recall_steward(ADDRESSES, ANA), ADDRESSES) == f"Recall {ANA_CHECKSUM} as a steward"


def test_payment_reads_back_in_words():
    action = act.pay(ANA, act.parse_eth("1.5"))
    assert action.value == 1_500_000_000_000_000_000 and action.calldata == b""
    assert act.describe(action, ADDRESSES) == f"Pay 1.5 ETH from the treasury to {ANA_CHECKSUM}"


@pytest.mark.parametrize("name, value, words", [
    ("voting-delay", 120, "Set the voting delay to 120 seconds"),
    ("voting-period", 7200, "Set the voting period to 7200 seconds"),
    ("quorum", 40, "Set the quorum to 40 percent"),
    ("late-quorum-extension", 600, "Set the late quorum extension to 600 seconds"),
    ("timelock-delay", 3600, "Set the timelock delay to 3600 seconds"),
])
def test_setting_change_reads_back_in_words(name, value, words):
    action = act.change_setting(ADDRESSES, name, value)
    assert action.target == (ADDRESSES.timelock if name == "timelock-delay" else ADDRESSES.governor)
    assert act.describe(action, ADDRESSES) == words


def test_contract_call_encodes_its_arguments():
    action = act.contract_call(ANA, "transfer(address, uint256)", [ADDRESSES.membership, 5], value=7)
    assert action.calldata[:4].hex() == "a9059cbb"
    assert decode(["address", "uint256"], action.calldata[4:]) == (ADDRESSES.membership, 5)
    assert action.value == 7


def test_unknown_call_reads_back_as_target_and_selector():
    action = act.contract_call(ANA, "transfer(address,uint256)", [ADDRESSES.membership, 5])
    assert act.describe(action, ADDRESSES) == f"Call {ANA_CHECKSUM} with data 0xa9059cbb… (68 bytes)"


def test_known_call_to_a_foreign_contract_is_not_mistaken_for_ours():
    """admit(address,string) on some other contract is not an admission to this commons."""
    action = act.contract_call(ANA, "admit(address,string)", [ANA, "x"])
    assert act.describe(action, ADDRESSES).startswith(f"Call {ANA_CHECKSUM}")


def test_malformed_calldata_to_our_contract_is_shown_raw():
    action = act.Action(ADDRESSES.membership, 0, act.admit(ADDRESSES, ANA, "x").calldata[:10])
    assert act.describe(action, ADDRESSES).startswith(f"Call {ADDRESSES.membership} with data 0x")


def test_proposal_title_is_the_first_line():
    assert act.proposal_title("# Buy seeds\n\nFor spring.") == "Buy seeds"
    assert act.proposal_title("") == "(untitled)"


def test_actions_read_back_in_words_from_the_chain(commons, stewards):
    proposal_actions = [act.admit(commons.addresses, ANA, "ana"), act.pay(ANA, 10**18),
                        act.change_setting(commons.addresses, "timelock-delay", 60)]
    pid = propose(commons, stewards[0], proposal_actions, "Three things")
    view = commons.proposal(pid)
    assert view.title == "Three things"
    assert view.actions == proposal_actions
    assert view.actions_in_words == [f"Admit {ANA_CHECKSUM} as a member with the handle “ana”",
                                     f"Pay 1 ETH from the treasury to {ANA_CHECKSUM}",
                                     "Set the timelock delay to 60 seconds"]


# ---- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0x123", "ana.eth", "", "0x" + "zz" * 20, "ab" * 20 + "ab"])
def test_malformed_address_is_refused(text):
    with pytest.raises(InvalidInput, match="is not an Ethereum address"):
        act.checked_address(text, "member")


def test_malformed_address_says_which_input():
    with pytest.raises(InvalidInput, match="^recipient '0x123'"):
        act.pay("0x123", 1)


@pytest.mark.parametrize("text", ["abc", "", "1,5"])
def test_amount_that_is_not_a_number_is_refused(text):
    with pytest.raises(InvalidInput, match="is not an amount of ETH"):
        act.parse_eth(text)


@pytest.mark.parametrize("text", ["0", "-1", "0.0000000000000000001"])
def test_amount_that_is_not_positive_or_too_precise_is_refused(text):
    with pytest.raises(InvalidInput, match="positive amount"):
        act.parse_eth(text)


@pytest.mark.parametrize("text", ["inf", "nan"])
def test_amount_that_is_not_finite_is_refused(text):
    with pytest.raises(InvalidInput):
        act.parse_eth(text)


def test_zero_payment_is_refused():
    with pytest.raises(InvalidInput, match="more than 0"):
        act.pay(ANA, 0)


def test_unknown_setting_is_refused_with_the_choices():
    with pytest.raises(InvalidInput, match="Unknown setting 'quorum-percent'.*voting-delay"):
        act.change_setting(ADDRESSES, "quorum-percent", 10)


def test_negative_setting_is_refused():
    with pytest.raises(InvalidInput, match="cannot be negative"):
        act.change_setting(ADDRESSES, "voting-delay", -1)


def test_setting_too_large_for_its_type_is_refused():
    with pytest.raises(InvalidInput):
        act.change_setting(ADDRESSES, "voting-period", 2**32)


def test_quorum_over_100_percent_is_refused():
    with pytest.raises(InvalidInput):
        act.change_setting(ADDRESSES, "quorum", 150)


@pytest.mark.parametrize("handle", ["", "x" * 65])
def test_handle_of_wrong_length_is_refused(handle):
    with pytest.raises(InvalidInput, match="1 to 64 bytes"):
        act.admit(ADDRESSES, ANA, handle)


def test_call_without_a_signature_is_refused():
    with pytest.raises(InvalidInput, match="is not a function signature"):
        act.contract_call(ANA, "transfer", [])


def test_call_with_the_wrong_number_of_arguments_is_refused():
    with pytest.raises(InvalidInput, match="takes 2 arguments but 1 were given"):
        act.contract_call(ANA, "transfer(address,uint256)", [ANA])


@pytest.mark.parametrize("args", [["0xbad", 1], [ANA, -1], [ANA, "many"]])
def test_call_with_arguments_of_the_wrong_type_is_refused(args):
    with pytest.raises(InvalidInput, match="do not fit"):
        act.contract_call(ANA, "transfer(address,uint256)", args)
