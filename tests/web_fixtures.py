"""Fixtures of the browser test modules, loaded by each with `pytest_plugins = ["tests.web_fixtures"]` (so each
module gets its own server): the served app, chromium, a phone-sized page, a relayer, and histories to show."""

import playwright.sync_api as playwright_api  # `./dev test` installs it and Debian's chromium
import pytest

from api.db import make_engine
from api.relay_store import SqlRelayStore
from governance import actions as act
from governance.relayer import Relayer, RelayOptions
from tests import helpers
from tests.cache_support import fresh_sqlite
from tests.helpers import fund, propose, to_voting, vote
from tests.web_support import CHROMIUM, CHROMIUM_ARGS, Server, new_tab, save_screenshot, served_app, wait_indexed


@pytest.fixture(scope="module")
def server(deployed, anvil_url, tmp_path_factory):
    """The real app on a SQLite file, its indexer following anvil (through the per-test rollbacks, as reorgs)."""
    with Server(served_app(deployed, anvil_url, tmp_path_factory.mktemp("web") / "cache.db")) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A phone-sized page; its screenshot is saved under test-artifacts/ after the test."""
    tab = new_tab(browser)
    yield tab
    save_screenshot(tab, request.node.name)
    tab.context.close()


@pytest.fixture
def relayer(commons, w3, server, tmp_path):
    """A fresh relayer and relay store per test (the chain is rolled back between tests, and with it the relay's nonce)."""
    signer = helpers.test_key_signer("web-relayer")
    fund(w3, signer.address)
    store = SqlRelayStore(make_engine(fresh_sqlite(tmp_path, "relay.db")))
    relay = Relayer(commons, signer, store, RelayOptions(batch_window=0.05)).start()
    server.server.config.app.state.relayer = relay
    yield relay
    relay.stop()


@pytest.fixture
def open_proposal(commons, stewards, server, w3) -> int:
    """A proposal open for voting, already in the API (active at the indexed block)."""
    pid = propose(
        commons,
        stewards[0],
        [act.pay("0x000000000000000000000000000000000000bEEF", 10**18)],
        "Buy a shared lawnmower",
        "We mow **together**.\n\n- one machine\n- a rota",
    )
    to_voting(commons, pid)
    wait_indexed(server.url, w3)
    return pid


@pytest.fixture
def voted_history(commons, stewards, founders, server, w3) -> dict:
    """Two proposals with votes and reasons (one still open, one closed), indexed by the API."""
    first = propose(commons, stewards[0], [act.pay("0x000000000000000000000000000000000000bEEF", 1)], "Plant an orchard")
    to_voting(commons, first)
    for member, support, reason in [
        (founders[0], "for", "Apples for all"),
        (founders[1], "for", ""),
        (founders[2], "against", "Too much shade"),
        (founders[3], "abstain", ""),
    ]:
        vote(commons, member, first, support, reason)
    helpers.to_deadline_passed(commons, first)
    second = propose(commons, stewards[1], [act.pay("0x000000000000000000000000000000000000bEEF", 2)], "Mend the fence")
    to_voting(commons, second)
    vote(commons, founders[4], second, "for", "It leans")
    return {"ids": (first, second), "overview": wait_indexed(server.url, w3)}
