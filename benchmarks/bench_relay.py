"""The vote relay under load: gas per vote by batch size, and a burst of 500 ballots over HTTP.

Run: .venv/bin/python benchmarks/bench_relay.py [--burst 500]
Starts its own anvil (1 s block time, like a real chain; a high block gas limit so 500+ founders
fit in the deployment), deploys a commons, serves the relay with uvicorn, prints Markdown tables.
"""

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from eth_account import Account
from eth_utils import keccak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.db import make_engine, migrate  # noqa: E402
from api.relay_store import SqlRelayStore  # noqa: E402
from governance import actions as act  # noqa: E402
from governance.ballots import Ballot, sign  # noqa: E402
from governance.chain import KeySigner, NodeSigner, connect, transact  # noqa: E402
from governance.client import Commons  # noqa: E402
from governance.deploy import deploy_commons  # noqa: E402
from governance.manifest import CommonsSettings  # noqa: E402
from governance.node import LocalNode  # noqa: E402
from governance.relayer import Relayer, RelayOptions  # noqa: E402
from tests.web_support import Server  # noqa: E402

REASON = "Good for the garden and fair to everyone"  # 40 characters, as in bench_gas.py
SETTINGS = CommonsSettings(
    voting_delay=1, voting_period=7 * 24 * 3600, quorum_percent=30, late_quorum_extension=600, timelock_delay=300
)
CAST_VOTE_BY_SIG_BASELINE = 98_000  # a lone castVoteBySig on a plain OpenZeppelin 5.7 Governor (README)


def rpc(w3, method, *params):
    return w3.provider.make_request(method, list(params))


def member_key(i: int) -> KeySigner:
    return KeySigner(Account.from_key(keccak(text=f"bench-relay-member-{i}")))


def start_commons(members: int, port: int, block_time: float | None = 1.0):
    """anvil + a commons with `members` founders (member 0 a steward) and a funded relayer; (node, commons, keys, relayer key)."""
    node = LocalNode(port, None, block_time=block_time, extra_args=("--gas-limit", "3000000000", "--disable-code-size-limit"))
    w3 = connect(node.start())
    keys = [member_key(i) for i in range(members)]
    deployer = NodeSigner(w3.eth.accounts[0])
    try:
        manifest = deploy_commons(
            w3, deployer, "Bench Relay Commons", [(k.address, f"m{i}") for i, k in enumerate(keys)], [keys[0].address], SETTINGS
        )
    except BaseException:
        node.stop()
        raise
    relay_key = KeySigner(Account.from_key(keccak(text="bench-relay-relayer")))
    for address in (keys[0].address, relay_key.address, manifest.timelock):
        rpc(w3, "anvil_setBalance", address, hex(10**21))
    return node, Commons(w3, manifest), keys, relay_key


def open_proposal(commons: Commons, steward: KeySigner, title: str) -> int:
    """A proposal that is open for voting now (with a first vote cast, so no batch pays the quorum's first computation)."""
    proposal_actions = [act.pay("0x000000000000000000000000000000000000bEEF", 1)]
    description = f"# {title}\n\nBenchmark."
    commons.submit(commons.plan_propose(proposal_actions, description, steward.address), steward)
    pid = commons.proposal_id_of(proposal_actions, description, steward.address)
    snapshot = commons.governor.functions.proposalSnapshot(pid).call()
    while commons.w3.eth.get_block("latest")["timestamp"] <= snapshot:
        rpc(commons.w3, "evm_increaseTime", 2)
        rpc(commons.w3, "evm_mine")
    commons.submit(commons.plan_vote(pid, 1), steward)
    return pid


def signed(commons: Commons, key: KeySigner, pid: int, reason: str = REASON) -> tuple[Ballot, bytes]:
    nonce = commons.governor.functions.nonces(key.address).call()
    ballot = Ballot(pid, 1, key.address, nonce, reason)
    return ballot, sign(ballot, commons.ballot_domain(), key.account)


def sqlite_store() -> SqlRelayStore:
    """A relay store in a fresh SQLite file (left in the temporary directory)."""
    engine = make_engine(f"sqlite:///{tempfile.mkdtemp()}/relay.db")
    migrate(engine)
    return SqlRelayStore(engine)


def settle(relayer: Relayer, tickets: list) -> list:
    """The tickets once every one is counted or refused."""
    while True:
        tickets = [relayer.ticket(t.id) for t in tickets]
        if not any(t.live for t in tickets):
            return tickets
        time.sleep(0.05)


def gas_per_vote(commons: Commons, keys: list[KeySigner], relay_key: KeySigner) -> list[tuple[str, int, int]]:
    """Relay gas per vote at batch sizes 1, 10, 50 (each batch on its own fresh voters), plus lone-call baselines."""
    rows = []
    pid = open_proposal(commons, keys[0], "Gas per vote")
    next_voter = iter(keys[1:])
    for size in (1, 10, 50):
        relayer = Relayer(
            commons,
            relay_key,
            sqlite_store(),
            RelayOptions(batch_window=60.0, max_batch=size, client_rate_per_minute=10**6),
        )
        relayer.start()
        tickets = [relayer.submit(*signed(commons, next(next_voter), pid)) for _ in range(size)]
        tickets = settle(relayer, tickets)
        relayer.stop()
        assert all(t.status == "counted" for t in tickets), tickets
        assert len({t.tx_hash for t in tickets}) == 1, "the batch was split"
        receipt = commons.w3.eth.get_transaction_receipt(tickets[0].tx_hash)
        rows.append((f"relay batch of {size} (ExtendedBallot, 40-char reason)", size, receipt["gasUsed"] // size))
    voter = next(next_voter)
    ballot, signature = signed(commons, voter, pid, "")
    plain = Ballot(ballot.proposal_id, 1, voter.address, ballot.nonce, extended=False)
    lone = transact(
        commons.w3,
        relay_key,
        commons.manifest.governor,
        commons.plan_vote_by_signature(plain, sign(plain, commons.ballot_domain(), voter.account)).data,
    )
    rows.append(("lone castVoteBySig on CommonsGovernor, same run", 1, lone["gasUsed"]))
    return rows


def _burst_over_http(server: Server, relayer: Relayer, bodies: list[dict], clients: int):
    """POST every body at once from `clients` threads; wait until every accepted ballot settles."""
    with requests.Session() as session:
        adapter = requests.adapters.HTTPAdapter(pool_connections=clients, pool_maxsize=clients)
        session.mount("http://", adapter)
        started = time.monotonic()
        with ThreadPoolExecutor(clients) as pool:
            answers = list(pool.map(lambda b: session.post(f"{server.url}/api/relay/ballots", json=b, timeout=120), bodies))
        accepted = time.monotonic() - started
        refused = [a.json() for a in answers if a.status_code != 202]
        tickets = [a.json()["id"] for a in answers if a.status_code == 202]
        settle(relayer, [relayer.ticket(t) for t in tickets])
        return answers, accepted, time.monotonic() - started, tickets, refused


def burst(commons: Commons, keys: list[KeySigner], relay_key: KeySigner, count: int, clients: int = 64) -> dict:
    """`count` members' ballots POSTed to the relay at once; all must land once. Returns the figures."""
    pid = open_proposal(commons, keys[0], f"Burst of {count}")
    voters = keys[1 : count + 1]
    bodies = []
    for key in voters:
        ballot, signature = signed(commons, key, pid)
        bodies.append(
            {
                "proposal_id": str(pid),
                "support": "for",
                "voter": key.address,
                "nonce": str(ballot.nonce),
                "reason": REASON,
                "signature": "0x" + signature.hex(),
            }
        )
    options = RelayOptions(batch_window=0.25, max_batch=50, client_rate_per_minute=10**6)
    relayer = Relayer(commons, relay_key, sqlite_store(), options).start()
    from api.app import create_app

    with tempfile.TemporaryDirectory() as cache_dir:  # the real app; only its relay is measured here (no indexer)
        app = create_app(f"sqlite:///{cache_dir}/cache.db")
        app.state.relayer = relayer
        with Server(app) as server:
            answers, accepted, landed, tickets, refused = _burst_over_http(server, relayer, bodies, clients)
    relayer.stop()
    logs = commons.governor.events.VoteCast().get_logs(
        from_block=commons.manifest.deployment_block, argument_filters={"proposalId": pid}
    )
    burst_votes = [e["args"]["voter"] for e in logs if e["args"]["voter"] != keys[0].address]
    tx_count = len({relayer.ticket(t).tx_hash for t in tickets})
    return {
        "sent": count,
        "refused": len(refused),
        "first_refusal": refused[0] if refused else None,
        "landed": len(burst_votes),
        "distinct_voters": len(set(burst_votes)),
        "lost": len({b["voter"] for b in bodies} - set(burst_votes)),
        "doubled": len(burst_votes) - len(set(burst_votes)),
        "transactions": tx_count,
        "accepted_s": accepted,
        "landed_s": landed,
        "votes_per_s": len(burst_votes) / landed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--port", type=int, default=18745)
    args = parser.parse_args()
    members = max(args.burst, 62) + 1
    print(f"Deploying a commons of {members} members on anvil (1 s blocks)…", flush=True)
    node, commons, keys, relay_key = start_commons(members, args.port)
    try:
        rows = gas_per_vote(commons, keys, relay_key)
        figures = burst(commons, keys, relay_key, args.burst)
    finally:
        node.stop()
    print("\n| relayer gas per vote | batch | gas per vote | vs castVoteBySig 98k |")
    print("| --- | ---: | ---: | ---: |")
    for label, size, gas in rows:
        print(f"| {label} | {size} | {gas:,} | {gas / CAST_VOTE_BY_SIG_BASELINE:.0%} |")
    print(
        f"\nBurst: {figures['sent']} ballots POSTed at once by 64 clients → {figures['landed']} votes on-chain "
        f"({figures['distinct_voters']} distinct voters; lost {figures['lost']}, doubled {figures['doubled']}, "
        f"refused {figures['refused']}) in {figures['transactions']} transactions; all accepted in "
        f"{figures['accepted_s']:.1f} s, all mined in {figures['landed_s']:.1f} s = {figures['votes_per_s']:.0f} votes/s."
    )
    if figures["first_refusal"]:
        print(f"First refusal: {figures['first_refusal']}")


if __name__ == "__main__":
    main()
