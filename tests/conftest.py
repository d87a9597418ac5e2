"""Shared fixtures: anvil once per session, a commons deployed once per module, and an
evm_snapshot / evm_revert around each test that uses the commons."""

import pytest

from governance.chain import NodeSigner, connect
from governance.client import Commons
from governance.config import get_settings
from governance.deploy import deploy_commons
from governance.node import LocalNode
from tests.helpers import (
    FOUNDER_COUNT,
    SETTINGS,
    TREASURY_WEI,
    clean_mempool_and_clock,
    free_port,
    fund,
    rolled_back,
    test_key_signer,
)


@pytest.fixture(scope="session")
def anvil_url():
    node = LocalNode(free_port(), None)
    url = node.start()
    yield url
    node.stop()


@pytest.fixture(scope="session")
def w3(anvil_url):
    return connect(anvil_url)


@pytest.fixture(scope="session")
def deployer(w3):
    return NodeSigner(w3.eth.accounts[0])


@pytest.fixture(scope="session")
def founders(w3):
    """Founding members with their own keys; the first two are stewards."""
    signers = [test_key_signer(f"founder-{i}") for i in range(FOUNDER_COUNT)]
    for signer in signers:
        fund(w3, signer.address)
    return signers


@pytest.fixture(scope="module")
def deployed(w3, deployer, founders):
    manifest = deploy_commons(
        w3,
        deployer,
        "Test Garden",
        [(f.address, f"founder{i}") for i, f in enumerate(founders)],
        [founders[0].address, founders[1].address],
        SETTINGS,
    )
    fund(w3, manifest.timelock, TREASURY_WEI)
    return manifest


@pytest.fixture
def commons(w3, deployed):
    """The module's commons, with the chain rolled back after the test."""
    with rolled_back(w3):
        yield Commons(w3, deployed)


@pytest.fixture
def settings_env(monkeypatch):
    """Set COMMONS_* variables for one test (the settings are re-read; restored afterwards)."""

    def set_env(**values):
        for name, value in values.items():
            monkeypatch.setenv(f"COMMONS_{name.upper()}", str(value))
        get_settings.cache_clear()

    yield set_env
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def stewards(founders):
    return founders[:2]


# Cache fixtures for the indexer, cache, API and audit tests (tests/cache_support.py).
from tests.cache_support import cache_url, pg_database  # noqa: E402,F401


@pytest.fixture(scope="module", autouse=True)
def chain_mines_each_transaction(w3):
    """Every module starts on a chain that mines each transaction at once, with nothing waiting and its clock not
    behind the wall clock's: a module that turned automine off or set interval mining (to behave like a public
    chain), or rolled the chain back (see helpers.rolled_back), must not leave later modules a different chain."""
    w3.provider.make_request("evm_setIntervalMining", [0])
    w3.provider.make_request("evm_setAutomine", [True])
    clean_mempool_and_clock(w3)
    yield


@pytest.fixture
def receiver():
    """A local webhook receiver for one test (tests/hook_support.py)."""
    from tests.hook_support import start_receiver

    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()
