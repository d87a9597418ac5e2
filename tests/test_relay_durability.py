"""The relay's promises outlive its process: replicas on one PostgreSQL database share one queue and send
from one process at a time, and a relay process killed with SIGKILL at any moment loses no accepted
ballot and counts none twice once it is started again."""

# ruff: noqa: F811  (fixtures imported from the other relay tests are test parameters here)

import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from api.db import make_engine, migrate
from api.relay_store import SqlRelayStore
from governance import actions as act
from governance.ballots import Ballot, sign
from governance.config import PROJECT_ROOT
from governance.relayer import Relayer, RelayOptions
from tests.helpers import free_port, propose, to_voting
from tests.test_relay import (  # noqa: F401  (fixtures)
    STARTED,
    make_client,
    open_proposal,
    relay_db,
    relay_signer,
    signed_ballot,
    stop_relayers,
)
from tests.test_relay_public_chain import chain, rpc, until  # noqa: F401  (fixtures)


@pytest.fixture
def relay_pg(pg_database):
    """The session's PostgreSQL database (a throwaway one, see tests/cache_support.py) with the relay's tables emptied."""
    engine = make_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE relay_ballot, relay_transaction, relay_initiative_act RESTART IDENTITY"))
    yield pg_database
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def relay_database(request, tmp_path) -> str:
    """The URL of an empty, migrated relay store: a SQLite file of the test's own, or the session's PostgreSQL database."""
    if request.param == "postgresql":
        return request.getfixturevalue("relay_pg")
    url = f"sqlite:///{tmp_path / 'relay.db'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


def replica(commons, signer, database_url: str) -> Relayer:
    """One API process's relay: its own engine (own connections) on the shared database."""
    relayer = Relayer(commons, signer, SqlRelayStore(make_engine(database_url)), RelayOptions(batch_window=0.2)).start()
    STARTED.append(relayer)
    return relayer


def signed(commons, voter, proposal_id: int, nonce: int | None = None) -> tuple[Ballot, bytes]:
    """The voter's ballot For, signed with their next nonce (or `nonce`)."""
    if nonce is None:
        nonce = commons.governor.functions.nonces(voter.address).call()
    ballot = Ballot(proposal_id, 1, voter.address, nonce, f"nonce {nonce}")
    return ballot, sign(ballot, commons.ballot_domain(), voter.account)


def mine_until_counted(chain, relayer: Relayer, tickets: list) -> list:
    """Mine blocks until every ticket is counted (the relay sends in as many batches as it likes); returns them."""

    def counted():
        chain.mine()
        records = [relayer.ticket(t.id) for t in tickets]
        return records if all(r.status == "counted" for r in records) else None

    return until("every ballot to be counted", counted)


def test_replicas_on_postgres_share_one_queue_and_one_sender(chain, commons, relay_signer, relay_pg, founders, open_proposal):
    replicas = [replica(commons, relay_signer, relay_pg) for _ in range(2)]
    holder = until("one replica to claim sending", lambda: next((r for r in replicas if r.sender.holding), None))
    other = replicas[1 - replicas.index(holder)]
    # Ballots accepted by both replicas are sent by the one that holds the claim.
    tickets = [replicas[i % 2].submit(*signed(commons, f, open_proposal)) for i, f in enumerate(founders[:4])]
    first = mine_until_counted(chain, other, tickets)
    assert not other.sender.holding
    # The sender goes away; the other replica takes over and sends what it accepts.
    holder.stop()
    until("the other replica to claim sending", lambda: other.sender.holding)
    later = [other.submit(*signed(commons, f, open_proposal)) for f in founders[4:]]
    records = first + mine_until_counted(chain, other, later)
    other.stop()
    assert all(r.counted_by_relay for r in records)
    assert commons.governor.functions.proposalVotes(open_proposal).call() == [0, 6, 0]


def test_copies_of_one_ballot_racing_into_two_replicas_get_one_ticket(
    chain, commons, relay_signer, relay_pg, founders, open_proposal
):
    clients = [make_client(commons, relay_signer, make_engine(relay_pg), batch_window=0.2) for _ in range(2)]
    body = signed_ballot(clients[0][0], founders[2], open_proposal, "for", "one ballot, two doors")
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda i: clients[i % 2][0].post("/api/relay/ballots", json=body), range(50)))
    assert {a.status_code for a in answers} == {202}, [a.json() for a in answers if a.status_code != 202][:1]
    assert len({a.json()["id"] for a in answers}) == 1
    mine_until_counted(chain, clients[0][1], [clients[0][1].ticket(answers[0].json()["id"])])
    assert commons.governor.functions.proposalVotes(open_proposal).call() == [0, 1, 0]


def test_one_process_at_a_time_sends_from_a_sqlite_file(relay_db, relay_signer):
    first, second = SqlRelayStore(relay_db), SqlRelayStore(relay_db)
    assert first.acquire_sender(relay_signer.address) and first.acquire_sender(relay_signer.address)
    assert not second.acquire_sender(relay_signer.address)
    first.release_sender()
    assert second.acquire_sender(relay_signer.address)
    second.release_sender()


class RelayProcess:
    """A relay server in a subprocess of its own, to be killed with SIGKILL."""

    def __init__(self, commons, manifest_path, database_url: str, key: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [commons.w3.provider.endpoint_uri, str(manifest_path), database_url, str(self.port)]
        environment = {**os.environ, "COMMONS_RELAYER_PRIVATE_KEY": key}
        command = [sys.executable, "-m", "tests.relay_server", *args]
        self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment)
        until("the relay process to answer", self._answers, timeout=60)

    def _answers(self) -> bool:
        assert self.process.poll() is None, "the relay process exited"
        try:
            return requests.get(f"{self.url}/api/relay/status", timeout=2).status_code == 200
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still starting on a busy machine
            return False

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


def ballot_body(commons, voter, proposal_id: int, nonce: int) -> dict:
    ballot, signature = signed(commons, voter, proposal_id, nonce)
    return {
        "proposal_id": str(proposal_id),
        "support": "for",
        "voter": voter.address,
        "nonce": str(nonce),
        "reason": ballot.reason,
        "signature": "0x" + signature.hex(),
    }


def post_all(url: str, bodies: list[dict], kill_after: int, process: RelayProcess) -> list[str]:
    """POST every body at once and SIGKILL the relay process once `kill_after` of them were answered 202
    (the rest are cut off mid-request); returns the ids of the ballots answered 202."""
    accepted: list[str] = []

    def post(body):
        try:
            answer = requests.post(f"{url}/api/relay/ballots", json=body, timeout=30)
        except requests.RequestException:  # cut off by the kill: not an answer, so not accepted as far as we know
            return
        if answer.status_code == 202:
            accepted.append(answer.json()["id"])
            if len(accepted) == kill_after:
                process.kill()

    with ThreadPoolExecutor(len(bodies)) as pool:
        list(pool.map(post, bodies))
    return accepted


def test_relay_killed_at_any_moment_counts_every_accepted_ballot_once_after_restart(
    chain, commons, relay_signer, stewards, founders, open_proposal, relay_database, tmp_path
):
    """On a SQLite file (the sender's claim a file lock) and on PostgreSQL (a session advisory lock, which the server
    releases when the killed process's connection closes)."""
    rpc(commons.w3, "evm_setAutomine", True)
    second = propose(commons, stewards[0], [act.pay("0x000000000000000000000000000000000000bEEF", 2)], "Buy tools")
    to_voting(commons, second)
    rpc(commons.w3, "evm_setAutomine", False)
    manifest_path = tmp_path / "manifest.json"
    manifest_path.write_text(commons.manifest.to_json())
    database = relay_database
    key = "0x" + bytes(relay_signer.account.key).hex()
    nonces = {f.address: commons.governor.functions.nonces(f.address).call() for f in founders}

    # 1. Killed while ballots are arriving: some answered 202, some cut off mid-request.
    first = RelayProcess(commons, manifest_path, database, key)
    bodies = [ballot_body(commons, f, open_proposal, nonces[f.address]) for f in founders]
    accepted = post_all(first.url, bodies, kill_after=2, process=first)
    # 2. Restarted: it sends what was accepted; killed again once its transaction is broadcast, before it is mined.
    restarted = RelayProcess(commons, manifest_path, database, key)
    chain.wait_pending(relay_signer.address)
    restarted.kill()
    chain.mine()
    # 3. Second round on the other proposal, killed after the first answer; the chain mines while it is down.
    again = RelayProcess(commons, manifest_path, database, key)
    bodies = [ballot_body(commons, f, second, nonces[f.address] + 1) for f in founders]
    accepted += post_all(again.url, bodies, kill_after=1, process=again)
    chain.mine()
    # 4. The last restart settles everything from the store and the chain.
    final = RelayProcess(commons, manifest_path, database, key)
    try:

        def all_settled():
            chain.mine()
            answers = [requests.get(f"{final.url}/api/relay/ballots/{i}", timeout=5).json() for i in accepted]
            return answers if all(a["status"] not in ("queued", "sent") for a in answers) else None

        answers = until("every accepted ballot to settle", all_settled, timeout=60)
    finally:
        final.kill()
    assert len(accepted) >= 3 and {a["status"] for a in answers} == {"counted"}, answers
    votes = commons.governor.events.VoteCast().get_logs(from_block=commons.manifest.deployment_block)
    counted = [(e["args"]["voter"], e["args"]["proposalId"]) for e in votes]
    assert len(counted) == len(set(counted))  # none twice
    assert {(a["voter"], int(a["proposal_id"])) for a in answers} <= set(counted)  # every accepted one
