"""Wiring: a ready indexer for one commons writing to one cache (used by `commons sync`, the API and tests)."""

from sqlalchemy.engine import Engine

from api.db import make_engine, migrate
from api.sink import SqlSink
from governance.config import get_settings
from governance.indexer import Indexer
from governance.manifest import Manifest
from governance.rpc import Rpc


def build_indexer(manifest: Manifest, rpc_url: str, engine: Engine | None = None, confirmations: int | None = None,
                  upgrade: bool = True) -> Indexer:
    """An Indexer from the manifest's deployment block into `engine` (default: the configured cache), schema upgraded."""
    engine = engine or make_engine()
    if upgrade:
        migrate(engine)
    sink = SqlSink(engine, manifest)
    addresses = {"membership": manifest.membership, "governor": manifest.governor, "timelock": manifest.timelock}
    depth = get_settings().confirmations if confirmations is None else confirmations
    return Indexer(Rpc(rpc_url), addresses, manifest.deployment_block, sink, depth)
