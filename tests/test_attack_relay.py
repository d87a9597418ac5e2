"""The relay attacked: by a real chain (reorganisations), by a member's own wallet contract, and by copies.

Each test is an attack an outsider, a malicious member or the chain itself can make on the relay of
issue 8; a member told "counted" must be counted, and nobody may sink other members' ballots.
"""

# ruff: noqa: F811  (fixtures imported from the relay tests are test parameters here)

from governance import actions as act
from governance.ballots import Ballot
from tests.helpers import propose, to_voting, vote
from tests.test_relay import (  # noqa: F401  (fixtures)
    ballot_and_signature,
    make_client,
    open_proposal,
    relay_db,
    relay_signer,
    settled,
    stop_relayers,
)
from tests.test_relay_public_chain import chain, rpc, submit_all, until  # noqa: F401  (fixtures)


def mine_until(chain, what: str, check):
    """Mine a block whenever the relay has put something in the mempool, until `check()` holds."""

    def step():
        if rpc(chain.w3, "txpool_status")["pending"] != "0x0":
            chain.mine()
        return check()

    return until(what, step)


def test_ballot_counted_then_reorganised_away_is_counted_again(chain, commons, relay_signer, relay_db, founders, open_proposal):
    """A block holding the relay's batch is reorganised away (evm_revert stands in for a reorg that drops the
    transaction): a ballot reported counted must not stay reported counted while the chain has no vote."""
    client, relayer = make_client(commons, relay_signer, relay_db, batch_window=0.3)
    voters = founders[:3]
    tickets = submit_all(relayer, client, voters, open_proposal)
    chain.wait_pending(relay_signer.address)
    before = rpc(commons.w3, "evm_snapshot")
    chain.mine()
    assert [settled(relayer, t.id).status for t in tickets] == ["counted"] * 3
    rpc(commons.w3, "evm_revert", before)  # the block and its transaction are gone
    chain.mine()
    voted = commons.governor.functions.hasVoted
    mine_until(chain, "the ballots counted again", lambda: all(voted(open_proposal, v.address).call() for v in voters))
    records = [settled(relayer, t.id) for t in tickets]
    relayer.stop()
    assert [r.status for r in records] == ["counted"] * 3
    receipts = [commons.w3.eth.get_transaction_receipt(r.tx_hash) for r in records]
    assert all(commons.w3.eth.get_block(x["blockNumber"])["hash"] == x["blockHash"] for x in receipts)
    assert commons.governor.functions.proposalVotes(open_proposal).call() == [0, 3, 0]


# A member's wallet contract (an EIP-7702 account, a smart wallet) that approves any ballot in a simulation
# (gas price 0) and burns every bit of gas it is given in a real transaction.
GAS_BURNING_WALLET = "0x3a156009575b6005565b631626ba7e60e01b60005260206000f3"


def test_member_wallet_burning_gas_on_chain_does_not_sink_the_batch(
    chain, commons, relay_signer, relay_db, founders, open_proposal
):
    client, relayer = make_client(commons, relay_signer, relay_db, batch_window=0.3)
    w3 = commons.w3
    burner, honest = founders[5], founders[:4]
    rpc(w3, "anvil_setCode", burner.address, GAS_BURNING_WALLET)
    relayer.options.batch_window = 3600.0
    burning = relayer.submit(Ballot(open_proposal, 1, burner.address, 0, ""), b"\x01" * 65)
    tickets = [relayer.submit(*ballot_and_signature(client, voter, open_proposal)) for voter in honest]
    relayer.options.batch_window = 0.0
    voted = commons.governor.functions.hasVoted
    mine_until(chain, "the honest ballots counted", lambda: all(voted(open_proposal, v.address).call() for v in honest))
    records = [settled(relayer, t.id) for t in tickets]
    # The burner's ballot is refused in the end, and not sent again and again at the relay's expense.
    burnt = mine_until(chain, "the burning ballot settled", lambda: (r := relayer.ticket(burning.id)) and not r.live and r)
    relayer.stop()
    assert [r.status for r in records] == ["counted"] * 4
    assert burnt.status == "refused" and burnt.attempts <= 3, burnt
    assert "wallet" in burnt.error


def test_voter_turning_wallet_while_the_batch_is_pending_does_not_sink_it(
    chain, commons, relay_signer, relay_db, founders, open_proposal
):
    """An EOA voter gives their account code (an EIP-7702 delegation, sent with a higher tip) once the relay's
    batch of plain ballots is in the mempool: their ballot burns its gas, the others still count in that batch."""
    client, relayer = make_client(commons, relay_signer, relay_db, batch_window=0.3)
    w3, voters = commons.w3, founders[:4]
    tickets = submit_all(relayer, client, voters, open_proposal)
    [relay_tx] = chain.wait_pending(relay_signer.address)
    rpc(w3, "anvil_setCode", voters[1].address, GAS_BURNING_WALLET)
    chain.mine()
    receipt = w3.eth.get_transaction_receipt(relay_tx["hash"])
    honest = [t for i, t in enumerate(tickets) if i != 1]
    records = [settled(relayer, t.id) for t in honest]
    burnt = mine_until(chain, "the burning ballot settled", lambda: (r := relayer.ticket(tickets[1].id)) and not r.live and r)
    relayer.stop()
    assert receipt["status"] == 1
    assert [(r.status, r.tx_hash) for r in records] == [("counted", relay_tx["hash"])] * 3
    assert burnt.status == "refused" and burnt.attempts <= 3, burnt


def test_ballot_behind_a_refused_one_of_the_same_voter_is_refused_in_plain_words(
    commons, relay_signer, relay_db, stewards, founders, open_proposal
):
    """A member's relayed ballots on two proposals carry consecutive nonces; the member then votes on the first from
    their wallet, so the relay's first ballot is refused and the second, signed over a nonce the governor will never
    reach, cannot count either. The member must be told why in words, and what to do."""
    second = propose(commons, stewards[0], [act.pay(stewards[0].address, 2)], "Buy tools")
    to_voting(commons, second)
    client, relayer = make_client(commons, relay_signer, relay_db)
    voter = founders[3]
    relayer.options.batch_window = 3600.0
    first_ticket = relayer.submit(*ballot_and_signature(client, voter, open_proposal))
    second_ticket = relayer.submit(*ballot_and_signature(client, voter, second))
    vote(commons, voter, open_proposal, "against")
    relayer.options.batch_window = 0.0
    first, later = settled(relayer, first_ticket.id), settled(relayer, second_ticket.id)
    relayer.stop()
    assert first.status == "refused" and "already voted" in first.error
    assert later.status == "refused"
    assert "was not counted" in later.error and "sign it anew" in later.error, later.error
