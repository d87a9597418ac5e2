"""Wiring: a ready indexer for one commons writing to one cache (used by `commons sync`, the API and tests)."""

from sqlalchemy.engine import Engine

from api.cache.treasury_sink import TreasurySink
from api.db import make_engine, migrate
from governance.config import get_settings
from governance.indexer import Indexer
from governance.log_ranges import RangePolicy
from governance.manifest import Manifest
from governance.rpc import Pacer, Rpc


def build_indexer(
    manifest: Manifest, rpc_url: str, engine: Engine | None = None, confirmations: int | None = None, upgrade: bool = True
) -> Indexer:
    """An Indexer from the manifest's deployment block into `engine` (default: the configured cache), schema upgraded."""
    engine = engine or make_engine()
    if upgrade:
        migrate(engine)
    depth = get_settings().confirmations if confirmations is None else confirmations
    settings = get_settings()
    rpc = Rpc(rpc_url, retries=settings.rpc_retries, pacer=Pacer(settings.rpc_requests_per_second or None))
    # The treasury's requests share the indexer's pace, retries and learnt range cap.
    ranges = RangePolicy()
    sink = TreasurySink(engine, manifest, rpc, ranges=ranges)
    by_role = manifest.indexed_contracts()
    return Indexer(rpc, by_role, manifest.deployment_block, sink, depth, ranges=ranges, in_flight=settings.rpc_in_flight)
