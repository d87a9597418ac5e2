"""The API fuzzed from its own OpenAPI schema (schemathesis, in process): nothing a client sends makes a 5xx,
and every 2xx body matches the schema. The relay routes belong to the relay's own tests."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from governance.client import Commons
from governance.config import get_settings
from tests.cache_support import fresh_sqlite, indexer_for, make_history
from tests.helpers import rolled_back


@pytest.fixture(scope="module")
def api_schema(w3, deployed, founders, anvil_url, tmp_path_factory):
    with rolled_back(w3):
        make_history(Commons(w3, deployed), founders[:2], founders)
        url = fresh_sqlite(tmp_path_factory.mktemp("fuzz"))
        indexer_for(deployed, anvil_url, url).sync()
        app = create_app(url, upgrade_schema=False)
        # Configured as an operator must for sign-in (reminders): without a public URL sign-in answers 503 on any host
        # but localhost, by design, and the fuzzer's requests come from "testserver".
        with pytest.MonkeyPatch.context() as env:
            env.setenv("COMMONS_PUBLIC_URL", "http://testserver")
            env.setenv("COMMONS_REMINDER_SECRET", "fuzz-secret-" + "x" * 32)
            get_settings.cache_clear()
            yield schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path_regex="^/api/relay")
        get_settings.cache_clear()


def test_no_input_makes_a_server_error(api_schema):
    # Driven through hypothesis directly: schemathesis' pytest plugin does not load under pytest 9.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    calls = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(mode))
            @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def fuzz(case):
                calls.append(case)
                positive = mode is GenerationMode.POSITIVE  # noqa: B023 (fuzz runs within this iteration)
                checks = [not_a_server_error] + ([response_schema_conformance] if positive else [])
                case.call_and_validate(checks=checks)

            try:
                fuzz()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # no parameters, so nothing can be malformed
    assert len(calls) > 10 * len(operations)
