"""EIP-712 ballots: signed here, recovered here, and accepted by the governor exactly as defined."""

import json

import pytest
from eth_utils import keccak
from web3.logs import DISCARD

from governance import ballots
from governance.ballots import BALLOT_TYPES, EXTENDED_BALLOT_TYPES, Ballot
from governance.chain import NodeSigner
from governance.errors import InvalidInput
from governance.vocabulary import parse_support
from tests.helpers import act, propose, to_voting
from tests.helpers import test_key_signer as key_signer

VOTER = key_signer("ballots-voter")
DOMAIN = ballots.domain("Test Garden", 31337, "0x" + "22" * 20)


@pytest.fixture
def open_proposal(commons, stewards) -> int:
    pid = propose(commons, stewards[0], [act.pay(stewards[0].address, 1)], "Ballot box")
    to_voting(commons, pid)
    return pid


def type_string(types: dict) -> str:
    ((name, fields),) = types.items()
    members = ",".join(f"{field['type']} {field['name']}" for field in fields)
    return f"{name}({members})"


@pytest.mark.parametrize("extended", [False, True], ids=["ballot", "extended-ballot"])
def test_signer_of_a_ballot_is_recovered(extended):
    ballot = Ballot(12, 1, VOTER.address, 0, "good idea" if extended else "", extended)
    assert ballots.signer_of(ballot, DOMAIN, ballots.sign(ballot, DOMAIN, VOTER.account)) == VOTER.address


def test_altered_ballot_does_not_recover_the_voter():
    ballot = Ballot(12, 1, VOTER.address, 0, "yes")
    signature = ballots.sign(ballot, DOMAIN, VOTER.account)
    altered = Ballot(12, 0, VOTER.address, 0, "yes")
    assert ballots.signer_of(altered, DOMAIN, signature) != VOTER.address


def test_ballot_for_another_domain_does_not_recover_the_voter():
    ballot = Ballot(12, 1, VOTER.address, 0)
    signature = ballots.sign(ballot, DOMAIN, VOTER.account)
    assert ballots.signer_of(ballot, {**DOMAIN, "chainId": 1}, signature) != VOTER.address


def test_malformed_signature_is_refused():
    with pytest.raises(InvalidInput, match="malformed"):
        ballots.signer_of(Ballot(12, 1, VOTER.address, 0), DOMAIN, b"\x01" * 10)


@pytest.mark.parametrize("text, support", [("for", 1), ("Against", 0), (" abstain ", 2), (1, 1), (0, 0)])
def test_support_is_read_from_words_or_numbers(text, support):
    assert parse_support(text) == support


@pytest.mark.parametrize("text", ["yes", "3", 3, ""])
def test_unknown_support_is_refused(text):
    with pytest.raises(InvalidInput, match="'for', 'against' or 'abstain'"):
        parse_support(text)


def test_typed_data_is_plain_json_for_wallets():
    data = ballots.typed_data(Ballot(12, 1, VOTER.address, 3, "why not"), DOMAIN)
    assert json.loads(json.dumps(data)) == data
    assert data["primaryType"] == "ExtendedBallot"
    assert data["message"] == {
        "proposalId": 12,
        "support": 1,
        "voter": VOTER.address,
        "nonce": 3,
        "reason": "why not",
        "params": "0x",
    }


def test_ballot_types_match_the_governors_typehashes(commons):
    governor = commons.governor.functions
    assert bytes(governor.BALLOT_TYPEHASH().call()) == keccak(text=type_string(BALLOT_TYPES))
    assert bytes(governor.EXTENDED_BALLOT_TYPEHASH().call()) == keccak(text=type_string(EXTENDED_BALLOT_TYPES))


def test_ballot_domain_is_the_governors_eip712_domain(commons):
    _fields, name, version, chain_id, contract, _salt, _extensions = commons.governor.functions.eip712Domain().call()
    assert commons.ballot_domain() == {"name": name, "version": version, "chainId": chain_id, "verifyingContract": contract}


def submit(commons, ballot: Ballot, signature: bytes) -> dict:
    return commons.submit(commons.plan_vote_by_signature(ballot, signature), NodeSigner(commons.w3.eth.accounts[8]))


def test_signed_ballot_counts_on_chain(commons, founders, open_proposal):
    voter = founders[3]
    ballot = Ballot(open_proposal, 2, voter.address, commons.governor.functions.nonces(voter.address).call(), extended=False)
    submit(commons, ballot, ballots.sign(ballot, commons.ballot_domain(), voter.account))
    assert commons.governor.functions.proposalVotes(open_proposal).call() == [0, 0, 1]
    assert commons.governor.functions.hasVoted(open_proposal, voter.address).call()


def test_signed_ballot_with_a_reason_records_the_reason(commons, founders, open_proposal):
    voter = founders[3]
    ballot = Ballot(open_proposal, 0, voter.address, commons.governor.functions.nonces(voter.address).call(), "too dear")
    receipt = submit(commons, ballot, ballots.sign(ballot, commons.ballot_domain(), voter.account))
    (event,) = commons.governor.events.VoteCast().process_receipt(receipt, errors=DISCARD)
    assert (event["args"]["voter"], event["args"]["support"], event["args"]["reason"]) == (voter.address, 0, "too dear")


def test_signed_ballot_uses_up_the_voters_nonce(commons, founders, open_proposal):
    voter = founders[3]
    nonce = commons.governor.functions.nonces(voter.address).call()
    ballot = Ballot(open_proposal, 1, voter.address, nonce, extended=False)
    submit(commons, ballot, ballots.sign(ballot, commons.ballot_domain(), voter.account))
    assert commons.governor.functions.nonces(voter.address).call() == nonce + 1
