"""Large answers stay bounded (SQLite and PostgreSQL): a proposal's answer carries its first votes and pages on through
its votes route, every vote exactly once; the exports (decision log and treasury, CSV and JSON lines) stream in chunks
and are byte for byte what they were when each was built in one piece."""

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient

from api import exports
from api.app import create_app
from api.cache import queries
from api.notify.words import Names, entry_words
from api.routes.decisions import CSV_COLUMNS as LOG_COLUMNS
from api.routes.treasury import CSV_COLUMNS as FLOW_COLUMNS
from governance.client import Commons
from governance.decision_log import canonical_json
from tests.cache_support import _empty_postgres, fresh_sqlite, indexer_for
from tests.treasury_support import deploy_treasury_commons, make_treasury_history


@pytest.fixture(scope="module")
def indexed(w3, founders, anvil_url, tmp_path_factory, pg_database):
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    tc = deploy_treasury_commons(w3, founders)
    make_treasury_history(Commons(w3, tc.manifest), tc, founders)
    _empty_postgres(pg_database)
    urls = {"sqlite": fresh_sqlite(tmp_path_factory.mktemp("large")), "postgresql": pg_database}
    for url in urls.values():
        indexer_for(tc.manifest, anvil_url, url).sync()
    yield urls
    w3.provider.make_request("evm_revert", [snapshot])


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request, indexed, monkeypatch):
    # Tiny pages and chunks, so this small history crosses many page and chunk boundaries.
    monkeypatch.setattr(queries, "VOTES_IN_DETAIL", 2)
    monkeypatch.setattr(exports, "EXPORT_CHUNK", 3)
    monkeypatch.setattr(queries, "EXPORT_CHUNK", 3)
    monkeypatch.setattr("api.cache.treasury_queries.EXPORT_CHUNK", 3)
    monkeypatch.setattr(exports, "CHUNK_CHARS", 700)
    with TestClient(create_app(indexed[request.param], upgrade_schema=False)) as test_client:
        yield test_client


def voted_proposal(client: TestClient) -> dict:
    """The proposal with the most votes in the history."""
    listed = client.get("/api/proposals", params={"limit": 500}).json()["data"]
    return max(listed, key=lambda p: p["voter_count"])


def test_a_proposals_answer_carries_its_first_votes_and_a_cursor_to_the_rest(client):
    proposal = voted_proposal(client)
    assert proposal["voter_count"] > 2
    detail = client.get(f"/api/proposals/{proposal['proposal_id']}").json()
    assert len(detail["votes"]) == 2 and detail["votes_next_after"] is not None
    every = client.get(f"/api/proposals/{proposal['proposal_id']}/votes", params={"limit": 500}).json()
    assert every["next_after"] is None and len(every["data"]) == proposal["voter_count"]
    assert detail["votes"] == every["data"][:2]


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_paging_from_the_answer_gives_every_vote_once_in_order(client, limit):
    proposal = voted_proposal(client)
    detail = client.get(f"/api/proposals/{proposal['proposal_id']}").json()
    seen, after = list(detail["votes"]), detail["votes_next_after"]
    while after is not None:
        page = client.get(f"/api/proposals/{proposal['proposal_id']}/votes", params={"after": after, "limit": limit}).json()
        assert page["data"] and len(page["data"]) <= limit
        seen.extend(page["data"])
        after = page["next_after"]
    every = client.get(f"/api/proposals/{proposal['proposal_id']}/votes", params={"limit": 500}).json()["data"]
    assert seen == every
    assert len({(v["voter"], v["tx_hash"], v["log_index"]) for v in seen}) == proposal["voter_count"]


def test_a_page_that_ends_the_votes_exactly_names_no_next_page(client):
    proposal = voted_proposal(client)
    count = proposal["voter_count"]
    page = client.get(f"/api/proposals/{proposal['proposal_id']}/votes", params={"limit": count}).json()
    assert len(page["data"]) == count and page["next_after"] is None
    short = client.get(f"/api/proposals/{proposal['proposal_id']}/votes", params={"limit": count - 1}).json()
    assert short["next_after"] is not None
    rest = client.get(f"/api/proposals/{proposal['proposal_id']}/votes", params={"after": short["next_after"]}).json()
    assert rest["data"] == page["data"][-1:] and rest["next_after"] is None


def test_a_proposal_whose_votes_fit_in_its_answer_has_no_cursor(client, monkeypatch):
    proposal = voted_proposal(client)
    monkeypatch.setattr(queries, "VOTES_IN_DETAIL", proposal["voter_count"])
    detail = client.get(f"/api/proposals/{proposal['proposal_id']}").json()
    assert len(detail["votes"]) == proposal["voter_count"] and detail["votes_next_after"] is None


def all_entries(client: TestClient) -> list[dict]:
    entries, after = [], 0
    while after is not None:
        page = client.get("/api/decisions", params={"after": after, "limit": 7}).json()
        entries.extend(page["data"])
        after = page["next_after"]
    return entries


def test_decision_log_exports_are_byte_for_byte_as_built_in_one_piece(client):
    entries = all_entries(client)
    assert len(entries) > 10
    jsonl = client.get("/api/decisions/export.jsonl")
    assert jsonl.content == "".join(canonical_json(e) + "\n" for e in entries).encode()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*LOG_COLUMNS, "in_words"])
    with client.app.state.engine.connect() as conn:
        names = Names.read(conn)
        for entry in entries:
            words = entry_words(entry["kind"], entry["data"], names, entry["tx_hash"], entry["seq"])
            writer.writerow([canonical_json(entry["data"]) if c == "data" else entry[c] for c in LOG_COLUMNS] + [words])
    assert client.get("/api/decisions/export.csv").content == buffer.getvalue().encode()


def test_treasury_exports_are_byte_for_byte_as_built_in_one_piece(client):
    flows = client.get("/api/treasury/flows", params={"limit": 500}).json()["data"]
    assert len(flows) > 3
    jsonl = client.get("/api/treasury/export.jsonl")
    assert jsonl.content == "".join(json.dumps(f, sort_keys=True, ensure_ascii=False) + "\n" for f in flows).encode()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FLOW_COLUMNS)
    for flow in flows:
        writer.writerow(["" if flow[c] is None else flow[c] for c in FLOW_COLUMNS])
    assert client.get("/api/treasury/export.csv").content == buffer.getvalue().encode()


def test_a_page_of_votes_is_kept_for_the_indexed_block_keyed_on_its_cursor_and_size(client):
    proposal = voted_proposal(client)
    path = f"/api/proposals/{proposal['proposal_id']}/votes"
    kept = client.app.state.answers.items
    first = client.get(path, params={"limit": 1, "junk": "x"}).json()
    assert any(key[0] == path and key[1] == (("limit", "1"),) for key in kept)  # junk left out of the key
    second = client.get(path, params={"limit": 1, "after": first["next_after"]}).json()
    assert second["data"] != first["data"]  # another cursor, another entry
    assert client.get(path, params={"limit": 1}).json() == first
    assert sum(1 for key in kept if key[0] == path) == 2
