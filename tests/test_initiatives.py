"""Initiatives: a member drafts, others co-sign, enough support puts it to a vote; every misuse refused in words."""

from dataclasses import replace

import pytest
from web3.logs import DISCARD

from governance.chain import NodeSigner
from governance.errors import InvalidInput, Reverted
from governance.initiatives import Initiatives, SupportSignature, sign_support, support_domain, support_typed_data
from governance.reverts import moment
from tests.helpers import (
    act,
    advance,
    assert_refused,
    carry_through,
    impersonate,
    now,
    pass_proposal,
    send,
)

SOMEONE = "0x000000000000000000000000000000000000bEEF"
TEXT = "# Pay the seed fund\n\nSeeds for the spring beds."
DAY = 24 * 3600


@pytest.fixture
def initiatives(commons):
    return Initiatives(commons)


def draft(initiatives, author, proposal=None, text=TEXT) -> int:
    proposal = proposal or [act.pay(SOMEONE, 10**15)]
    initiatives.commons.submit(initiatives.plan_draft(proposal, text), author)
    return initiatives.count()


def signed(initiatives, initiative_id: int, supporter, expiry: int | None = None, domain: dict | None = None) -> SupportSignature:
    """`supporter`'s signature of support for the initiative's current revision."""
    expiry = expiry if expiry is not None else now(initiatives.commons.w3) + 7 * DAY
    typed = initiatives.support_typed_data(initiative_id, supporter.address, expiry)
    if domain is not None:
        typed["domain"] = domain
    message = typed["message"]
    return SupportSignature(
        initiative_id, message["revision"], supporter.address, message["nonce"], expiry, sign_support(typed, supporter.account)
    )


def support(initiatives, initiative_id: int, supporter, poster=None) -> SupportSignature:
    signature = signed(initiatives, initiative_id, supporter)
    poster = poster or NodeSigner(initiatives.commons.w3.eth.accounts[8])  # anyone, e.g. a relay
    initiatives.commons.submit(initiatives.plan_post_support(signature), poster)
    return signature


def submit(initiatives, initiative_id: int, signatures: list[SupportSignature] | None = None) -> int:
    anyone = NodeSigner(initiatives.commons.w3.eth.accounts[9])
    receipt = initiatives.commons.submit(initiatives.plan_submit(initiative_id, signatures), anyone)
    return initiatives.submitted_proposal(receipt)[1]


def refused_submission(initiatives, initiative_id: int, signatures: list[SupportSignature], name: str) -> str:
    with pytest.raises(Reverted) as refused:
        submit(initiatives, initiative_id, signatures)
    return assert_refused(refused, name)


def submit_directly(initiatives, initiative_id: int, signatures: list[SupportSignature], sender, values=None) -> dict:
    """`submit` sent straight to the contract, past the client's own checks."""
    view_text, proposal = initiatives._texts(initiative_id)
    return send(
        initiatives.commons.w3,
        sender,
        initiatives.contract,
        "submit",
        initiative_id,
        [a.target for a in proposal],
        values or [a.value for a in proposal],
        [a.calldata for a in proposal],
        view_text,
        [(s.supporter, s.expiry, s.signature) for s in sorted(signatures, key=lambda s: int(s.supporter, 16))],
    )


def test_draft_two_supporters_submit_vote_queue_execute(initiatives, founders):
    commons = initiatives.commons
    author, first, second = founders[2], founders[3], founders[4]  # none of them a steward
    initiative_id = draft(initiatives, author)
    support(initiatives, initiative_id, first)
    support(initiatives, initiative_id, second, poster=second)  # from the supporter's own wallet too
    view = initiatives.initiative(initiative_id)
    assert (view.status, view.progress) == ("open", "3 of 3 supporters")
    balance = commons.w3.eth.get_balance(SOMEONE)
    receipt = commons.submit(initiatives.plan_submit(initiative_id), NodeSigner(commons.w3.eth.accounts[9]))
    event = initiatives.contract.events.InitiativeSubmitted().process_receipt(receipt, errors=DISCARD)[0]["args"]
    proposal_id = event["proposalId"]
    assert event["author"] == author.address
    assert list(event["supporters"]) == sorted([first.address, second.address], key=lambda a: int(a, 16))
    # The governor binds the proposal to the Initiatives contract; the event names the author.
    assert commons.governor.functions.proposalProposer(proposal_id).call() == commons.manifest.initiatives
    assert commons.proposal(proposal_id).title == "Pay the seed fund"
    assert initiatives.initiative(initiative_id).status == "proposed"
    carry_through(commons, proposal_id, founders)
    assert commons.state(proposal_id) == "executed"
    assert commons.w3.eth.get_balance(SOMEONE) == balance + 10**15


def test_support_from_a_non_member_is_refused(initiatives, founders, w3):
    from tests.helpers import fund, test_key_signer

    outsider = test_key_signer("initiatives-outsider")
    fund(w3, outsider.address)
    initiative_id = draft(initiatives, founders[2])
    with pytest.raises(Reverted) as refused:
        support(initiatives, initiative_id, outsider)
    assert_refused(refused, "InitiativesNotMember")
    good = support(initiatives, initiative_id, founders[3])
    refused_submission(initiatives, initiative_id, [good, signed(initiatives, initiative_id, outsider)], "InitiativesNotMember")


def test_a_non_member_cannot_draft(initiatives, w3):
    from tests.helpers import fund, test_key_signer

    outsider = test_key_signer("initiatives-outsider")
    fund(w3, outsider.address)
    with pytest.raises(Reverted) as refused:
        draft(initiatives, outsider)
    assert_refused(refused, "InitiativesNotMember")


def test_support_from_a_member_removed_before_submission_is_refused(initiatives, founders, stewards):
    commons = initiatives.commons
    initiative_id = draft(initiatives, founders[2])
    first, second = support(initiatives, initiative_id, founders[3]), support(initiatives, initiative_id, founders[4])
    pass_proposal(commons, stewards[0], founders, [act.remove(commons.addresses, founders[4].address)], "Remove")
    refused_submission(initiatives, initiative_id, [first, second], "InitiativesNotMember")
    with pytest.raises(InvalidInput, match="2 of 3 supporters"):
        initiatives.plan_submit(initiative_id)  # the default choice leaves the removed member out


def test_an_expired_signature_is_refused(initiatives, founders, w3):
    initiative_id = draft(initiatives, founders[2])
    short = signed(initiatives, initiative_id, founders[3], expiry=now(w3) + 60)
    good = support(initiatives, initiative_id, founders[4])
    advance(w3, 120)
    reason = refused_submission(initiatives, initiative_id, [short, good], "InitiativesSignatureExpired")
    assert f"expired on {moment(short.expiry)}" in reason and str(short.expiry) not in reason


def test_a_withdrawn_signature_is_refused(initiatives, founders):
    commons = initiatives.commons
    initiative_id = draft(initiatives, founders[2])
    first, second = support(initiatives, initiative_id, founders[3]), support(initiatives, initiative_id, founders[4])
    commons.submit(initiatives.plan_withdraw_support(initiative_id), founders[3])
    reason = refused_submission(initiatives, initiative_id, [first, second], "InitiativesSupportWithdrawn")
    assert "withdrew" in reason
    assert initiatives.initiative(initiative_id).supporters == [founders[4].address]


def test_a_signature_replayed_on_another_initiative_is_refused(initiatives, founders):
    first_id = draft(initiatives, founders[2])
    second_id = draft(initiatives, founders[2])  # the very same actions and text
    theirs = signed(initiatives, first_id, founders[3])
    good = signed(initiatives, second_id, founders[4])
    refused_submission(initiatives, second_id, [replace(theirs, initiative=second_id), good], "InitiativesInvalidSignature")


def test_a_signature_on_a_revised_text_is_refused(initiatives, founders):
    commons = initiatives.commons
    initiative_id = draft(initiatives, founders[2])
    old = [support(initiatives, initiative_id, founders[3]), support(initiatives, initiative_id, founders[4])]
    commons.submit(initiatives.plan_revise(initiative_id, [act.pay(SOMEONE, 2 * 10**15)], TEXT + " Twice."), founders[2])
    assert initiatives.initiative(initiative_id).supporters == []
    refused_submission(initiatives, initiative_id, old, "InitiativesInvalidSignature")


def test_a_signature_for_another_chain_is_refused(initiatives, founders):
    initiative_id = draft(initiatives, founders[2])
    elsewhere = {**support_domain(initiatives.commons), "chainId": 1}
    other_chain = signed(initiatives, initiative_id, founders[3], domain=elsewhere)
    good = signed(initiatives, initiative_id, founders[4])
    refused_submission(initiatives, initiative_id, [other_chain, good], "InitiativesInvalidSignature")


def test_signatures_never_serve_a_second_identical_proposal(initiatives, founders):
    initiative_id = draft(initiatives, founders[2])
    signatures = [support(initiatives, initiative_id, founders[3]), support(initiatives, initiative_id, founders[4])]
    proposal_id = submit(initiatives, initiative_id, signatures)
    # Submitted again with the same signatures, directly on the contract (the client refuses before that).
    with pytest.raises(InvalidInput, match="proposed as #"):
        initiatives.plan_submit(initiative_id, signatures)
    with pytest.raises(Reverted) as refused:
        submit_directly(initiatives, initiative_id, signatures, founders[5])
    assert str(proposal_id) in assert_refused(refused, "InitiativesAlreadySubmitted")
    # An identical initiative drafted again cannot borrow them either.
    again = draft(initiatives, founders[2])
    refused_submission(initiatives, again, [replace(s, initiative=again) for s in signatures], "InitiativesInvalidSignature")


def test_the_same_member_counted_twice_is_refused(initiatives, founders):
    initiative_id = draft(initiatives, founders[2])
    once = signed(initiatives, initiative_id, founders[3])
    refused_submission(initiatives, initiative_id, [once, once], "InitiativesSupporterRepeated")


def test_the_author_signing_their_own_initiative_is_refused(initiatives, founders):
    initiative_id = draft(initiatives, founders[2])
    with pytest.raises(Reverted) as refused:
        support(initiatives, initiative_id, founders[2])
    assert_refused(refused, "InitiativesAuthorSigned")
    own = signed(initiatives, initiative_id, founders[2])
    refused_submission(
        initiatives, initiative_id, [own, signed(initiatives, initiative_id, founders[3])], "InitiativesAuthorSigned"
    )


def test_altered_actions_are_refused(initiatives, founders):
    initiative_id = draft(initiatives, founders[2])
    signatures = [support(initiatives, initiative_id, founders[3]), support(initiatives, initiative_id, founders[4])]
    with pytest.raises(Reverted) as refused:
        submit_directly(initiatives, initiative_id, signatures, founders[5], values=[10**18])  # 1000 times as much
    assert_refused(refused, "InitiativesProposalDiffers")


def test_a_threshold_short_by_one_is_refused(initiatives, founders):
    initiative_id = draft(initiatives, founders[2])
    one = support(initiatives, initiative_id, founders[3])
    reason = refused_submission(initiatives, initiative_id, [one], "InitiativesSupportShort")
    assert "has 2 supporters" in reason and "needs 3" in reason
    with pytest.raises(InvalidInput, match="2 of 3 supporters"):
        initiatives.plan_submit(initiative_id)


def test_the_threshold_follows_the_share_set_by_the_timelock(initiatives, founders):
    commons = initiatives.commons
    with pytest.raises(Reverted) as refused:
        send(commons.w3, founders[0], initiatives.contract, "setSupportShare", 10000)
    assert_refused(refused, "InitiativesOnlyTimelock")
    send(commons.w3, impersonate(commons.w3, commons.manifest.timelock), initiatives.contract, "setSupportShare", 10000)
    assert initiatives.needed() == len(founders)  # all six now


def test_an_initiative_expires_after_its_lifetime(initiatives, founders, w3):
    initiative_id = draft(initiatives, founders[2])
    signatures = [signed(initiatives, initiative_id, founders[3], now(w3) + 60 * DAY)]
    signatures.append(signed(initiatives, initiative_id, founders[4], now(w3) + 60 * DAY))
    advance(w3, initiatives.contract.functions.lifetime().call() + 1)
    view = initiatives.initiative(initiative_id)
    assert view.status == "expired"
    in_words = moment(view.expires_at)  # e.g. "Monday 21 December 2026 at 03:00 UTC", not a count of seconds
    with pytest.raises(InvalidInput, match=f"expired on {in_words} without enough support"):
        initiatives.plan_submit(initiative_id, signatures)
    with pytest.raises(Reverted) as refused:
        submit_directly(initiatives, initiative_id, signatures, founders[5])
    reason = assert_refused(refused, "InitiativesExpired")
    assert in_words in reason and str(view.expires_at) not in reason


def test_only_the_author_revises_or_withdraws(initiatives, founders):
    commons = initiatives.commons
    initiative_id = draft(initiatives, founders[2])
    with pytest.raises(Reverted) as refused:
        commons.submit(initiatives.plan_withdraw(initiative_id), founders[3])
    assert_refused(refused, "InitiativesNotAuthor")
    commons.submit(initiatives.plan_withdraw(initiative_id), founders[2])
    assert initiatives.initiative(initiative_id).status == "withdrawn"
    with pytest.raises(Reverted) as refused:
        support(initiatives, initiative_id, founders[3])
    assert_refused(refused, "InitiativesNotOpen")


def test_typed_data_matches_the_contract_digest(initiatives, founders, w3):
    from eth_account.messages import encode_typed_data
    from eth_utils import keccak

    initiative_id = draft(initiatives, founders[2])
    expiry = now(w3) + DAY
    view = initiatives.initiative(initiative_id)
    typed = support_typed_data(
        support_domain(initiatives.commons), initiative_id, 0, founders[3].address, 0, view.actions, view.description, expiry
    )
    message = encode_typed_data(full_message=typed)
    ours = keccak(b"\x19" + message.version + message.header + message.body)
    _, _, _, _, proposal_hash, _, _ = initiatives.contract.functions.initiative(initiative_id).call()
    theirs = initiatives.contract.functions.supportDigest(initiative_id, 0, founders[3].address, 0, proposal_hash, expiry).call()
    assert ours == theirs
