"""The concurrent backfill of settled blocks (several eth_getLogs ranges in flight, batches applied in chain order) killed
with SIGKILL at random points resumes with nothing lost or doubled, as the one-range-at-a-time backfill does."""

import random

from api.db import make_engine
from governance.manifest import save
from tests.cache_support import cache_rows, clean_index, fresh_sqlite
from tests.test_indexer_crash import long_history, run_worker  # noqa: F401 (a fixture)

# Every block settled (fetched by concurrent ranges), one block per range and a batch per range or two.
WORKER = """
import sys
import governance.indexer as indexer_module
from api.db import make_engine
from api.indexing import build_indexer
from governance.indexer import RangePolicy
from governance.manifest import Manifest
indexer_module.BATCH_EVENTS = 3
manifest = Manifest.from_json(open(sys.argv[1]).read())
indexer = build_indexer(manifest, sys.argv[2], make_engine(sys.argv[3]), 0, upgrade=False)
indexer.ranges = RangePolicy(blocks=1, maximum=1)
indexer.settled_depth = 0
print("indexing", flush=True)
indexer.sync()
print("done", flush=True)
"""


def test_concurrent_backfill_killed_repeatedly_equals_clean_index(commons, long_history, anvil_url, tmp_path):  # noqa: F811
    url = fresh_sqlite(tmp_path, "killed.db")
    manifest_path = save(commons.manifest, tmp_path / "manifest.json")
    rng = random.Random(11)
    killed = sum(not run_worker(manifest_path, anvil_url, url, rng.uniform(0.0, 0.5), WORKER) for _ in range(5))
    assert run_worker(manifest_path, anvil_url, url, None, WORKER)
    assert killed >= 1, "no kill landed before the backfill finished; the test proved nothing"
    assert cache_rows(make_engine(url)) == clean_index(commons.manifest, anvil_url, tmp_path)
