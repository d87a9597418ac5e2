"""The API docs page in a real browser: Swagger UI from this origin works under the app's one strict CSP."""

import shutil

import playwright.sync_api as playwright_api
import pytest

from api.app import create_app
from tests.cache_support import fresh_sqlite
from tests.web_support import CHROMIUM_ARGS, Server


@pytest.fixture
def tab():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS, headless=True)
        page = chromium.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(20_000)
        yield page
        chromium.close()


def test_docs_page_renders_every_operation_under_the_strict_policy(tab, tmp_path):
    problems: list[str] = []
    requested: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    tab.on("console", lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None)
    tab.on("request", lambda request: requested.append(request.url))
    with Server(create_app(fresh_sqlite(tmp_path), upgrade_schema=False)) as server:
        tab.goto(f"{server.url}/docs")
        tab.locator(".opblock").first.wait_for()
        operations = tab.locator(".opblock").count()
        paths = tab.evaluate("fetch('/openapi.json').then((r) => r.json()).then((doc) => Object.keys(doc.paths).length)")
    assert problems == []  # no CSP violation, no script error
    assert operations >= paths > 10
    assert all(url.startswith(server.url) for url in requested), [u for u in requested if not u.startswith(server.url)]
