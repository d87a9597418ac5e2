"""Ballots that pass every check when the relay simulates and sends their batch but meet a different chain when the
batch is mined (anvil with automine off, blocks mined by the test), and a relayer keystore that will not open.

- Voting closes between sending and mining: the ballot is refused in words, the rest of its batch counts, and the
  relay neither pays for it again nor leaves it `sent`.
- The voter is removed from the membership ahead of the batch (a removal proposal executed by an attacker with a
  higher tip, in the batch's block or the one before it): the governor reads a vote's weight at the proposal's
  snapshot, so the ballot still counts, and its ticket must say so.
- A wrong password for the relayer's keystore: the error says so without the keystore's full path or any key material.
"""

# ruff: noqa: F811  (the relay fixtures imported from tests/test_relay.py are test parameters here)

import json
import traceback

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from web3.logs import DISCARD

from api.app import create_app
from governance import actions as act
from governance.compiler import load_artifacts
from governance.config import get_settings
from governance.errors import ConfigurationError
from governance.keys import relayer_signer
from tests.cache_support import fresh_sqlite
from tests.helpers import advance, advance_to, assert_in_words, propose, to_deadline_passed, to_voting, vote
from tests.test_relay import (  # noqa: F401  (fixtures)
    ballot_and_signature,
    make_client,
    open_proposal,
    relay_db,
    relay_signer,
    settled,
    stop_relayers,
)
from tests.test_relay_public_chain import ATTACKER, attacker, ballots_in, chain, rpc  # noqa: F401  (fixtures)

SOMEONE = "0x000000000000000000000000000000000000bEEF"
# Where the batch is mined relative to the block that changes what its ballot finds: in that very block (behind it),
# or in the block after it (the batch priced out of that block by a fee spike, then replaced by the relay).
IN_THAT_BLOCK, IN_THE_NEXT_BLOCK = "in that block", "in the next block"


def automine(w3, on: bool) -> None:
    rpc(w3, "evm_setAutomine", on)


def submit_together(relayer, client, ballots: list) -> list:
    """Each (voter, proposal id) ballot accepted while the relay holds its batch; then the batch goes as one transaction."""
    relayer.options.batch_window = 3600.0
    tickets = [relayer.submit(*ballot_and_signature(client, voter, pid)) for voter, pid in ballots]
    relayer.options.batch_window = 0.0
    return tickets


def price_out_of_next_block(w3, relay_tx: dict, factor: int = 4) -> None:
    """A fee spike: the next block's base fee over the relay transaction's fee cap, so that block leaves it waiting."""
    rpc(w3, "anvil_setNextBlockBaseFeePerGas", hex(int(relay_tx["maxFeePerGas"], 16) * factor))


def skipped_in(commons, tx_hash: str) -> list[tuple[str, int]]:
    """(voter, proposal id) of each ballot the VoteBatcher skipped in a mined transaction."""
    batcher = commons.w3.eth.contract(address=commons.manifest.vote_batcher, abi=load_artifacts()["VoteBatcher"].abi)
    receipt = commons.w3.eth.get_transaction_receipt(tx_hash)
    events = batcher.events.BallotSkipped().process_receipt(receipt, errors=DISCARD)
    return [(e["args"]["voter"], e["args"]["proposalId"]) for e in events]


# ---- 1a. voting closes while the batch waits -----------------------------------------------------------------------


@pytest.fixture
def closing_and_open(chain, commons, stewards, open_proposal) -> tuple[int, int]:
    """(closing, still_open): the module's open proposal, its deadline 30 s away, and one opened later."""
    w3 = commons.w3
    automine(w3, True)
    advance(w3, 600)
    later = propose(commons, stewards[0], [act.pay(SOMEONE, 2)], "Buy tools")
    to_voting(commons, later)
    advance_to(w3, commons.governor.functions.proposalDeadline(open_proposal).call() - 30)
    automine(w3, False)
    return open_proposal, later


@pytest.mark.parametrize("mined", [IN_THAT_BLOCK, IN_THE_NEXT_BLOCK])
def test_ballot_on_a_vote_that_closes_before_its_batch_is_mined_is_refused_and_the_rest_count(
    chain, commons, relay_signer, relay_db, founders, closing_and_open, mined
):
    closing, still_open = closing_and_open
    w3 = commons.w3
    client, relayer = make_client(commons, relay_signer, relay_db, batch_window=0.3)
    voters = [(founders[2], still_open), (founders[3], closing), (founders[4], still_open)]
    tickets = submit_together(relayer, client, voters)
    [relay_tx] = chain.wait_pending(relay_signer.address)
    assert len(ballots_in(relay_tx)) == 3  # sent while voting on `closing` was open: all three passed the simulation

    deadline = commons.governor.functions.proposalDeadline(closing).call()
    rpc(w3, "evm_setNextBlockTimestamp", deadline + 1)
    if mined == IN_THE_NEXT_BLOCK:
        price_out_of_next_block(w3, relay_tx)
        closing_block = chain.mine()
        assert relay_tx["hash"] not in [h.to_0x_hex() for h in closing_block["transactions"]]
        [relay_tx] = chain.wait_pending(relay_signer.address, other_than=(relay_tx["hash"],))  # the relay's replacement
    batch_block = chain.mine()
    assert relay_tx["hash"] in [h.to_0x_hex() for h in batch_block["transactions"]]
    assert batch_block["timestamp"] > deadline

    tickets = [settled(relayer, t.id) for t in tickets]
    assert [t.status for t in tickets] == ["counted", "refused", "counted"]
    assert {tickets[0].tx_hash, tickets[2].tx_hash} == {relay_tx["hash"]}
    assert skipped_in(commons, relay_tx["hash"]) == [(founders[3].address, closing)]
    shown = client.get(f"/api/relay/ballots/{tickets[1].id}").json()
    assert shown["status"] == "refused" and "not open" in shown["error"], shown
    assert_in_words(shown["error"])
    assert "0x" not in shown["error"], shown["error"]  # the reason names no transaction, address or revert data
    assert commons.governor.functions.proposalVotes(closing).call() == [0, 0, 0]
    assert commons.governor.functions.proposalVotes(still_open).call() == [0, 2, 0]

    # The relay moves on: the next ballot goes alone at the next nonce; the refused one is never sent again.
    [later] = submit_together(relayer, client, [(founders[5], still_open)])
    [next_tx] = chain.wait_pending(relay_signer.address)
    assert int(next_tx["nonce"], 16) == int(relay_tx["nonce"], 16) + 1 and len(ballots_in(next_tx)) == 1
    chain.mine()
    assert settled(relayer, later.id).status == "counted"
    refused = relayer.ticket(tickets[1].id)
    relayer.stop()
    assert (refused.status, refused.attempts) == ("refused", 1)
    assert relayer.store.pending_transactions(relay_signer.address) == []
    assert chain.pending_from(relay_signer.address) == []
    assert w3.eth.get_transaction_count(relay_signer.address) == int(relay_tx["nonce"], 16) + 2


# ---- 1b. the voter is removed while the batch waits ----------------------------------------------------------------


@pytest.fixture
def removal_ready(chain, commons, stewards, founders, attacker) -> tuple[int, int]:
    """(removal, open): a passed and queued proposal removing founders[3], executable now by anyone, and a proposal
    open for voting whose snapshot was taken while founders[3] was a member."""
    w3 = commons.w3
    automine(w3, True)
    removal = propose(commons, stewards[0], [act.remove(commons.addresses, founders[3].address)], "Remove founder3")
    to_voting(commons, removal)
    for member in founders[:2]:
        vote(commons, member, removal, "for")
    to_deadline_passed(commons, removal)
    commons.submit(commons.plan_lifecycle("queue", removal), attacker)
    opened = propose(commons, stewards[0], [act.pay(SOMEONE, 3)], "Mend the fence")
    to_voting(commons, opened)
    advance_to(w3, commons.governor.functions.proposalEta(removal).call())
    automine(w3, False)
    return removal, opened


def execute_ahead(commons, removal: int, relay_tx: dict) -> str:
    """An attacker executes the removal with three times the relay's tip (a block builder puts it first)."""
    w3 = commons.w3
    tip = int(relay_tx["maxPriorityFeePerGas"], 16) * 3
    tx = {
        "type": 2,
        "chainId": w3.eth.chain_id,
        "nonce": w3.eth.get_transaction_count(ATTACKER.address, "pending"),
        "to": commons.manifest.governor,
        "data": commons.plan_lifecycle("execute", removal).data,
        "gas": 1_000_000,
        "maxPriorityFeePerGas": tip,
        "maxFeePerGas": int(relay_tx["maxFeePerGas"], 16) * 8,
        "value": 0,
    }
    return ATTACKER.send(w3, tx).to_0x_hex()


@pytest.mark.parametrize("mined", [IN_THAT_BLOCK, IN_THE_NEXT_BLOCK])
def test_ballot_of_a_voter_removed_before_its_batch_is_mined_still_counts(
    chain, commons, relay_signer, relay_db, founders, attacker, removal_ready, mined
):
    """The governor reads a vote's weight at the proposal's snapshot (OpenZeppelin; see tests/test_adversarial.py):
    a member removed after it keeps that vote, so the ballot is not gone bad, and its ticket must not say it is."""
    removal, opened = removal_ready
    w3 = commons.w3
    client, relayer = make_client(commons, relay_signer, relay_db, batch_window=0.3)
    tickets = submit_together(relayer, client, [(f, opened) for f in founders[2:5]])
    [relay_tx] = chain.wait_pending(relay_signer.address)
    executed = execute_ahead(commons, removal, relay_tx)

    if mined == IN_THE_NEXT_BLOCK:
        price_out_of_next_block(w3, relay_tx, factor=2)  # under the attacker's fee cap, over the relay's
        removal_block = chain.mine()
        assert [h.to_0x_hex() for h in removal_block["transactions"]] == [executed]
        [relay_tx] = chain.wait_pending(relay_signer.address, other_than=(relay_tx["hash"],))
    batch_block = chain.mine()
    mined_hashes = [h.to_0x_hex() for h in batch_block["transactions"]]
    assert mined_hashes == ([executed, relay_tx["hash"]] if mined == IN_THAT_BLOCK else [relay_tx["hash"]])
    assert not commons.membership.functions.isMember(founders[3].address).call()

    tickets = [settled(relayer, t.id) for t in tickets]
    relayer.stop()
    assert [(t.status, t.tx_hash, t.counted_by_relay) for t in tickets] == [("counted", relay_tx["hash"], True)] * 3
    assert client.get(f"/api/relay/ballots/{tickets[1].id}").json()["status"] == "counted"
    assert skipped_in(commons, relay_tx["hash"]) == []
    assert commons.governor.functions.hasVoted(opened, founders[3].address).call()
    assert commons.governor.functions.proposalVotes(opened).call() == [0, 3, 0]


# ---- 3. a wrong relayer keystore password --------------------------------------------------------------------------


@pytest.fixture
def relayer_keystore(tmp_path, relay_signer) -> tuple:
    """(path, keystore JSON, key hex): the relayer's key encrypted with the password "right", in a folder of its own."""
    folder = tmp_path / "secrets-of-the-operator"
    folder.mkdir()
    encrypted = Account.encrypt(relay_signer.account.key, "right")
    path = folder / "relayer-keystore.json"
    path.write_text(json.dumps(encrypted))
    return path, encrypted, bytes(relay_signer.account.key).hex()


def secrets_in(keystore: dict, key_hex: str, path) -> list[str]:
    """What an error about the keystore must never contain: its full path and folder, the key, the encrypted key and
    what decrypts it."""
    crypto = keystore["crypto"]
    return [
        str(path),
        str(path.parent),
        key_hex,
        key_hex.upper(),
        crypto["ciphertext"],
        crypto["mac"],
        crypto["kdfparams"]["salt"],
        crypto["cipherparams"]["iv"],
        "right",
    ]


def assert_tells_nothing(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} in {text!r}"


def test_wrong_relayer_keystore_password_names_neither_the_path_nor_the_key(relayer_keystore, settings_env):
    path, keystore, key_hex = relayer_keystore
    settings_env(relayer_keystore=path, relayer_keystore_password="wrong")
    with pytest.raises(ConfigurationError) as refused:
        relayer_signer(get_settings())
    message = str(refused.value)
    assert "wrong password" in message and path.name in message
    # The whole chain of exceptions, as a log or a crash report would print it.
    assert_tells_nothing("".join(traceback.format_exception(refused.value)), secrets_in(keystore, key_hex, path))


def test_relayer_keystore_holding_something_else_is_a_clear_error_without_it(relayer_keystore, settings_env):
    """An operator who points COMMONS_RELAYER_KEYSTORE at the bare key, or at a keystore of another format."""
    path, keystore, key_hex = relayer_keystore
    settings_env(relayer_keystore=path, relayer_keystore_password="right")
    for content in (key_hex, "0x" + key_hex, json.dumps("0x" + key_hex), json.dumps({"address": "00" * 20})):
        path.write_text(content)
        with pytest.raises(ConfigurationError) as refused:
            relayer_signer(get_settings())
        assert "damaged" in str(refused.value)
        assert_tells_nothing("".join(traceback.format_exception(refused.value)), secrets_in(keystore, key_hex, path))


def test_relay_with_a_wrong_keystore_password_answers_503_naming_neither_the_path_nor_the_key(
    tmp_path, anvil_url, deployed, relayer_keystore, settings_env
):
    path, keystore, key_hex = relayer_keystore
    settings_env(relayer_keystore=path, relayer_keystore_password="wrong", rpc_url=anvil_url)
    with TestClient(create_app(fresh_sqlite(tmp_path), deployed, anvil_url, upgrade_schema=False)) as client:
        response = client.get("/api/relay/status")
    assert response.status_code == 503 and response.json()["code"] == "relay_unavailable"
    assert "wrong password" in response.json()["detail"]
    assert_tells_nothing(response.text, secrets_in(keystore, key_hex, path))


def test_relayer_keystore_without_a_password_names_the_relay_s_own_setting(relayer_keystore, settings_env, monkeypatch):
    path, _, _ = relayer_keystore
    for unset in ("COMMONS_RELAYER_KEYSTORE_PASSWORD", "COMMONS_KEYSTORE_PASSWORD"):
        monkeypatch.delenv(unset, raising=False)
    settings_env(relayer_keystore=path)
    with pytest.raises(ConfigurationError, match="COMMONS_RELAYER_KEYSTORE_PASSWORD"):
        relayer_signer(get_settings())
