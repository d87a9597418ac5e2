"""Proposal actions: encoded from what a steward asks, decoded back into words; bad input refused clearly."""

import pytest
from eth_abi import decode
from eth_utils import keccak

from governance import actions as act
from governance import treasury
from governance.errors import InvalidInput
from tests.helpers import propose

ADDRESSES = act.Addresses("0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20)
ANA = "0x" + "ab" * 20
ANA_CHECKSUM = act.checked_address(ANA)


def test_admit_reads_back_in_words():
    assert (
        act.describe(act.admit(ADDRESSES, ANA, "Ana_G"), ADDRESSES) == f"Admit {ANA_CHECKSUM} as a member with the handle “Ana_G”"
    )


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


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("voting-delay", 120, "Set the voting delay to 2 minutes"),
        ("voting-period", 7200 + 90, "Set the voting period to 2 hours 1 minute 30 seconds"),
        ("quorum", 40, "Set the quorum to 40% of members"),
        ("late-quorum-extension", 600, "Set the late quorum extension to 10 minutes"),
        ("timelock-delay", 2 * 86400, "Set the timelock delay to 2 days"),
    ],
)
def test_setting_change_reads_back_in_words(name, value, words):
    action = act.change_setting(ADDRESSES, name, value)
    assert action.target == (ADDRESSES.timelock if name == "timelock-delay" else ADDRESSES.governor)
    assert act.describe(action, ADDRESSES) == words


def test_a_whole_number_argument_may_come_as_decimal_digits_and_stays_exact():
    """The page sends numbers beyond 2^53 as strings, which JSON in a browser would round."""
    exact = 10**21 + 1
    by_string = act.contract_call(ANA, "transfer(address,uint256)", [ANA, str(exact)])
    assert by_string == act.contract_call(ANA, "transfer(address,uint256)", [ANA, exact])
    assert int.from_bytes(by_string.calldata[-32:]) == exact
    with pytest.raises(InvalidInput, match="do not fit"):
        act.contract_call(ANA, "transfer(address,uint256)", [ANA, "1e21"])


def test_contract_call_encodes_its_arguments():
    action = act.contract_call(ANA, "transfer(address, uint256)", [ADDRESSES.membership, 5], value=7)
    assert action.calldata[:4].hex() == "a9059cbb"
    assert decode(["address", "uint256"], action.calldata[4:]) == (ADDRESSES.membership, 5)
    assert action.value == 7


def test_unknown_call_reads_back_as_unknown_with_its_selector():
    action = act.contract_call(ANA, "frobnicate(uint256)", [5])
    reading = act.read(action, ADDRESSES)
    assert not reading.known and reading.selector == "0x" + action.calldata[:4].hex()
    assert reading.words == (
        f"Call {ANA_CHECKSUM} with an unknown function (selector {reading.selector}, 36 bytes of data): "
        "not decoded, so nobody can say what it does"
    )


def test_known_call_to_a_foreign_contract_is_not_mistaken_for_ours():
    """admit(address,string) on some other contract is not an admission to this commons."""
    action = act.contract_call(ANA, "admit(address,string)", [ANA, "x"])
    assert not act.read(action, ADDRESSES).known


def test_malformed_calldata_to_our_contract_is_shown_raw():
    action = act.Action(ADDRESSES.membership, 0, act.admit(ADDRESSES, ANA, "x").calldata[:10])
    reading = act.read(action, ADDRESSES)
    assert not reading.known and reading.words.startswith("Call the membership registry with an unknown function")


def test_proposal_title_is_the_first_line():
    assert act.proposal_title("# Buy seeds\n\nFor spring.") == "Buy seeds"
    assert act.proposal_title("") == "(untitled)"


def test_actions_read_back_in_words_from_the_chain(commons, stewards):
    proposal_actions = [
        act.admit(commons.addresses, ANA, "ana"),
        act.pay(ANA, 10**18),
        act.change_setting(commons.addresses, "timelock-delay", 60),
    ]
    pid = propose(commons, stewards[0], proposal_actions, "Three things")
    view = commons.proposal(pid)
    assert view.title == "Three things"
    assert view.actions == proposal_actions
    assert view.actions_in_words == [
        f"Admit {ANA_CHECKSUM} as a member with the handle “ana”",
        f"Pay 1 ETH from the treasury to {ANA_CHECKSUM}",
        "Set the timelock delay to 1 minute",
    ]


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


@pytest.mark.parametrize("handle", ["", "x" * 65, "ana lovelace", "Ana 🌻", "аna", "ana\u202e"])
def test_handle_of_wrong_length_or_characters_is_refused(handle):
    with pytest.raises(InvalidInput, match="is not a handle: use 1 to 64 letters"):
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


# ---- every action in words ---------------------------------------------------------------

PROPOSER = "0x" + keccak(text="PROPOSER_ROLE").hex()
ZERO = "0x" + "00" * 20


def words_and_power(target: str, signature: str, args: list, value: int = 0, handles=None, tokens=None) -> tuple[str, str | None]:
    reading = act.read(act.contract_call(target, signature, args, value), ADDRESSES, handles, tokens)
    assert reading.known, reading.words
    return reading.words, reading.power


@pytest.mark.parametrize(
    "signature, args, words, power",
    [
        (
            "grantRole(bytes32,address)",
            [PROPOSER, ANA],
            f"Give {ANA_CHECKSUM} the proposer role on the treasury (timelock)",
            f"this gives {ANA_CHECKSUM} the power to schedule treasury calls without a vote",
        ),
        (
            "grantRole(bytes32,address)",
            ["0x" + keccak(text="CANCELLER_ROLE").hex(), ANA],
            f"Give {ANA_CHECKSUM} the canceller role on the treasury (timelock)",
            f"this gives {ANA_CHECKSUM} the power to cancel passed proposals waiting in the timelock",
        ),
        (
            "grantRole(bytes32,address)",
            ["0x" + "00" * 32, ANA],
            f"Give {ANA_CHECKSUM} the admin role on the treasury (timelock)",
            f"this gives {ANA_CHECKSUM} the power to grant and revoke every treasury role",
        ),
        (
            "revokeRole(bytes32,address)",
            [PROPOSER, "0x" + "22" * 20],
            "Take the proposer role on the treasury (timelock) from the governor",
            "this takes from the governor the power to schedule treasury calls without a vote: "
            "passed proposals could no longer be carried out",
        ),
        (
            "renounceRole(bytes32,address)",
            ["0x" + keccak(text="EXECUTOR_ROLE").hex(), "0x" + "33" * 20],
            "Have the treasury (timelock) give up the executor role held by the treasury (timelock)",
            "this changes who may execute scheduled treasury calls",
        ),
        (
            "updateDelay(uint256)",
            [86400 + 3600],
            "Set the timelock delay to 1 day 1 hour",
            "this changes how long members have between a passed proposal and its execution (time to object or leave)",
        ),
        (
            "cancel(bytes32)",
            ["0x" + "ab" * 32],
            "Cancel the scheduled treasury operation 0x" + "ab" * 32,
            "this stops a scheduled treasury call, possibly a passed proposal",
        ),
    ],
)
def test_timelock_calls_read_in_words_with_their_power(signature, args, words, power):
    assert words_and_power(ADDRESSES.timelock, signature, args) == (words, power)


def test_a_scheduled_call_reads_with_the_call_inside_it():
    inner = act.pay(ANA, 5 * 10**18)
    words, power = words_and_power(
        ADDRESSES.timelock,
        "schedule(address,uint256,bytes,bytes32,bytes32,uint256)",
        [inner.target, inner.value, "0x", "0x" + "00" * 32, "0x" + "01" * 32, 172800],
    )
    assert words == f"Schedule on the treasury (timelock), to run after 2 days: pay 5 ETH from the treasury to {ANA_CHECKSUM}"
    assert power == "this schedules a treasury call that no vote will decide"


def test_a_relayed_call_reads_with_the_call_inside_it():
    inner = act.remove(ADDRESSES, ANA)
    words, power = words_and_power(
        ADDRESSES.governor, "relay(address,uint256,bytes)", [inner.target, 0, "0x" + inner.calldata.hex()]
    )
    assert words == f"Have the governor itself make a call: remove {ANA_CHECKSUM} from the membership"
    assert power.startswith("this acts with the governor's own authority")


@pytest.mark.parametrize(
    "signature, args, words, power",
    [
        ("setProposalThreshold(uint256)", [2], "Set the votes needed to propose to 2", "votes needed to propose"),
        ("updateTimelock(address)", [ANA], f"Move the governor to the timelock at {ANA_CHECKSUM}", "control of every passed"),
        ("appointSteward(address)", [ANA], f"Appoint {ANA_CHECKSUM} as a steward", "the power to submit proposals"),
        ("recallSteward(address)", [ANA], f"Recall {ANA_CHECKSUM} as a steward", "takes from"),
    ],
)
def test_governor_calls_read_in_words_with_their_power(signature, args, words, power):
    got_words, got_power = words_and_power(ADDRESSES.governor, signature, args)
    assert got_words == words and power in got_power


def test_every_governor_and_timelock_setting_is_a_power_change():
    for name, (role, _, _) in act.SETTINGS.items():
        if role in ("governor", "timelock"):
            assert act.read(act.change_setting(ADDRESSES, name, 60), ADDRESSES).power


def test_membership_ownership_reads_as_a_power_change():
    words, power = words_and_power(ADDRESSES.membership, "transferOwnership(address)", [ANA])
    assert words == f"Hand the membership registry to {ANA_CHECKSUM}"
    assert power == f"this gives {ANA_CHECKSUM} the power to admit and remove members without a vote"
    assert words_and_power(ADDRESSES.membership, "renounceOwnership()", [])[1].startswith("after this nobody")


def test_members_are_named_by_handle_when_known():
    words, _ = words_and_power(ADDRESSES.membership, "remove(address)", [ANA], handles={ANA: "ana"})
    assert words == f"Remove @ana ({ANA_CHECKSUM}) from the membership"


def test_other_functions_of_our_contracts_read_by_name_and_arguments():
    words, power = words_and_power(ADDRESSES.governor, "castVote(uint256,uint8)", [7, 1])
    assert words == "Call the governor's castVote(proposalId=7, support=1)" and power is None


TOKEN = "0x" + "44" * 20
TOKEN_CHECKSUM = act.checked_address(TOKEN)


@pytest.mark.parametrize(
    "signature, args, words, power",
    [
        (
            "transfer(address,uint256)",
            [ANA, 2_500_000],
            f"Pay 2,500,000 smallest units of the token at {TOKEN_CHECKSUM} (its symbol and decimals are unknown here, "
            f"so this is not a number of whole tokens) from the treasury to {ANA_CHECKSUM}",
            None,
        ),
        (
            "approve(address,uint256)",
            [ANA, 2**256 - 1],
            f"Allow {ANA_CHECKSUM} to take an unlimited amount of the token at {TOKEN_CHECKSUM} from the treasury"
            f" (for an NFT collection: token #{2**256 - 1})",
            f"this gives {ANA_CHECKSUM} the power to move the treasury's tokens at {TOKEN_CHECKSUM} without a vote",
        ),
        (
            "transferFrom(address,address,uint256)",
            ["0x" + "33" * 20, ANA, 9],
            f"Move 9 smallest units of the token at {TOKEN_CHECKSUM} (its symbol and decimals are unknown here, so this is"
            " not a number of whole tokens) (for an NFT collection: token #9)"
            f" from the treasury (timelock) to {ANA_CHECKSUM}",
            None,
        ),
        (
            "safeTransferFrom(address,address,uint256)",
            ["0x" + "33" * 20, ANA, 9],
            f"Transfer NFT #9 of the collection at {TOKEN_CHECKSUM} from the treasury (timelock) to {ANA_CHECKSUM}",
            None,
        ),
        (
            "safeTransferFrom(address,address,uint256,bytes)",
            ["0x" + "33" * 20, ANA, 9, "0x"],
            f"Transfer NFT #9 of the collection at {TOKEN_CHECKSUM} from the treasury (timelock) to {ANA_CHECKSUM}",
            None,
        ),
        (
            "setApprovalForAll(address,bool)",
            [ANA, True],
            f"Allow {ANA_CHECKSUM} to move every NFT the treasury holds at {TOKEN_CHECKSUM}",
            f"this gives {ANA_CHECKSUM} the power to move the treasury's NFTs at {TOKEN_CHECKSUM} without a vote",
        ),
    ],
)
def test_token_calls_read_in_words(signature, args, words, power):
    assert words_and_power(TOKEN, signature, args) == (words, power)


def test_value_sent_with_a_call_is_said():
    words, _ = words_and_power(TOKEN, "transfer(address,uint256)", [ANA, 1], value=10**18)
    assert words.endswith(", sending 1 ETH from the treasury")


@pytest.mark.parametrize("value", ["0x12", "ab" * 32, "0x" + "zz" * 32])
def test_bytes32_argument_must_be_32_bytes_of_hex(value):
    with pytest.raises(InvalidInput, match="do not fit"):
        act.contract_call(ADDRESSES.timelock, "grantRole(bytes32,address)", [value, ANA])


GUSD = treasury.Asset(TOKEN_CHECKSUM, "gUSD", "Garden Dollar", 6)
OTHER = act.checked_address("0x" + "55" * 20)
TRACKED = treasury.KnownTokens({TOKEN.lower(): GUSD}, frozenset({TOKEN.lower()}))


def test_a_payment_in_a_tracked_token_reads_in_its_symbol_and_decimals():
    words, power = words_and_power(TOKEN, "transfer(address,uint256)", [ANA, 120_500_000], handles={ANA: "juno"}, tokens=TRACKED)
    assert (words, power) == (f"Pay 120.5 gUSD from the treasury to @juno ({ANA_CHECKSUM})", None)


def test_a_payment_of_one_smallest_unit_is_exact():
    words, _ = words_and_power(TOKEN, "transfer(address,uint256)", [ANA, 1], tokens=TRACKED)
    assert words == f"Pay 0.000001 gUSD from the treasury to {ANA_CHECKSUM}"


def test_an_allowance_in_a_tracked_token_reads_as_an_amount_not_an_nft():
    words, power = words_and_power(TOKEN, "approve(address,uint256)", [ANA, 5 * 10**6], tokens=TRACKED)
    assert words == f"Allow {ANA_CHECKSUM} to take 5 gUSD from the treasury"
    assert power == f"this gives {ANA_CHECKSUM} the power to move the treasury's tokens at {TOKEN_CHECKSUM} without a vote"
    unlimited, _ = words_and_power(TOKEN, "approve(address,uint256)", [ANA, 2**256 - 1], tokens=TRACKED)
    assert unlimited == f"Allow {ANA_CHECKSUM} to take an unlimited amount of gUSD from the treasury"


def test_an_untracked_token_is_named_by_its_address_beside_its_own_symbol():
    dai = treasury.Asset(OTHER, "DAI", "Dai", 18)
    tokens = treasury.KnownTokens({TOKEN.lower(): GUSD, OTHER.lower(): dai}, frozenset({TOKEN.lower()}))
    words, _ = words_and_power(OTHER, "transfer(address,uint256)", [ANA, 15 * 10**17], tokens=tokens)
    assert words == f"Pay 1.5 DAI (the token at {OTHER}, which this commons does not track) from the treasury to {ANA_CHECKSUM}"


@pytest.mark.parametrize("symbol, known", [("GUSD", "gUSD"), ("eth", "ETH")])
def test_an_untracked_token_calling_itself_like_a_tracked_asset_is_told_apart(symbol, known):
    fake = treasury.Asset(OTHER, symbol, "Look-alike", 6)
    tokens = treasury.KnownTokens({TOKEN.lower(): GUSD, OTHER.lower(): fake}, frozenset({TOKEN.lower()}))
    words, _ = words_and_power(OTHER, "transfer(address,uint256)", [ANA, 10**6], tokens=tokens)
    assert (
        f"1 {symbol} (the token at {OTHER}, which this commons does not track; it is not the {known} this commons knows)" in words
    )


def test_a_token_symbol_cannot_pass_for_a_sentence():
    long = treasury.Asset(OTHER, "gUSD from the treasury to @ana\nand more", "Spoof", 0)
    tokens = treasury.KnownTokens({OTHER.lower(): long}, frozenset({OTHER.lower()}))
    words, _ = words_and_power(OTHER, "transfer(address,uint256)", [ANA, 3], tokens=tokens)
    assert words == f"Pay 3 “gUSD from the t…” from the treasury to {ANA_CHECKSUM}"


def test_a_token_payment_inside_a_scheduled_call_reads_in_the_token_units():
    inner = act.contract_call(TOKEN, "transfer(address,uint256)", [ANA, 2 * 10**6])
    schedule = "schedule(address,uint256,bytes,bytes32,bytes32,uint256)"
    words, _ = words_and_power(
        ADDRESSES.timelock,
        schedule,
        [TOKEN, 0, "0x" + inner.calldata.hex(), "0x" + "00" * 32, "0x" + "00" * 32, 60],
        tokens=TRACKED,
    )
    assert words.endswith(f"pay 2 gUSD from the treasury to {ANA_CHECKSUM}")


def test_known_tokens_from_rows_name_tracked_and_untracked_tokens():
    dai = treasury.Asset(OTHER, "DAI", "Dai", 18)
    tokens = treasury.KnownTokens.of([GUSD, dai], [TOKEN_CHECKSUM])
    assert tokens.asset(TOKEN_CHECKSUM) == GUSD and tokens.is_tracked(TOKEN) and not tokens.is_tracked(OTHER)
    assert words_and_power(TOKEN, "transfer(address,uint256)", [ANA, 10**6], tokens=tokens)[0].startswith("Pay 1 gUSD from")


# ---- the commons' own lists and settings: tracked tokens (Contributions) and the initiatives' settings ----

CONTRIBUTIONS = act.checked_address("0x" + "77" * 20)
INITIATIVES = act.checked_address("0x" + "66" * 20)
OWN = act.Addresses(ADDRESSES.membership, ADDRESSES.governor, ADDRESSES.timelock, INITIATIVES, CONTRIBUTIONS)
KNOWN_UNTRACKED = treasury.KnownTokens.of([GUSD], [])


def own_reading(action: act.Action, tokens=None):
    reading = act.read(action, OWN, None, tokens)
    assert reading.known, reading.words
    return reading


def test_tracking_a_token_reads_with_its_name_symbol_and_decimals():
    action = act.track_token(OWN, TOKEN)
    assert (action.target, action.value) == (CONTRIBUTIONS, 0)
    reading = own_reading(action, KNOWN_UNTRACKED)
    assert reading.words == (
        f"Start tracking Garden Dollar (gUSD, 6 decimals) at {TOKEN_CHECKSUM} in the treasury: "
        "it is accepted as a contribution and listed among the treasury's assets"
    )


def test_untracking_a_token_reads_and_says_what_the_treasury_holds_stays():
    reading = own_reading(act.untrack_token(OWN, TOKEN), TRACKED)
    assert reading.words == (
        f"Stop tracking Garden Dollar (gUSD, 6 decimals) at {TOKEN_CHECKSUM} in the treasury: it is no longer accepted "
        "as a contribution nor listed among the treasury's assets; what the treasury holds of it stays there"
    )


def test_tracking_a_token_unknown_here_names_it_by_its_address():
    words = own_reading(act.track_token(OWN, OTHER)).words
    assert words.startswith(
        f"Start tracking the token at {OTHER} (its name, symbol and decimals are unknown here) in the treasury"
    )


@pytest.mark.parametrize(
    "symbol, beware",
    [
        ("GUSD", f"; beware: this commons already tracks another token called gUSD, at {TOKEN_CHECKSUM}"),
        ("eth", "; beware: it calls itself ETH but is not ether"),
    ],
)
def test_tracking_a_token_that_calls_itself_like_a_tracked_asset_is_told_apart(symbol, beware):
    fake = treasury.Asset(OTHER, symbol, "Look-alike", 6)
    tokens = treasury.KnownTokens.of([GUSD, fake], [TOKEN_CHECKSUM])
    assert own_reading(act.track_token(OWN, OTHER), tokens).words.endswith(f"listed among the treasury's assets{beware}")


def test_a_token_name_cannot_pass_for_a_sentence():
    spoof = treasury.Asset(OTHER, "gUSD", "Garden Dollar (gUSD, 6 decimals) at 0x4444", 6)
    words = own_reading(act.track_token(OWN, OTHER), treasury.KnownTokens.of([spoof], [])).words
    assert words.startswith(f"Start tracking “Garden Dollar (gUSD, 6 decimals…” (gUSD, 6 decimals) at {OTHER} in the treasury")
    plain_but_an_address = treasury.Asset(OTHER, "gUSD", "Dollar at 0x4444", 6)
    words = own_reading(act.track_token(OWN, OTHER), treasury.KnownTokens.of([plain_but_an_address], [])).words
    assert words.startswith("Start tracking “Dollar at 0x4444” (gUSD, 6 decimals)")


@pytest.mark.parametrize(
    "name, text, value, words",
    [
        ("support-share", "20%", 2000, "Set the support an initiative needs to 20% of members"),
        ("support-share", "12.5", 1250, "Set the support an initiative needs to 12.5% of members"),
        ("support-share", "0.01 %", 1, "Set the support an initiative needs to 0.01% of members"),
        (
            "initiative-lifetime",
            "30d",
            30 * 86400,
            "Set how long an initiative stays open after its latest draft or revision to 30 days",
        ),
        (
            "initiative-lifetime",
            "90m",
            5400,
            "Set how long an initiative stays open after its latest draft or revision to 1 hour 30 minutes",
        ),
    ],
)
def test_initiative_settings_read_in_words(name, text, value, words):
    assert act.setting_value(name, text) == value
    action = act.change_setting(OWN, name, value)
    assert action.target == INITIATIVES
    reading = own_reading(action)
    assert reading.words.startswith(words)
    if name == "support-share":
        assert reading.words.endswith("of members (the author included, and never fewer than the author and 2 others)")


def test_tracking_and_the_initiatives_settings_are_not_power_changes():
    """They change how contributions are recorded and how a proposal reaches the ballot, never who decides."""
    for action in (
        act.track_token(OWN, TOKEN),
        act.untrack_token(OWN, TOKEN),
        act.change_setting(OWN, "support-share", 1),
        act.change_setting(OWN, "initiative-lifetime", 60),
    ):
        assert own_reading(action, TRACKED).power is None


@pytest.mark.parametrize(
    "signature, value, words",
    [
        ("setSupportShare(uint256)", 0, "Set the support an initiative needs to 0% of members"),
        ("setSupportShare(uint256)", 10001, "Set the support an initiative needs to 100.01% of members"),
        ("setLifetime(uint256)", 0, "Set how long an initiative stays open after its latest draft or revision to 0 seconds"),
    ],
)
def test_an_initiative_setting_the_contract_refuses_says_so(signature, value, words):
    reading = own_reading(act.contract_call(INITIATIVES, signature, [value]))
    assert reading.words.startswith(words)
    assert reading.words.endswith(" (the initiatives contract refuses this value, so the proposal would fail when executed)")


def test_the_initiatives_and_contributions_contracts_are_named_in_any_call_to_them():
    words = own_reading(act.contract_call(INITIATIVES, "withdrawSupport(uint256)", [3])).words
    assert words == "Call the initiatives contract's withdrawSupport(id=3)"
    words = own_reading(act.contract_call(CONTRIBUTIONS, "contribute(string)", ["hi"], value=10**18)).words
    assert words == "Call the contributions contract's contribute(note='hi'), sending 1 ETH from the treasury"
    assert own_reading(act.appoint_steward(OWN, INITIATIVES)).words == "Appoint the initiatives contract as a steward"


def test_track_token_on_another_contract_is_not_mistaken_for_ours():
    assert not act.read(act.contract_call(OTHER, "trackToken(address)", [TOKEN]), OWN).known
    assert not act.read(act.contract_call(CONTRIBUTIONS, "trackToken(address)", [TOKEN]), ADDRESSES).known


def test_a_commons_without_the_contract_refuses_its_actions_in_words():
    with pytest.raises(InvalidInput, match="has no Contributions contract .* so it tracks no tokens"):
        act.track_token(ADDRESSES, TOKEN)
    with pytest.raises(InvalidInput, match="has no initiatives contract .* so no support-share setting"):
        act.change_setting(ADDRESSES, "support-share", 2000)


@pytest.mark.parametrize(
    "name, value, problem",
    [
        ("support-share", 10_001, "The support share must be from 0.01 to 100 percent, not 100.01."),
        ("support-share", 0, "The support share must be from 0.01 to 100 percent, not 0."),
        ("initiative-lifetime", 0, f"The initiative lifetime must be from 1 to {2**48 - 1} seconds, not 0."),
        ("quorum", 150, "The quorum must be from 0 to 100 percent, not 150."),
    ],
)
def test_a_setting_out_of_its_contract_range_is_refused_in_its_unit(name, value, problem):
    with pytest.raises(InvalidInput) as refused:
        act.change_setting(OWN, name, value)
    assert str(refused.value) == problem


@pytest.mark.parametrize(
    "name, text, problem",
    [
        ("support-share", "12.345%", "The support share is a percent with at most two decimals, not 12.345%."),
        ("quorum", "12.5", "The quorum is a whole percent, not 12.5."),
        ("support-share", "a fifth", "'a fifth' is not a percentage such as 20 or 12.5%."),
    ],
)
def test_a_percentage_that_cannot_be_set_is_refused_in_words(name, text, problem):
    with pytest.raises(InvalidInput) as refused:
        act.setting_value(name, text)
    assert str(refused.value) == problem


def test_the_quorum_may_be_written_with_a_percent_sign():
    assert act.setting_value("quorum", "30%") == act.setting_value("quorum", "30") == 30


def test_an_actions_file_tracks_and_untracks_tokens_by_address_or_tracked_symbol():
    from governance.action_file import actions_from

    def asset_of(reference: str) -> treasury.Asset:
        if reference.lower() == "gusd":
            return GUSD
        raise InvalidInput(f"{reference} is not a token this commons tracks")

    listed = [{"kind": "track", "token": OTHER.lower()}, {"kind": "untrack", "token": "gUSD"}]
    track, untrack = actions_from(listed, OWN, asset_of)
    assert (track, untrack) == (act.track_token(OWN, OTHER), act.untrack_token(OWN, TOKEN))
    with pytest.raises(InvalidInput, match=r"Action 1 \(untrack\): USDC is not a token this commons tracks"):
        actions_from([{"kind": "untrack", "token": "USDC"}], OWN, asset_of)
    with pytest.raises(InvalidInput, match=r"Action 1 \(track\): missing token"):
        actions_from([{"kind": "track"}], OWN, asset_of)
