"""API benchmark on the generated history: 32 concurrent clients in a separate process, and the cache's speed-up
over answering "one proposal with all its votes" straight from the chain (logs plus views, as the audit does).

Needs the SQLite cache that benchmarks/bench_indexer.py fills (.state/bench/bench.db). Prints figures only.

    .venv/bin/python benchmarks/bench_api.py [--seconds 10] [--workers 2]
"""

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


def load(label: str, url_list: list[str], seconds: float) -> None:
    """Run the 32 clients in their own process (so they do not share the server's interpreter) and print figures."""
    queue = multiprocessing.Queue()
    worker = multiprocessing.Process(target=_load_process, args=(url_list, seconds, queue))
    worker.start()
    latencies = sorted(queue.get())
    worker.join()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"{label}: {len(latencies) / seconds:,.0f} req/s, median {statistics.median(latencies) * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms ({len(latencies):,} requests, {CLIENTS} clients)")


def proposal_from_chain(w3, rpc_url: str, manifest, proposal_id: int) -> dict:
    """One proposal with all its votes, from the chain alone: every vote log since deployment (proposalId is not
    an indexed topic, so there is no narrower query) plus the governor's views."""
    events = chain_events(rpc_url, manifest, w3.eth.block_number)
    votes = [e.args for e in events if e.name in ("VoteCast", "VoteCastWithParams") and e.args["proposalId"] == proposal_id]
    g = w3.eth.contract(address=manifest.governor, abi=load_artifacts()["CommonsGovernor"].abi).functions
    return {"state": g.state(proposal_id).call(), "votes": g.proposalVotes(proposal_id).call(),
            "snapshot": g.proposalSnapshot(proposal_id).call(), "deadline": g.proposalDeadline(proposal_id).call(),
            "text": next(e.args["description"] for e in events if e.name == "ProposalCreated" and e.args["proposalId"] == proposal_id),
            "vote_list": votes}


def filtered_pages(base: str, count: int, n: int = 300) -> list[str]:
    """Decision-log pages as an observer filters them: by a common kind, a group of kinds, a rare kind, a proposal,
    a member."""
    ids = [p["proposal_id"] for p in requests.get(base + "/api/proposals", params={"limit": 500}).json()["data"]]
    members = [m["address"] for m in requests.get(base + "/api/members", params={"limit": 200}).json()["data"]]
    filters = ["kind=VoteCast", "kind=MemberAdmitted&kind=MemberRemoved&kind=MemberResigned&kind=DelegateChanged",
               "kind=ProposalCreated", *(f"subject={i}" for i in ids), *(f"member={a}" for a in members)]
    rng = random.Random(7)
    urls = (f"{base}/api/decisions?{rng.choice(filters)}&before={rng.randrange(2, count + 2)}&limit=100" for _ in range(n * 2))
    return list(dict.fromkeys(urls))[:n]  # distinct, in random order


def main() -> None:
    seconds = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 10.0
    workers = sys.argv[sys.argv.index("--workers") + 1] if "--workers" in sys.argv else "2"
    node, manifest = ensure_history()
    database_url = f"sqlite:///{BENCH_DIR / 'bench.db'}"
    server = None
    try:
        engine = make_engine(database_url)
        migrate(engine)
        build_indexer(manifest, node.url, engine, 0, upgrade=False).sync()  # catch up if needed
        env = {**os.environ, "COMMONS_DATABASE_URL": database_url, "PYTHONPATH": os.getcwd()}
        server = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port", str(API_PORT),
                                   "--workers", workers, "--log-level", "warning", "--no-access-log",
                                   "--http", "httptools", "--loop", "uvloop"], env=env)
        base = f"http://127.0.0.1:{API_PORT}"
        for _ in range(100):
            try:
                if requests.get(base + "/api/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        big = requests.get(base + "/api/proposals/1").json()
        print(f"proposal 1 has {len(big['votes']):,} votes ({len(requests.get(base + '/api/proposals/1').content):,} bytes)")
        count = requests.get(base + "/api/commons").json()["decision_log_count"]
        pages = [f"{base}/api/decisions?after={random.Random(i).randrange(0, count - 100)}&limit=100" for i in range(200)]
        load("GET one proposal with 1,000 votes", [base + "/api/proposals/1"], seconds)
        load("GET decision-log pages (100 entries)", pages, seconds)
        filtered = filtered_pages(base, count)
        load("GET filtered decision-log pages read back from the newest (by kind, proposal or member)", filtered[:200], seconds)
        uncached = []
        for url in filtered[200:]:  # URLs not asked before: answered from the database, not the answer cache
            started = time.perf_counter()
            requests.get(url).raise_for_status()
            uncached.append(time.perf_counter() - started)
        print(f"the same, one client, each URL new to the answer cache: median {statistics.median(uncached) * 1000:.1f} ms, "
              f"max {max(uncached) * 1000:.1f} ms ({len(uncached)} requests)")

        single = []
        for _ in range(20):
            started = time.perf_counter()
            requests.get(base + "/api/proposals/1").raise_for_status()
            single.append(time.perf_counter() - started)
        w3 = connect(node.url, timeout=600)
        proposal_id = int(big["proposal_id"])
        chain_times = []
        for _ in range(3):
            started = time.perf_counter()
            answer = proposal_from_chain(w3, node.url, manifest, proposal_id)
            chain_times.append(time.perf_counter() - started)
        assert len(answer["vote_list"]) == len(big["votes"])
        api_time, chain_time = statistics.median(single), statistics.median(chain_times)
        print(f"one proposal with all its votes: API {api_time * 1000:.1f} ms, from the chain {chain_time * 1000:.0f} ms "
              f"-> cache speed-up {chain_time / api_time:,.0f}x")
    finally:
        if server:
            server.terminate()
            server.wait(30)
        node.stop(timeout=300)


if __name__ == "__main__":
    main()
