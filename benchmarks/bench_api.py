"""API benchmark on the generated history: 32 concurrent clients in a separate process, and the cache's speed-up
over answering "one proposal with all its votes" straight from the chain (logs plus views, as the audit does).

Needs the SQLite cache that benchmarks/bench_indexer.py fills (.state/bench/bench.db). Prints figures only.

    .venv/bin/python benchmarks/bench_api.py [--seconds 10] [--workers 2]

With --misses DATABASE_URL it measures instead what an answer costs when it is not in the answer cache, on any cache
already synced (SQLite or PostgreSQL; no node needed): the API keeps no answers, so every request to a proposal, a
page of its votes or a decision-log page (plain, by kind, by member, read back) is built from the database. One
client first (median and p99 per kind of page), then 32 clients on each kind and on a mix of them.

    .venv/bin/python benchmarks/bench_api.py --misses postgresql://postgres@127.0.0.1:5432/bench_api_miss
"""

import argparse
import asyncio
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import time

import requests

from api.db import make_engine, migrate
from api.indexing import build_indexer
from benchmarks.generate_history import BENCH_DIR, ensure_history
from governance.audit import chain_events
from governance.chain import connect
from governance.compiler import load_artifacts
from governance.vocabulary import VOTE_EVENTS

API_PORT = 8601
CLIENTS = 32


async def _load(url_list: list[str], seconds: float) -> list[float]:
    import aiohttp

    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CLIENTS)) as session:

        async def client(n: int) -> None:
            rng = random.Random(n)
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.get(rng.choice(url_list)) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    return latencies


def _load_process(url_list: list[str], seconds: float, queue) -> None:
    queue.put(asyncio.run(_load(url_list, seconds)))


def load(label: str, url_list: list[str], seconds: float) -> tuple[float, float, float]:
    """Run the 32 clients in their own process (so they do not share the server's interpreter), print figures and
    return them: requests/s, median and p99 latency in ms."""
    queue = multiprocessing.Queue()
    worker = multiprocessing.Process(target=_load_process, args=(url_list, seconds, queue))
    worker.start()
    latencies = sorted(queue.get())
    worker.join()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"{label}: {len(latencies) / seconds:,.0f} req/s, median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms ({len(latencies):,} requests, {CLIENTS} clients)"
    )
    return len(latencies) / seconds, statistics.median(latencies) * 1000, p99 * 1000


def start_api(database_url: str, workers: str, port: int = API_PORT, factory: str = "api.app:create_app") -> subprocess.Popen:
    """`workers` uvicorn processes serving the read API on `database_url` (no indexer), once they answer; `factory`
    makes each process's app."""
    env = {**os.environ, "COMMONS_DATABASE_URL": database_url}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            factory,
            "--factory",
            "--port",
            str(port),
            "--workers",
            workers,
            "--log-level",
            "warning",
            "--no-access-log",
            "--http",
            "httptools",
            "--loop",
            "uvloop",
        ],
        env=env,
    )
    for _ in range(300):
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.2)
    return server


def proposal_from_chain(w3, rpc_url: str, manifest, proposal_id: int) -> dict:
    """One proposal with all its votes, from the chain alone: every vote log since deployment (proposalId is not
    an indexed topic, so there is no narrower query) plus the governor's views."""
    events = chain_events(rpc_url, manifest, w3.eth.block_number)
    votes = [e.args for e in events if e.name in VOTE_EVENTS and e.args["proposalId"] == proposal_id]
    g = w3.eth.contract(address=manifest.governor, abi=load_artifacts()["CommonsGovernor"].abi).functions
    return {
        "state": g.state(proposal_id).call(),
        "votes": g.proposalVotes(proposal_id).call(),
        "snapshot": g.proposalSnapshot(proposal_id).call(),
        "deadline": g.proposalDeadline(proposal_id).call(),
        "text": next(
            e.args["description"] for e in events if e.name == "ProposalCreated" and e.args["proposalId"] == proposal_id
        ),
        "vote_list": votes,
    }


def filtered_pages(base: str, count: int, n: int = 300) -> list[str]:
    """Decision-log pages as an observer filters them: by a common kind, a group of kinds, a rare kind, a proposal,
    a member."""
    ids = [p["proposal_id"] for p in requests.get(base + "/api/proposals", params={"limit": 500}).json()["data"]]
    members = [m["address"] for m in requests.get(base + "/api/members", params={"limit": 200}).json()["data"]]
    filters = [
        "kind=VoteCast",
        "kind=MemberAdmitted&kind=MemberRemoved&kind=MemberResigned&kind=DelegateChanged",
        "kind=ProposalCreated",
        *(f"subject={i}" for i in ids),
        *(f"member={a}" for a in members),
    ]
    rng = random.Random(7)
    urls = (f"{base}/api/decisions?{rng.choice(filters)}&before={rng.randrange(2, count + 2)}&limit=100" for _ in range(n * 2))
    return list(dict.fromkeys(urls))[:n]  # distinct, in random order


def app_without_answer_cache():
    """The API as create_app() makes it, but keeping no answers: every request to a cached route is a miss."""
    from api.answer_cache import AnswerCache  # here, so that importing this module for load() stays light
    from api.app import create_app

    app = create_app()
    app.state.answers = AnswerCache(max_bytes=0)  # no answer fits a budget of 0 bytes, so none is kept
    return app


def miss_urls(base: str, rng: random.Random, n: int = 500) -> dict[str, list[str]]:
    """URLs of each kind of answer the answer cache keeps, `n` of each (repeats do not matter: nothing is kept)."""
    overview = requests.get(base + "/api/commons").json()
    count, proposals = overview["decision_log_count"], overview["proposal_count"]
    biggest = max(requests.get(base + "/api/proposals", params={"limit": 500}).json()["data"], key=lambda p: p["voter_count"])
    vote_pages, after = [], None
    while True:  # every page of 100 of the proposal with the most votes
        vote_pages.append(f"{base}/api/proposals/{biggest['number']}/votes?limit=100" + (f"&after={after}" if after else ""))
        if (after := requests.get(vote_pages[-1]).json()["next_after"]) is None:
            break
    members = [m["address"] for m in requests.get(base + "/api/members", params={"limit": 500}).json()["data"]]
    log = f"{base}/api/decisions"
    return {
        f"proposal {biggest['number']} ({biggest['voter_count']:,} votes)": [f"{base}/api/proposals/{biggest['number']}"] * n,
        "any proposal": [f"{base}/api/proposals/{rng.randrange(1, proposals + 1)}" for _ in range(n)],
        "a page of 100 of its votes": [rng.choice(vote_pages) for _ in range(n)],
        "decision log, 100 after=": [f"{log}?after={rng.randrange(0, count - 100)}&limit=100" for _ in range(n)],
        "decision log, 100 before=": [f"{log}?before={rng.randrange(100, count + 1)}&limit=100" for _ in range(n)],
        "decision log, kind=VoteCast after=": [
            f"{log}?kind=VoteCast&after={rng.randrange(0, count - 100)}&limit=100" for _ in range(n)
        ],
        "decision log, member=": [f"{log}?member={rng.choice(members)}&limit=100" for _ in range(n)],
    }


def misses(database_url: str, workers: str, seconds: float) -> None:
    """Per-miss latency with one client, then 32 clients, on an API that keeps no answers (see the module's doc)."""
    server = start_api(database_url, workers, factory="benchmarks.bench_api:app_without_answer_cache")
    base = f"http://127.0.0.1:{API_PORT}"
    try:
        rng = random.Random(13)
        groups = miss_urls(base, rng)
        print(f"answers built from the database ({database_url.split('@')[-1]}, {workers} API processes), one client:")
        session = requests.Session()
        for label, urls in groups.items():
            times = []
            for url in urls[:100]:
                started = time.perf_counter()
                session.get(url).raise_for_status()
                times.append(time.perf_counter() - started)
            times.sort()
            print(f"  {label}: median {statistics.median(times) * 1000:.1f} ms, p99 {times[98] * 1000:.1f} ms", flush=True)
        for label, urls in groups.items():
            load(f"  {label}", urls, seconds)
        mixed = [url for urls in groups.values() for url in urls]
        rng.shuffle(mixed)
        load("  a mix of all of them", mixed, seconds)
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each load runs")
    parser.add_argument("--workers", default="2", help="API processes (uvicorn workers)")
    parser.add_argument("--misses", metavar="DATABASE_URL", help="measure answers missing the answer cache on this cache")
    options = parser.parse_args()
    seconds, workers = options.seconds, options.workers
    if options.misses:
        misses(options.misses, workers, seconds)
        return
    node, manifest = ensure_history()
    database_url = f"sqlite:///{BENCH_DIR / 'bench.db'}"
    server = None
    try:
        engine = make_engine(database_url)
        migrate(engine)
        build_indexer(manifest, node.url, engine, 0, upgrade=False).sync()  # catch up if needed
        server = start_api(database_url, workers)
        base = f"http://127.0.0.1:{API_PORT}"
        big = requests.get(base + "/api/proposals/1").json()
        print(f"proposal 1 has {big['voter_count']:,} votes ({len(requests.get(base + '/api/proposals/1').content):,} bytes)")
        count = requests.get(base + "/api/commons").json()["decision_log_count"]
        pages = [f"{base}/api/decisions?after={random.Random(i).randrange(0, count - 100)}&limit=100" for i in range(200)]
        load("GET one proposal with 1,000 votes (its first 100 in the answer)", [base + "/api/proposals/1"], seconds)
        load("GET decision-log pages (100 entries)", pages, seconds)
        filtered = filtered_pages(base, count)
        load("GET filtered decision-log pages read back from the newest (by kind, proposal or member)", filtered[:200], seconds)
        uncached = []
        for url in filtered[200:]:  # URLs not asked before: answered from the database, not the answer cache
            started = time.perf_counter()
            requests.get(url).raise_for_status()
            uncached.append(time.perf_counter() - started)
        print(
            f"the same, one client, each URL new to the answer cache: median {statistics.median(uncached) * 1000:.1f} ms, "
            f"max {max(uncached) * 1000:.1f} ms ({len(uncached)} requests)"
        )

        single = []
        for _ in range(20):
            started = time.perf_counter()
            requests.get(base + "/api/proposals/1").raise_for_status()
            after = None
            while True:  # the answer carries the first votes; the votes route pages the rest, 500 at a time
                page = requests.get(base + "/api/proposals/1/votes", params={"after": after, "limit": 500}).json()
                if (after := page["next_after"]) is None:
                    break
            single.append(time.perf_counter() - started)
        w3 = connect(node.url, timeout=600)
        proposal_id = int(big["proposal_id"])
        chain_times = []
        for _ in range(3):
            started = time.perf_counter()
            answer = proposal_from_chain(w3, node.url, manifest, proposal_id)
            chain_times.append(time.perf_counter() - started)
        assert len(answer["vote_list"]) == big["voter_count"]
        api_time, chain_time = statistics.median(single), statistics.median(chain_times)
        print(
            f"one proposal with all its votes: API {api_time * 1000:.1f} ms, from the chain {chain_time * 1000:.0f} ms "
            f"-> cache speed-up {chain_time / api_time:,.0f}x"
        )
    finally:
        if server:
            server.terminate()
            server.wait(30)
        node.stop(timeout=300)


if __name__ == "__main__":
    main()
