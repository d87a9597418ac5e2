"""The vote relay over HTTP, against anvil: checks, refusals in words, batching, idempotency, limits."""

import json
import threading
import time

import pytest
from eth_account.messages import encode_typed_data
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.db import make_engine, migrate
from api.errors import add_error_handlers
from api.relay_store import SqlRelayStore
from api.routes.relay import router
from governance import actions as act
from governance.ballots import Ballot
from governance.relayer import Relayer, RelayOptions
from tests import helpers
from tests.helpers import fund, propose, to_voting, vote

OUTSIDER = helpers.test_key_signer("outsider")


@pytest.fixture
def relay_signer(w3):
    signer = helpers.test_key_signer("relayer")
    fund(w3, signer.address)
    return signer


@pytest.fixture
def relay_db(tmp_path):
    """A migrated SQLite cache of the test's own, where the relay keeps its ballots."""
    engine = make_engine(f"sqlite:///{tmp_path / 'relay.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


STARTED: list[Relayer] = []


@pytest.fixture(autouse=True)
def stop_relayers():
    """Stop every relayer a test started, even when it failed before stopping it (the next test would meet it)."""
    yield
    while STARTED:
        STARTED.pop().stop()


def make_client(commons, relay_signer, engine, **options) -> tuple[TestClient, Relayer]:
    store = SqlRelayStore(engine)
    relayer = Relayer(commons, relay_signer, store, RelayOptions(**{"batch_window": 0.05, **options})).start()
    STARTED.append(relayer)
    app = FastAPI()
    add_error_handlers(app)
    app.include_router(router)
    app.state.relayer = relayer
    return TestClient(app), relayer


@pytest.fixture
def relay(commons, relay_signer, relay_db):
    client, relayer = make_client(commons, relay_signer, relay_db)
    yield client
    relayer.stop()


@pytest.fixture
def open_proposal(commons, stewards) -> int:
    pid = propose(commons, stewards[0], [act.pay("0x000000000000000000000000000000000000bEEF", 1)], "Buy seeds")
    to_voting(commons, pid)
    return pid


def signed_ballot(client: TestClient, signer, proposal_id: int, support: str = "for", reason: str = "") -> dict:
    """Fetch the typed data from the relay, sign it as a wallet would, and return the submission body."""
    response = client.post(
        "/api/relay/typed-data",
        json={"proposal_id": str(proposal_id), "support": support, "voter": signer.address, "reason": reason},
    )
    assert response.status_code == 200, response.text
    data = response.json()
    signature = signer.account.sign_message(encode_typed_data(full_message=data)).signature
    return {
        **{k: data["message"][k] for k in ("proposalId", "voter", "nonce", "reason")},
        "proposal_id": str(proposal_id),
        "support": support,
        "signature": "0x" + bytes(signature).hex(),
    }


def wait_settled(client: TestClient, ticket_id: str, timeout: float = 20.0) -> dict:
    """The ballot's ticket once it is counted or refused (the relay's threads work meanwhile)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ticket = client.get(f"/api/relay/ballots/{ticket_id}").json()
        if ticket["status"] not in ("queued", "sent"):
            return ticket
        threading.Event().wait(0.02)
    raise AssertionError(f"ballot {ticket_id} never settled: {ticket}")


def settled(relayer: Relayer, ticket_id: str, timeout: float = 20.0):
    """The stored ballot once it is counted or refused."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = relayer.ticket(ticket_id)
        if not record.live:
            return record
        threading.Event().wait(0.02)
    raise AssertionError(f"ballot {ticket_id} never settled: {record}")


def test_member_ballot_with_reason_is_counted_on_chain(relay, commons, founders, open_proposal):
    body = signed_ballot(relay, founders[2], open_proposal, "against", "Seeds are cheaper in spring")
    response = relay.post("/api/relay/ballots", json=body)
    assert response.status_code == 202, response.text
    assert response.json()["tx_hash"].startswith("0x")
    assert wait_settled(relay, response.json()["id"])["status"] == "counted"
    logs = commons.governor.events.VoteCast().get_logs(from_block=0)
    assert [(e["args"]["voter"], e["args"]["support"], e["args"]["reason"]) for e in logs] == [
        (founders[2].address, 0, "Seeds are cheaper in spring")
    ]


def test_same_ballot_twice_is_one_transaction(relay, commons, founders, open_proposal):
    body = signed_ballot(relay, founders[2], open_proposal, "for", "twice")
    first = relay.post("/api/relay/ballots", json=body).json()
    wait_settled(relay, first["id"])
    second = relay.post("/api/relay/ballots", json=body)
    assert second.status_code == 202 and second.json()["tx_hash"] == first["tx_hash"]
    assert len(commons.governor.events.VoteCast().get_logs(from_block=0)) == 1


def test_ballot_signed_by_someone_else_is_refused_and_costs_nothing(relay, w3, relay_signer, founders, open_proposal):
    body = signed_ballot(relay, founders[2], open_proposal)
    forged = {**body, "voter": founders[3].address}
    before = w3.eth.get_balance(relay_signer.address)
    response = relay.post("/api/relay/ballots", json=forged)
    assert response.status_code == 400 and response.json()["code"] == "bad_signature"
    assert "signature is not" in response.json()["detail"]
    assert w3.eth.get_balance(relay_signer.address) == before


def test_non_member_ballot_is_refused_with_403(relay, open_proposal):
    response = relay.post("/api/relay/ballots", json=signed_ballot(relay, OUTSIDER, open_proposal))
    assert response.status_code == 403 and response.json()["code"] == "not_member"
    assert "had no vote" in response.json()["detail"]


def test_ballot_before_voting_opens_is_refused_with_409(relay, commons, stewards, founders):
    pid = propose(commons, stewards[0], [act.pay("0x000000000000000000000000000000000000bEEF", 1)], "Too early")
    response = relay.post("/api/relay/ballots", json=signed_ballot(relay, founders[2], pid))
    assert response.status_code == 409 and response.json()["code"] == "voting_not_open"
    assert "it opens on" in response.json()["detail"]


def test_member_who_already_voted_is_refused_with_409(relay, commons, founders, open_proposal):
    body = signed_ballot(relay, founders[2], open_proposal)
    vote(commons, founders[2], open_proposal, "against")
    response = relay.post("/api/relay/ballots", json=body)
    assert response.status_code == 409 and response.json()["code"] == "already_voted"


def test_ballot_claiming_another_nonce_is_refused_with_409(relay, founders, open_proposal):
    body = signed_ballot(relay, founders[2], open_proposal)
    response = relay.post("/api/relay/ballots", json={**body, "nonce": "7"})
    assert response.status_code == 409 and response.json()["code"] == "stale_nonce"
    assert "sign it anew" in response.json()["detail"]


def test_malformed_signature_is_refused_with_400_in_words(relay, founders, open_proposal):
    body = signed_ballot(relay, founders[2], open_proposal)
    response = relay.post("/api/relay/ballots", json={**body, "signature": "0x1234"})
    assert response.status_code == 400 and "65 bytes" in response.json()["detail"]


def test_unknown_proposal_is_refused_with_404(relay, founders, open_proposal):
    response = relay.post("/api/relay/ballots", json=signed_ballot(relay, founders[2], open_proposal + 1))
    assert response.status_code == 404 and response.json()["code"] == "unknown_proposal"


def test_typed_data_carries_ids_as_decimal_strings_and_the_next_nonce(relay, founders, open_proposal):
    data = relay.post(
        "/api/relay/typed-data", json={"proposal_id": str(open_proposal), "support": "abstain", "voter": founders[2].address}
    ).json()
    assert data["primaryType"] == "ExtendedBallot"
    assert data["message"]["proposalId"] == str(open_proposal) and data["message"]["nonce"] == "0"
    assert data["message"]["support"] == 2


def test_ballots_arriving_together_share_one_transaction(commons, relay_signer, relay_db, founders, open_proposal):
    client, relayer = make_client(commons, relay_signer, relay_db, batch_window=3600.0, max_batch=5)
    bodies = [signed_ballot(client, f, open_proposal, "for", f"reason {i}") for i, f in enumerate(founders[:5])]
    results: list = [None] * len(bodies)

    def send(i):
        results[i] = client.post("/api/relay/ballots", json=bodies[i]).json()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        settled(relayer, r["id"])
    relayer.stop()
    assert len({r["tx_hash"] for r in results}) == 1 and results[0]["batch_size"] == 5
    assert commons.governor.functions.proposalVotes(open_proposal).call()[1] == 5


def test_ballot_gone_bad_in_a_batch_is_refused_and_the_rest_land(commons, relay_signer, relay_db, founders, open_proposal):
    client, relayer = make_client(commons, relay_signer, relay_db, batch_window=3600.0)
    tickets = [relayer.submit(*ballot_and_signature(client, f, open_proposal)) for f in founders[2:5]]
    vote(commons, founders[3], open_proposal, "against")  # votes from the wallet while the batch waits
    relayer.options.batch_window = 0.0
    tickets = [settled(relayer, t.id) for t in tickets]
    relayer.stop()
    assert tickets[1].status == "refused" and "already voted" in tickets[1].error
    assert tickets[0].tx_hash == tickets[2].tx_hash is not None
    assert commons.governor.functions.proposalVotes(open_proposal).call() == [1, 2, 0]


def ballot_and_signature(client, signer, proposal_id):
    body = signed_ballot(client, signer, proposal_id)
    ballot = Ballot(proposal_id, 1, signer.address, int(body["nonce"]), "")
    return ballot, bytes.fromhex(body["signature"][2:])


def test_voter_past_their_rate_limit_gets_429(commons, relay_signer, relay_db, stewards, founders, open_proposal):
    second = propose(commons, stewards[0], [act.pay("0x000000000000000000000000000000000000bEEF", 2)], "Buy tools")
    to_voting(commons, second)
    client, relayer = make_client(commons, relay_signer, relay_db, voter_rate_per_minute=1)
    first = client.post("/api/relay/ballots", json=signed_ballot(client, founders[2], open_proposal, "for"))
    wait_settled(client, first.json()["id"])
    response = client.post("/api/relay/ballots", json=signed_ballot(client, founders[2], second, "against"))
    relayer.stop()
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "at most 1 a minute" in response.json()["detail"]


def test_client_past_its_rate_limit_gets_429(commons, relay_signer, relay_db, founders, open_proposal):
    client, relayer = make_client(commons, relay_signer, relay_db, client_rate_per_minute=1)
    client.post("/api/relay/ballots", json=signed_ballot(client, founders[2], open_proposal))
    response = client.post("/api/relay/ballots", json=signed_ballot(client, founders[3], open_proposal))
    relayer.stop()
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"


def test_relay_low_on_funds_answers_503_in_words(relay, w3, relay_signer, founders, open_proposal):
    fund(w3, relay_signer.address, 10**9)
    response = relay.post("/api/relay/ballots", json=signed_ballot(relay, founders[2], open_proposal))
    assert response.status_code == 503 and "too little to pay" in response.json()["detail"]


def test_relay_status_shows_account_and_availability(relay, relay_signer):
    status = relay.get("/api/relay/status").json()
    assert status["address"] == relay_signer.address and status["available"] is True


def test_one_voter_ballots_on_two_proposals_in_one_batch_both_land(
    commons, relay_signer, relay_db, stewards, founders, open_proposal
):
    second = propose(commons, stewards[0], [act.pay("0x000000000000000000000000000000000000bEEF", 2)], "Buy tools")
    to_voting(commons, second)
    client, relayer = make_client(commons, relay_signer, relay_db, batch_window=3600.0)
    first = relayer.submit(*ballot_and_signature(client, founders[2], open_proposal))
    then = relayer.submit(*ballot_and_signature(client, founders[2], second))  # signed with the next nonce
    relayer.options.batch_window = 0.0
    # Sent is not mined: anvil answers eth_sendRawTransaction before its automine has mined the block, so
    # reading hasVoted right after "sent" raced the miner (the flaky [False, True]). Wait until counted.
    first, then = settled(relayer, first.id), settled(relayer, then.id)
    relayer.stop()
    assert (first.status, then.status) == ("counted", "counted")
    assert (first.ballot.nonce, then.ballot.nonce) == (0, 1) and first.tx_hash == then.tx_hash
    assert [commons.governor.functions.hasVoted(p, founders[2].address).call() for p in (open_proposal, second)] == [True, True]


def test_a_reason_that_is_not_unicode_is_refused_in_words(relay, founders, open_proposal):
    """A reason holding a lone surrogate (JSON "\\ud800": valid JSON, not Unicode) answers 400 with a sentence; it made
    the relay's routes fail with a server error."""
    for path, body in (
        (
            "/api/relay/typed-data",
            {"proposal_id": str(open_proposal), "support": "for", "voter": founders[2].address, "reason": "X"},
        ),
        ("/api/relay/ballots", {**signed_ballot(relay, founders[2], open_proposal), "reason": "X"}),
    ):
        raw = json.dumps(body).replace('"X"', '"Seeds \\ud800"')
        answer = relay.post(path, content=raw, headers={"content-type": "application/json"})
        assert answer.status_code == 400, answer.text
        assert answer.json()["detail"] == "The reason holds a character that is not Unicode (a lone surrogate): remove it."
