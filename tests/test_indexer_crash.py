"""The indexer killed with SIGKILL at random points during a backfill resumes with nothing lost or doubled."""

import os
import random
import signal
import subprocess
import sys

import pytest

from api.db import make_engine
from governance.manifest import save
from tests.cache_support import cache_rows, clean_index, fresh_sqlite, make_history

# One block per batch, so a kill lands between or inside batches many times over.
WORKER = """
import sys
from api.db import make_engine
from api.indexing import build_indexer
from governance.indexer import RangePolicy
from governance.manifest import Manifest
manifest = Manifest.from_json(open(sys.argv[1]).read())
indexer = build_indexer(manifest, sys.argv[2], make_engine(sys.argv[3]), 0, upgrade=False)
indexer.ranges = RangePolicy(blocks=1, maximum=1)
print("indexing", flush=True)
indexer.sync()
print("done", flush=True)
"""


def run_worker(manifest_path, rpc_url: str, database_url: str, kill_after: float | None, worker: str = WORKER) -> bool:
    """Run a backfill (the script `worker`) in a child process; SIGKILL it `kill_after` seconds into indexing. True if
    it finished."""
    child = subprocess.Popen(
        [sys.executable, "-c", worker, str(manifest_path), rpc_url, database_url],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.getcwd(),
    )
    assert child.stdout.readline().strip() == "indexing"
    if kill_after is not None:
        try:
            child.wait(kill_after)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
    child.wait(120)
    return child.returncode == 0


@pytest.fixture
def long_history(commons, stewards, founders):
    make_history(commons, stewards, founders)
    w3 = commons.w3
    for who in founders[:3]:
        w3.provider.make_request("anvil_impersonateAccount", [who.address])
    for i in range(30):  # more blocks with events: delegations back and forth
        who = founders[i % 3]
        plan = commons.plan_delegate(founders[4].address if (i // 3) % 2 == 0 else who.address)
        # Explicit gas: an estimate made at the previous block's timestamp can miss a new vote checkpoint's cost.
        sent = w3.eth.send_transaction({"from": who.address, "to": plan.to, "data": plan.data, "gas": 300_000})
    w3.eth.wait_for_transaction_receipt(sent)  # anvil answers before its automine has mined the block


def kill_and_resume(commons, anvil_url, tmp_path, database_url: str, kills: int) -> None:
    manifest_path = save(commons.manifest, tmp_path / "manifest.json")
    rng = random.Random(kills)
    killed = 0
    for _ in range(kills):
        if not run_worker(manifest_path, anvil_url, database_url, rng.uniform(0.0, 0.6)):
            killed += 1
    assert run_worker(manifest_path, anvil_url, database_url, None)
    assert killed >= 1, "no kill landed before the backfill finished; the test proved nothing"


def test_backfill_killed_repeatedly_on_sqlite_equals_clean_index(commons, long_history, anvil_url, tmp_path):
    url = fresh_sqlite(tmp_path, "killed.db")
    kill_and_resume(commons, anvil_url, tmp_path, url, kills=5)
    assert cache_rows(make_engine(url)) == clean_index(commons.manifest, anvil_url, tmp_path)


def test_backfill_killed_repeatedly_on_postgresql_equals_clean_index(commons, long_history, anvil_url, tmp_path, pg_database):
    from tests.cache_support import _empty_postgres

    _empty_postgres(pg_database)
    kill_and_resume(commons, anvil_url, tmp_path, pg_database, kills=3)
    assert cache_rows(make_engine(pg_database)) == clean_index(commons.manifest, anvil_url, tmp_path)
