"""The million-vote history at work: backfill, API, export and audit, each measured for time and peak memory.

The history (benchmarks/generate_history.py) is generated once and kept in --dir: by default 10,000 members, 2,000
proposals, the first 10 with every member's vote and the others 500 each (1,095,000 votes), 5,000 votes a block (20
transactions of 250; --votes-per-block). Other shapes (--members,
--proposals, --votes-per-proposal, --full-proposals) measure the same on a smaller history, e.g. the 101,000-vote
one in .state/bench for a per-event comparison. Each step runs in its own process, so its peak RSS is its own:

- backfill into SQLite and into PostgreSQL: events/s end to end and the indexer's peak RSS;
- the API on PostgreSQL with 1 and with 4 processes, 32 clients: the proposal with the most votes (its answer, and
  its votes page by page), decision-log pages, and a mix that mostly misses the answer cache (thousands of distinct
  proposals, vote pages and decision-log pages); requests/s, median, p99 and the workers' peak RSS;
- the whole decision log as CSV from one API process: time, bytes and the process's peak RSS;
- `commons audit` of the whole history against the SQLite cache: time, what it checked and its peak RSS.

Prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_million.py [--dir .state/bench-million] [--seconds 10] [--skip-postgres]
"""

import argparse
import json
import random
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests
import sqlalchemy as sa

from benchmarks.bench_api import API_PORT, load, start_api
from benchmarks.generate_history import Shape, add_shape_arguments, ensure_history, shape_of
from governance.config import PROJECT_ROOT

MILLION_DIR = PROJECT_ROOT / ".state" / "bench-million"
# 10,000 members; the first 10 proposals voted on by every member, the other 1,990 by 500; 5,000 votes a block.
MILLION = Shape(10_000, 2_000, 500, 10, MILLION_DIR, 5_000)
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_peak_mb(pid: int) -> float:
    """Another process's peak resident memory (VmHWM), in MB; 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def workers_of(pid: int) -> list[int]:
    """The uvicorn workers of the master `pid` (itself when it serves alone)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [int(c) for c in children] or [pid]


# ---- steps, each run in a child process (`--step`) that prints one JSON line -------------------------------------


def step_backfill(rpc_url: str, manifest_file: str, database_url: str) -> dict:
    from benchmarks.bench_indexer import timed_backfill
    from governance.manifest import Manifest

    manifest = Manifest.from_json(Path(manifest_file).read_text())
    _, events, seconds = timed_backfill(rpc_url, manifest, database_url)
    return {"events": events, "seconds": seconds, "peak_mb": peak_rss_mb()}


def step_audit(rpc_url: str, manifest_file: str, database_url: str) -> dict:
    from api.audit_source import CacheSource
    from governance.audit import audit
    from governance.chain import connect
    from governance.manifest import Manifest

    manifest = Manifest.from_json(Path(manifest_file).read_text())
    source = CacheSource(database_url)
    started = time.perf_counter()
    report = audit(connect(rpc_url, timeout=600), rpc_url, manifest, source)
    return {
        "seconds": time.perf_counter() - started,
        "ok": report.ok,
        "findings": [f"{f.area}: {f.what}" for f in report.findings[:5]],
        "checked": report.checked,
        "peak_mb": peak_rss_mb(),
    }


STEPS = {"backfill": step_backfill, "audit": step_audit}


def run_step(name: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--step", name, *args], capture_output=True, text=True, check=False, timeout=7200
    )
    if done.returncode != 0:
        raise SystemExit(f"step {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- the measurements ----------------------------------------------------------------------------------------------


def backfill(label: str, node_url: str, manifest_file: Path, database_url: str) -> None:
    result = run_step("backfill", node_url, str(manifest_file), database_url)
    print(
        f"backfill into {label}: {result['events']:,} events in {result['seconds']:.1f} s = "
        f"{result['events'] / result['seconds']:,.0f} events/s, peak RSS {result['peak_mb']:,.0f} MB",
        flush=True,
    )


def vote_page_urls(base: str, proposal: int) -> list[str]:
    """Every page of 100 of the proposal's votes, as a reader paging through them asks for it."""
    urls, after = [], None
    while True:
        urls.append(f"{base}/api/proposals/{proposal}/votes?limit=100" + (f"&after={after}" if after else ""))
        after = requests.get(urls[-1]).json()["next_after"]
        if after is None:
            return urls


def api_load(database_url: str, workers: int, seconds: float) -> None:
    server = start_api(database_url, str(workers))
    base = f"http://127.0.0.1:{API_PORT}"
    try:
        overview = requests.get(base + "/api/commons").json()
        count, proposals = overview["decision_log_count"], overview["proposal_count"]
        biggest = requests.get(base + "/api/proposals/1").json()
        votes = vote_page_urls(base, 1)
        rng = random.Random(workers)
        pages = [f"{base}/api/decisions?after={rng.randrange(0, count - 100)}&limit=100" for _ in range(200)]
        missing = [
            rng.choice(
                (
                    f"{base}/api/proposals/{rng.randrange(1, proposals + 1)}",
                    rng.choice(votes),  # the votes route keeps no answers: always from the database
                    f"{base}/api/decisions?after={rng.randrange(0, count - 100)}&limit=100",
                )
            )
            for _ in range(30_000)
        ]
        label = f"{workers} process{'es' if workers > 1 else ''}"
        print(f"API on PostgreSQL, {label}; proposal 1 has {biggest['voter_count']:,} votes:", flush=True)
        load(f"  GET proposal 1 (its answer: the first 100 votes), {label}", [base + "/api/proposals/1"], seconds)
        load(f"  GET proposal 1's votes, page by page (100 a page, {len(votes)} pages), {label}", votes, seconds)
        load(f"  GET decision-log pages (100 entries, 200 pages), {label}", pages, seconds)
        load(f"  GET mostly answer-cache misses (random proposals, vote pages, log pages), {label}", missing, seconds)
        peaks = [process_peak_mb(pid) for pid in workers_of(server.pid)]
        print(f"  API workers' peak RSS: {', '.join(f'{p:,.0f}' for p in peaks)} MB", flush=True)
    finally:
        server.terminate()
        server.wait(60)


def export(database_url: str) -> None:
    server = start_api(database_url, "1")
    try:
        started = time.perf_counter()
        size = 0
        with requests.get(f"http://127.0.0.1:{API_PORT}/api/decisions/export.csv", stream=True, timeout=3600) as answer:
            answer.raise_for_status()
            for chunk in answer.iter_content(1 << 16):
                size += len(chunk)
        elapsed = time.perf_counter() - started
        peak = max(process_peak_mb(pid) for pid in workers_of(server.pid))
        print(
            f"decision log as CSV: {size / 1e6:,.0f} MB in {elapsed:.1f} s ({size / 1e6 / elapsed:,.1f} MB/s); "
            f"the API process's peak RSS {peak:,.0f} MB",
            flush=True,
        )
    finally:
        server.terminate()
        server.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_shape_arguments(parser, MILLION)
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each API load runs")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only (no PostgreSQL backfill or API)")
    parser.add_argument("--rpc", help="measure on a node already serving the history in --dir (its manifest.json there)")
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)  # internal: one measured step in its own process
    options = parser.parse_args()
    if options.step:
        name, *args = options.step
        print(json.dumps(STEPS[name](*args)))
        return

    shape = shape_of(options)
    print(f"history of {shape.members:,} members, {shape.proposals:,} proposals, {shape.votes:,} votes in {shape.directory}")
    started = time.perf_counter()
    node = None if options.rpc else ensure_history(shape)[0]
    node_url = options.rpc or node.url  # type: ignore[union-attr]
    print(f"node ready in {time.perf_counter() - started:.0f} s", flush=True)
    manifest_file = shape.directory / "manifest.json"
    sqlite_file = shape.directory / "bench.db"
    sqlite_file.unlink(missing_ok=True)
    sqlite_url = f"sqlite:///{sqlite_file}"
    pg_name = f"commons_bench_{uuid.uuid4().hex[:8]}"
    pg_url = PG_SERVER.rsplit("/", 1)[0] + f"/{pg_name}"
    server = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        backfill("SQLite", node_url, manifest_file, sqlite_url)
        if not options.skip_postgres:
            with server.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{pg_name}"'))
            backfill("PostgreSQL", node_url, manifest_file, pg_url)
        served = sqlite_url if options.skip_postgres else pg_url
        for workers in (1, 4):
            api_load(served, workers, options.seconds)
        export(served)
        result = run_step("audit", node_url, str(manifest_file), sqlite_url)
        print(
            f"audit of the whole history against the SQLite cache: {result['seconds']:.1f} s, "
            f"{'no difference' if result['ok'] else 'DIFFERENCES: ' + '; '.join(result['findings'])}, "
            f"checked {result['checked']}, peak RSS {result['peak_mb']:,.0f} MB",
            flush=True,
        )
    finally:
        if not options.skip_postgres:
            with server.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        server.dispose()
        if node is not None:
            node.stop(timeout=900)


if __name__ == "__main__":
    main()
