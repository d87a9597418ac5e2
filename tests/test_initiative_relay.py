"""Initiatives through the relay: a member's signed draft, revision, withdrawal and support sent for free, within a
daily allowance per member, on a chain that behaves like a public one (automine off, an attacker reading the
mempool); every misuse refused with a sentence, nothing sent for it."""

# ruff: noqa: F811  (the relay fixtures imported from tests/test_relay.py are test parameters here)

import json
import time

import pytest
import sqlalchemy as sa
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from api.relay_store import SqlRelayStore
from governance.chain import NodeSigner
from governance.errors import BallotRefused, Reverted
from governance.initiative_relay import SignedAct
from governance.initiatives import Initiatives, SupportSignature
from governance.relayer import Relayer, RelayOptions
from tests import helpers
from tests.helpers import act, advance, assert_refused, fund, impersonate, send
from tests.test_relay import STARTED, make_client, relay_db, relay_signer, stop_relayers  # noqa: F401  (fixtures)
from tests.test_relay_public_chain import ATTACKER, PublicChain, rpc, until

OUTSIDER = helpers.test_key_signer("initiative-outsider")
SOMEONE = "0x000000000000000000000000000000000000bEEF"
TEXT = "# Seeds for spring\n\nThe beds by the gate need seeds."
PAY = [{"kind": "pay", "recipient": SOMEONE, "eth": "0.01"}]
WAIT_SECONDS = 30.0


@pytest.fixture
def relay(commons, relay_signer, relay_db):
    client, relayer = make_client(commons, relay_signer, relay_db)
    return client, relayer


@pytest.fixture
def public_chain(w3, commons):
    """Automine off until the test ends: transactions wait in a mempool anyone can read until the test mines."""
    rpc(w3, "evm_setAutomine", False)
    yield PublicChain(w3)
    rpc(w3, "anvil_dropAllTransactions")
    rpc(w3, "evm_setAutomine", True)


@pytest.fixture
def attacker(w3):
    fund(w3, ATTACKER.address)
    return ATTACKER


def sign_typed(signer, typed: dict) -> str:
    return "0x" + bytes(signer.account.sign_message(encode_typed_data(full_message=typed)).signature).hex()


def signed_draft(client, author, actions=PAY, text=TEXT, kind="draft", initiative=0, signer=None) -> dict:
    """The relay's typed data for a draft (or revision, withdrawal), signed as a wallet would, as the page posts it."""
    answer = client.post(
        "/api/relay/initiatives/typed-data",
        json={"kind": kind, "member": author.address, "initiative": initiative, "actions": actions, "text": text},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    message = body["typed_data"]["message"]
    return {
        "kind": kind,
        "member": author.address,
        "initiative": initiative,
        "targets": body["targets"],
        "values": body["values"],
        "calldatas": body["calldatas"],
        "text": body["text"],
        "nonce": message["nonce"],
        "deadline": message["deadline"],
        "signature": sign_typed(signer or author, body["typed_data"]),
    }


def signed_support(client, supporter, initiative: int, days: int = 7, typed_change=None) -> dict:
    answer = client.post(
        "/api/relay/initiatives/typed-data",
        json={"kind": "support", "member": supporter.address, "initiative": initiative, "days": days},
    )
    assert answer.status_code == 200, answer.text
    typed = answer.json()["typed_data"]
    if typed_change:
        typed_change(typed)
    return {
        "kind": "support",
        "member": supporter.address,
        "initiative": initiative,
        "deadline": typed["message"]["expiry"],
        "signature": sign_typed(supporter, typed),
    }


def settled(relayer: Relayer, act_id: str, mine=None) -> dict:
    """The act once done or refused (mining a block each time when `mine` is given)."""

    def done():
        if mine:
            mine()
        record = relayer.initiatives.store.get(act_id)
        return record.public() if record.status in ("done", "refused") else None

    return until(f"act {act_id} to settle", done, WAIT_SECONDS)


def post(client, body: dict, status: int = 202) -> dict:
    answer = client.post("/api/relay/initiatives", json=body)
    assert answer.status_code == status, answer.text
    return answer.json()


def draft_and_support(client, relayer, author, supporters) -> int:
    """A draft and its supports, each through the relay and done; returns the initiative."""
    ticket = settled(relayer, post(client, signed_draft(client, author))["id"])
    assert ticket["status"] == "done" and ticket["by_relay"], ticket
    for supporter in supporters:
        assert settled(relayer, post(client, signed_support(client, supporter, ticket["initiative"]))["id"])["status"] == "done"
    return ticket["initiative"]


def test_a_member_drafts_two_others_support_for_free_and_the_relay_puts_it_to_a_vote(relay, commons, founders):
    client, relayer = relay
    author, first, second = founders[2], founders[3], founders[4]
    balances = {f.address: commons.w3.eth.get_balance(f.address) for f in (author, first, second)}
    initiatives = Initiatives(commons)
    assert initiatives.needed() == 3  # the author and two supporters
    initiative = draft_and_support(client, relayer, author, [first, second])
    view = until("the relay to put it to a vote", lambda: (v := initiatives.initiative(initiative)).status == "proposed" and v)
    [event] = initiatives.contract.events.InitiativeSubmitted().get_logs(from_block=0, argument_filters={"id": initiative})
    assert event["args"]["author"] == author.address and view.description == TEXT
    assert sorted(event["args"]["supporters"]) == sorted([first.address, second.address])
    assert commons.w3.eth.get_transaction(event["transactionHash"])["from"] == relayer.address
    assert commons.governor.functions.proposalProposer(view.proposal_id).call() == commons.manifest.initiatives
    # The members paid nothing; the relay paid for the draft, the supports and the submission.
    assert {f.address: commons.w3.eth.get_balance(f.address) for f in (author, first, second)} == balances


def test_a_relay_told_not_to_submit_leaves_it_to_anyone(commons, relay_signer, relay_db, founders):
    client, relayer = make_client(commons, relay_signer, relay_db, submit_initiatives=False)
    initiative = draft_and_support(client, relayer, founders[2], founders[3:5])
    initiatives = Initiatives(commons)
    assert initiatives.initiative(initiative).status == "open"
    receipt = commons.submit(initiatives.plan_submit(initiative), NodeSigner(commons.w3.eth.accounts[9]))
    assert initiatives.submitted_proposal(receipt)[0] == initiative


def test_revision_and_withdrawal_signed_by_the_author_are_sent_for_free(relay, commons, founders):
    client, relayer = relay
    author = founders[2]
    initiative = settled(relayer, post(client, signed_draft(client, author))["id"])["initiative"]
    revised = "# Seeds for spring and autumn\n\nBoth seasons."
    body = signed_draft(client, author, text=revised, kind="revise", initiative=initiative)
    assert settled(relayer, post(client, body)["id"])["status"] == "done"
    view = Initiatives(commons).initiative(initiative)
    assert (view.revision, view.description) == (1, revised)
    # Someone else's signature over the author's revision is not the author's.
    forged = signed_draft(client, author, text=TEXT, kind="revise", initiative=initiative, signer=founders[3])
    refused = post(client, forged, 400)
    assert refused["code"] == "bad_signature" and author.address in refused["detail"]
    body = signed_draft(client, author, kind="withdraw", initiative=initiative)
    assert settled(relayer, post(client, body)["id"])["status"] == "done"
    assert Initiatives(commons).initiative(initiative).status == "withdrawn"


def test_a_copied_gasless_draft_from_the_mempool_drafts_the_authors_initiative(
    public_chain, commons, relay_signer, relay_db, founders, attacker
):
    client, relayer = make_client(commons, relay_signer, relay_db)
    author = founders[2]
    w3 = commons.w3
    accepted = post(client, signed_draft(client, author))
    [relay_tx] = public_chain.wait_pending(relay_signer.address)
    initiatives = Initiatives(commons)
    # The attacker squats the next id with a draft of their own (they are no member: it cannot be theirs) ...
    squat = initiatives.contract.encode_abi("draft", args=[[SOMEONE], [1], [b""], "# Mine"])
    # ... copies the relay's transaction with a higher tip, and tries it again naming themself as author.
    tip = int(relay_tx["maxPriorityFeePerGas"], 16) * 3
    sent = []
    for data in (squat, relay_tx["input"], _as_author(initiatives, relay_tx["input"], attacker.address)):
        tx = {
            "type": 2, "chainId": w3.eth.chain_id, "nonce": w3.eth.get_transaction_count(attacker.address, "pending"),
            "to": commons.manifest.initiatives, "data": data, "gas": 1_000_000, "maxPriorityFeePerGas": tip,
            "maxFeePerGas": int(relay_tx["maxFeePerGas"], 16) + tip, "value": 0,
        }  # fmt: skip
        sent.append(attacker.send(w3, tx).to_0x_hex())
    ticket = settled(relayer, accepted["id"], mine=public_chain.mine)
    receipts = [w3.eth.get_transaction_receipt(h) for h in sent]
    assert [r["status"] for r in receipts] == [0, 1, 0]  # squat: not a member; copy: the author's draft; forgery: refused
    assert ticket["status"] == "done" and ticket["by_relay"] is False and ticket["tx_hash"] == sent[1], ticket
    view = initiatives.initiative(ticket["initiative"])
    assert (view.author, view.description) == (author.address, TEXT)
    assert initiatives.count() == 1  # the author's, once
    # The signature is spent: sent again by anyone, it is refused in words.
    with pytest.raises(Reverted) as refused:
        relayer.eth_call(commons.manifest.initiatives, bytes.fromhex(relay_tx["input"][2:]))
    assert "already used" in assert_refused(refused, "InitiativesNonceUsed")
    relayer.stop()


def _as_author(initiatives, data: str, author: str) -> str:
    """The relay's draftBySig call with another author named (the signature left as it was)."""
    function, args = initiatives.contract.decode_function_input(data)
    signed = dict(args["signed"])
    signed["author"] = author
    return initiatives.contract.encode_abi(
        "draftBySig", args=[args["targets"], args["values"], args["calldatas"], args["description"], signed]
    )


def test_a_draft_signed_by_a_non_member_or_for_someone_else_is_refused(relay, commons, founders):
    client, relayer = relay
    fund(commons.w3, OUTSIDER.address)
    refused = post(client, signed_draft(client, OUTSIDER), 403)
    assert refused["code"] == "not_member" and "not a member" in refused["detail"]
    # A member's signature presented as another member's draft is nobody's.
    forged = {**signed_draft(client, founders[3]), "member": founders[2].address}
    refused = post(client, forged, 400)
    assert refused["code"] == "bad_signature"
    assert Initiatives(commons).count() == 0
    assert relayer.initiatives.allowance_of(founders[2].address)["used"] == 0  # refusals cost nothing


def test_a_member_removed_after_signing_is_refused(relay, commons, founders):
    client, relayer = relay
    body = signed_draft(client, founders[5])
    send(commons.w3, impersonate(commons.w3, commons.manifest.timelock), commons.membership, "remove", founders[5].address)
    refused = post(client, body, 403)
    assert "not a member" in refused["detail"]


def test_a_replayed_draft_signature_drafts_nothing_more(relay, commons, founders):
    client, relayer = relay
    body = signed_draft(client, founders[2])
    first = settled(relayer, post(client, body)["id"])
    again = post(client, body)
    assert again["id"] == first["id"] and again["status"] == "done"
    assert Initiatives(commons).count() == 1
    assert relayer.initiatives.allowance_of(founders[2].address)["used"] == 1


def test_support_signatures_replayed_on_a_revised_text_another_initiative_or_chain_are_refused(relay, commons, founders):
    client, relayer = relay
    author, supporter = founders[2], founders[3]
    first = settled(relayer, post(client, signed_draft(client, author))["id"])["initiative"]
    second = settled(relayer, post(client, signed_draft(client, author, text="# Another\n\nOther."))["id"])["initiative"]
    support = signed_support(client, supporter, first)
    # On another initiative.
    refused = post(client, {**support, "initiative": second}, 400)
    assert refused["code"] == "bad_signature" and "another initiative" in refused["detail"]
    # On another chain.
    other_chain = signed_support(client, supporter, first, typed_change=lambda t: t["domain"].update(chainId=1))
    assert post(client, other_chain, 400)["code"] == "bad_signature"
    # On a revised text: the author revises before the support is posted.
    revise = signed_draft(client, author, text="# Seeds, revised\n\nFewer.", kind="revise", initiative=first)
    assert settled(relayer, post(client, revise)["id"])["status"] == "done"
    refused = post(client, support, 400)
    assert (
        f"signed revision 0 of initiative {first}, whose author has revised the text since (revision 1 now)" in refused["detail"]
    )
    assert Initiatives(commons).initiative(first).supporters == []


def test_an_expired_support_is_refused_with_its_date_in_words(relay, commons, founders):
    client, relayer = relay
    initiative = settled(relayer, post(client, signed_draft(client, founders[2]))["id"])["initiative"]
    support = signed_support(client, founders[3], initiative, days=1)
    advance(commons.w3, 2 * 24 * 3600)
    refused = post(client, support, 422)
    expiry = time.gmtime(int(support["deadline"]))
    assert f"expired on {time.strftime('%A', expiry)} {expiry.tm_mday} {time.strftime('%B %Y', expiry)}" in refused["detail"]
    assert support["deadline"] not in refused["detail"]


def test_a_draft_past_its_deadline_is_refused_with_the_deadline_in_words(relay, commons, founders):
    client, relayer = relay
    body = signed_draft(client, founders[2])
    advance(commons.w3, 2 * 3600)
    refused = post(client, body, 422)
    assert "was usable until" in refused["detail"] and " UTC" in refused["detail"]
    assert body["deadline"] not in refused["detail"]


def test_past_the_daily_allowance_the_relay_answers_429_in_words_on_every_replica(commons, relay_signer, relay_db, founders):
    client, relayer = make_client(commons, relay_signer, relay_db, initiative_actions_per_day=2)
    other_client, other = make_client(commons, relay_signer, relay_db, initiative_actions_per_day=2)
    noon = 1_796_558_400.0  # 2026-12-06 12:00 UTC: the whole test falls on one day, whenever it runs
    relayer.initiatives.clock = other.initiatives.clock = lambda: noon
    author = founders[2]
    for n in range(2):
        settled(relayer, post(client, signed_draft(client, author, text=f"# Idea {n}\n\nText."))["id"])
    answer = other_client.post("/api/relay/initiatives", json=signed_draft(other_client, author, text="# Idea 3\n\nText."))
    assert answer.status_code == 429, answer.text
    detail = answer.json()["detail"]
    assert detail == (
        "You have used your 2 free actions today; post it from your wallet or try again after 00:00 UTC (in 12 h 0 min)."
    )
    assert answer.headers["Retry-After"] == str(12 * 3600 + 1)
    assert Initiatives(commons).count() == 2
    # Another member's allowance is their own.
    settled(relayer, post(client, signed_support(client, founders[3], 1))["id"])
    allowance = client.get(f"/api/relay/allowance/{author.address}").json()
    assert allowance == {"member": author.address, "used": 2, "allowed": 2, "left": 0, "renews_at": "2026-12-07T00:00:00+00:00"}
    assert client.get("/api/relay/status").json()["initiative_acts"] == {"done": 3}
    assert client.get(f"/api/relay/allowance/{founders[3].address}").json()["left"] == 1


def test_a_draft_queued_when_the_relay_stopped_is_sent_after_a_restart(public_chain, commons, relay_signer, relay_db, founders):
    options = RelayOptions(batch_window=0.05)
    stopped = Relayer(commons, relay_signer, SqlRelayStore(relay_db), options)  # accepts, never sends
    typed = stopped.initiatives.typed_data("draft", founders[2].address, proposal=[act.pay(SOMEONE, 10**16)], text=TEXT)
    message = typed["message"]
    signed = SignedAct(
        "draft", founders[2].address, bytes.fromhex(sign_typed(founders[2], typed)[2:]), nonce=message["nonce"],
        deadline=message["deadline"], proposal=[act.pay(SOMEONE, 10**16)], text=TEXT,
    )  # fmt: skip
    ticket = stopped.initiatives.accept(signed)
    assert ticket.status == "queued"
    restarted = Relayer(commons, relay_signer, SqlRelayStore(relay_db), options).start()
    STARTED.append(restarted)
    done = settled(restarted, ticket.id, mine=public_chain.mine)
    assert done["status"] == "done" and done["by_relay"]
    assert Initiatives(commons).initiative(done["initiative"]).author == founders[2].address


def test_a_support_already_on_chain_cannot_be_replayed_to_spend_allowance_and_gas(relay, commons, founders):
    client, relayer = relay
    initiative = settled(relayer, post(client, signed_draft(client, founders[2]))["id"])["initiative"]
    body = signed_support(client, founders[3], initiative)
    # The supporter posts it from their wallet; anyone reading the event sends the same signature to the relay.
    commons.submit(Initiatives(commons).plan_post_support(_support_of(body)), founders[3])
    refused = post(client, body, 409)
    assert refused["code"] == "already_posted" and "it counts" in refused["detail"]
    assert relayer.initiatives.allowance_of(founders[3].address)["used"] == 0


def _support_of(body: dict) -> SupportSignature:
    return SupportSignature(body["initiative"], 0, body["member"], 0, int(body["deadline"]), bytes.fromhex(body["signature"][2:]))


def test_a_draft_done_then_reorganised_away_is_sent_again(public_chain, commons, relay_signer, relay_db, founders):
    """evm_revert stands in for a reorganisation dropping the block with the relay's draftBySig: "done" must not stay
    the answer while the chain holds no initiative, and the new block of the same height (another hash) is looked at."""
    client, relayer = make_client(commons, relay_signer, relay_db)
    accepted = post(client, signed_draft(client, founders[2]))
    public_chain.wait_pending(relay_signer.address)
    before = rpc(commons.w3, "evm_snapshot")
    public_chain.mine()  # block N, with the draft
    assert settled(relayer, accepted["id"])["status"] == "done" and Initiatives(commons).count() == 1
    rpc(commons.w3, "evm_revert", before)  # block N and its transaction are gone
    public_chain.wait_pending(relay_signer.address)  # the relay saw it and sent the draft again
    public_chain.mine()  # another block N: the same height as the one the relay last watched
    initiatives = Initiatives(commons)
    record = until(
        "the draft to be done again",
        lambda: (r := relayer.initiatives.store.get(accepted["id"])).status == "done" and r.block_number is not None and r,
    )
    receipt = commons.w3.eth.get_transaction_receipt(record.tx_hash)
    assert commons.w3.eth.get_block(receipt["blockNumber"])["hash"] == receipt["blockHash"]
    assert initiatives.count() == 1 and initiatives.initiative(record.initiative).author == founders[2].address


def _front_run(w3, signer, to: str, data: str, relay_tx: dict) -> str:
    """`signer` sends `data` to `to` with three times the relay transaction's tip, so it is mined first."""
    tip = int(relay_tx["maxPriorityFeePerGas"], 16) * 3
    tx = {
        "type": 2, "chainId": w3.eth.chain_id, "nonce": w3.eth.get_transaction_count(signer.address, "pending"),
        "to": to, "data": data, "gas": 300_000, "maxPriorityFeePerGas": tip,
        "maxFeePerGas": int(relay_tx["maxFeePerGas"], 16) + tip, "value": 0,
    }  # fmt: skip
    return signer.send(w3, tx).to_0x_hex()


def test_an_act_made_to_revert_in_the_relays_transaction_keeps_its_free_action(
    public_chain, commons, relay_signer, relay_db, founders
):
    """Finding: a refusal gave the slot back even when the relay's own transaction had been mined and reverted, so a
    member who withdrew their support (or used their nonce) from the wallet just before the relay's transaction was
    mined made the relay pay for a revert again and again, with unlimited free tries. A revert the relay paid for now
    costs the member that free action."""
    client, relayer = make_client(commons, relay_signer, relay_db, initiative_actions_per_day=1)
    w3, supporter = commons.w3, founders[3]
    fund(w3, supporter.address)
    initiative = settled(relayer, post(client, signed_draft(client, founders[2]))["id"], mine=public_chain.mine)["initiative"]
    accepted = post(client, signed_support(client, supporter, initiative))
    [relay_tx] = public_chain.wait_pending(relay_signer.address)
    contract = Initiatives(commons).contract
    _front_run(w3, supporter, contract.address, contract.encode_abi("withdrawSupport", args=[initiative]), relay_tx)
    ticket = settled(relayer, accepted["id"], mine=public_chain.mine)
    assert ticket["status"] == "refused" and "withdrew" in ticket["error"], ticket
    assert w3.eth.get_transaction_receipt(relay_tx["hash"])["status"] == 0  # the relay paid for a revert
    assert relayer.initiatives.allowance_of(supporter.address)["used"] == 1
    # The next try is past the allowance: the revert was not free.
    answer = client.post("/api/relay/initiatives", json=signed_support(client, supporter, initiative))
    assert answer.status_code == 429, answer.text
    relayer.stop()


def test_an_act_whose_signature_lapses_before_it_can_be_mined_is_refused_when_it_arrives(relay, commons, founders):
    """Finding: a support expiring (or a draft's deadline passing) a second after the latest block passed every
    simulation, was sent, and reverted once mined in the next block: a free way to make the relay pay for reverts."""
    client, relayer = relay
    initiative = settled(relayer, post(client, signed_draft(client, founders[2]))["id"])["initiative"]
    latest = commons.w3.eth.get_block("latest")["timestamp"]
    soon = signed_support(client, founders[3], initiative, typed_change=lambda t: t["message"].update(expiry=str(latest + 2)))
    refused = post(client, soon, 422)
    assert refused["code"] == "lapses_too_soon" and "sign it again" in refused["detail"], refused
    typed = relayer.initiatives.typed_data("draft", founders[4].address, proposal=[act.pay(SOMEONE, 1)], text=TEXT)
    typed["message"]["deadline"] = latest + 2
    signed = SignedAct(
        "draft", founders[4].address, bytes.fromhex(sign_typed(founders[4], typed)[2:]), nonce=typed["message"]["nonce"],
        deadline=latest + 2, proposal=[act.pay(SOMEONE, 1)], text=TEXT,
    )  # fmt: skip
    with pytest.raises(BallotRefused) as draft_refused:
        relayer.initiatives.accept(signed)
    assert draft_refused.value.code == "lapses_too_soon"
    assert relayer.initiatives.allowance_of(founders[3].address)["used"] == 0
    assert relayer.initiatives.allowance_of(founders[4].address)["used"] == 0
    assert Initiatives(commons).initiative(initiative).supporters == []


def test_support_typed_data_for_a_revision_the_member_did_not_read_is_refused(relay, commons, founders):
    """Finding: the relay built a support's typed data from the chain's latest revision whatever the page showed, so an
    author revising just before (or while the page's copy lagged) had members sign, blind, support for a text they
    never read (the wallet shows only its hash). The page now says which revision its member read."""
    client, relayer = relay
    author, supporter = founders[2], founders[3]
    initiative = settled(relayer, post(client, signed_draft(client, author))["id"])["initiative"]
    revise = signed_draft(client, author, text="# Seeds, and pay me\n\nChanged.", kind="revise", initiative=initiative)
    assert settled(relayer, post(client, revise)["id"])["status"] == "done"
    ask = {"kind": "support", "member": supporter.address, "initiative": initiative, "days": 7, "revision": 0}
    answer = client.post("/api/relay/initiatives/typed-data", json=ask)
    assert answer.status_code == 409, answer.text
    assert answer.json()["code"] == "revised_since_read"
    assert answer.json()["detail"] == (
        f"The author has revised initiative {initiative} since you read it (you read revision 0; it is at revision 1 "
        "now): read the new text before supporting it."
    )
    answer = client.post("/api/relay/initiatives/typed-data", json={**ask, "revision": 1})
    assert answer.status_code == 200 and answer.json()["typed_data"]["message"]["revision"] == "1", answer.text


def test_a_draft_too_large_for_a_free_action_is_refused_in_words(relay, commons, founders):
    """Finding: a free action had no size but the relay's 64 KiB body limit, so each of a member's five free drafts or
    revisions could be ~60 KB of calldata and event data (about 1.5 M gas) at the relay's cost; the relay now sends
    at most MAX_RELAYED_CALL_BYTES of call per act, and says so before the member signs."""
    client, relayer = relay
    long_text = "# A long one\n\n" + "Seeds, soil and water. " * 2000  # 46 KB: fits the body limit
    answer = client.post(
        "/api/relay/initiatives/typed-data",
        json={"kind": "draft", "member": founders[2].address, "actions": PAY, "text": long_text},
    )
    assert answer.status_code == 413 and answer.json()["code"] == "too_large", answer.status_code
    assert "post it from your wallet" in answer.json()["detail"]
    # Signed anyway (typed data made elsewhere), the relay refuses it and it costs nothing.
    typed = relayer.initiatives.typed_data("draft", founders[2].address, proposal=[act.pay(SOMEONE, 1)], text=TEXT)
    typed["message"]["proposal"]["descriptionHash"] = "0x" + keccak(text=long_text).hex()
    body = {
        "kind": "draft", "member": founders[2].address, "targets": [SOMEONE], "values": ["1"], "calldatas": ["0x"],
        "text": long_text, "nonce": str(typed["message"]["nonce"]), "deadline": str(typed["message"]["deadline"]),
        "signature": sign_typed(founders[2], typed),
    }  # fmt: skip
    refused = post(client, body, 413)
    assert refused["code"] == "too_large" and "post it from your wallet" in refused["detail"], refused
    assert relayer.initiatives.allowance_of(founders[2].address)["used"] == 0 and Initiatives(commons).count() == 0
    # A text of a few pages still goes for free.
    pages = "# A few pages\n\n" + "Seeds, soil and water. " * 500  # 11.5 KB
    assert settled(relayer, post(client, signed_draft(client, founders[2], text=pages))["id"])["status"] == "done"


def test_a_text_that_is_not_unicode_is_refused_in_words(relay, commons, founders):
    """Finding: a text holding a lone surrogate (JSON "\\ud800", valid JSON but no Unicode) made the relay's routes
    fail with a server error instead of a sentence."""
    client, relayer = relay
    good = signed_draft(client, founders[2])
    for path, body in (
        ("/api/relay/initiatives/typed-data", {"kind": "draft", "member": founders[2].address, "actions": PAY, "text": "X"}),
        ("/api/relay/initiatives", {**good, "text": "X"}),
    ):
        raw = json.dumps(body).replace('"X"', '"# Seeds \\ud800"')
        answer = client.post(path, content=raw, headers={"content-type": "application/json"})
        assert answer.status_code == 400, answer.text
        assert answer.json()["detail"] == "The text holds a character that is not Unicode (a lone surrogate): remove it."
    assert relayer.initiatives.allowance_of(founders[2].address)["used"] == 0


def test_the_relay_does_not_put_to_a_vote_with_a_support_about_to_lapse(public_chain, commons, relay_signer, relay_db, founders):
    """Finding: the relay's submission took every counting signature, so a supporter posting from the wallet a
    signature lapsing within seconds (the latest counts) had the relay send a whole submission that reverted once
    mined. Signatures lapsing within LAPSE_MARGIN_SECONDS are left out; short of support without them, it waits."""
    client, relayer = make_client(commons, relay_signer, relay_db)
    w3, short = commons.w3, founders[4]
    fund(w3, short.address)
    initiative = settled(relayer, post(client, signed_draft(client, founders[2]))["id"], mine=public_chain.mine)["initiative"]
    soon = w3.eth.get_block("latest")["timestamp"] + 30
    body = signed_support(client, short, initiative, typed_change=lambda t: t["message"].update(expiry=str(soon)))
    contract = Initiatives(commons).contract
    data = contract.encode_abi("postSupport", args=[initiative, short.address, soon, bytes.fromhex(body["signature"][2:])])
    tx = {
        "type": 2, "chainId": w3.eth.chain_id, "nonce": w3.eth.get_transaction_count(short.address, "pending"),
        "to": contract.address, "data": data, "gas": 300_000, "maxPriorityFeePerGas": 10**9, "maxFeePerGas": 10**11, "value": 0,
    }  # fmt: skip
    posted = short.send(w3, tx)
    public_chain.mine()
    assert w3.eth.get_transaction_receipt(posted)["status"] == 1
    ticket = settled(relayer, post(client, signed_support(client, founders[3], initiative))["id"], mine=public_chain.mine)
    assert ticket["status"] == "done"
    with relay_db.connect() as conn:
        kinds = [k for (k,) in conn.execute(sa.text("SELECT kind FROM relay_initiative_act"))]
    assert "submit" not in kinds
    assert Initiatives(commons).initiative(initiative).status == "open"
    relayer.stop()
