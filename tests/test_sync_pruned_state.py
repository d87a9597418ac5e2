"""Syncing against a node that no longer keeps old state: anvil restarted from its state file (which keeps no state
before the restart), with --confirmations and --to-block, as a pruning full node or hosted provider behaves."""

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from api.db import make_engine
from governance.chain import NodeSigner, connect
from governance.client import Commons
from governance.deploy import deploy_commons
from governance.errors import RpcError
from governance.manifest import save
from governance.node import LocalNode
from governance.rpc import Rpc
from tests import helpers
from tests.cache_support import fresh_sqlite, indexer_for, make_history
from tests.helpers import FOUNDER_COUNT, SETTINGS, TREASURY_WEI, free_port, fund


@pytest.fixture(scope="module")
def restarted(tmp_path_factory):
    """(url, manifest, head before the restart) of a commons with a history on an anvil restarted from its state file."""
    state = tmp_path_factory.mktemp("restarted") / "anvil-state.json"
    node = LocalNode(free_port(), state)
    w3 = connect(node.start())
    founders = [helpers.test_key_signer(f"founder-{i}") for i in range(FOUNDER_COUNT)]
    for founder in founders:
        fund(w3, founder.address)
    members = [(f.address, f"founder{i}") for i, f in enumerate(founders)]
    manifest = deploy_commons(
        w3, NodeSigner(w3.eth.accounts[0]), "Pruned Garden", members, [f.address for f in founders[:2]], SETTINGS
    )
    fund(w3, manifest.timelock, TREASURY_WEI)
    make_history(Commons(w3, manifest), founders[:2], founders)
    head = w3.eth.block_number
    node.stop()
    url = node.start()
    yield url, manifest, head
    node.stop()


def test_the_restarted_node_refuses_state_before_the_restart(restarted):
    url, manifest, head = restarted
    with pytest.raises(RpcError):
        Rpc(url).balance(manifest.timelock, head - 3)


def test_sync_with_confirmations_on_a_restarted_node_does_not_crash(restarted, tmp_path):
    url, manifest, head = restarted
    indexer = indexer_for(manifest, url, fresh_sqlite(tmp_path), confirmations=3)
    assert indexer.sync() > 0
    assert indexer.sink.cursor().number == Rpc(url).block_number() - 3


def test_sync_to_a_block_stops_there_and_a_later_sync_goes_on(restarted, tmp_path):
    url, manifest, head = restarted
    database = fresh_sqlite(tmp_path)
    indexer = indexer_for(manifest, url, database)
    indexer.to_block = manifest.deployment_block + 5
    indexer.sync()
    assert indexer.sink.cursor().number == manifest.deployment_block + 5
    indexer = indexer_for(manifest, url, database)
    indexer.sync()
    assert indexer.sink.cursor().number == Rpc(url).block_number()
    with make_engine(database).connect() as conn:  # at the head the state is there again: the treasury is known
        assert int(conn.execute(sa.text("SELECT treasury_wei FROM sync_cursor")).scalar()) == TREASURY_WEI


def test_commons_sync_to_block_with_confirmations(restarted, tmp_path):
    url, manifest, head = restarted
    database = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMONS_")}
    manifest_path = save(manifest, tmp_path / "manifest.json")
    command = [sys.executable, "-m", "scripts.cli", "sync", "--rpc", url, "--manifest", str(manifest_path)]
    target = head - 2
    result = subprocess.run(
        [*command, "--database-url", database, "--confirmations", "1", "--to-block", str(target)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"the cache is at block {target}" in result.stdout
