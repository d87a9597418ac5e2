"""Answers missing the answer cache (SQLite and PostgreSQL): written straight from the cache's rows, they are byte for
byte what their response models write; a filtered decision log is counted once per head of the log; a proposal's
timeline and a member's delegations are read through their indexes, not through every vote and delegation."""

import json

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from api.cache import queries
from api.cache.queries import LogFilter
from api.db import make_engine
from api.schemas import DecisionPagePublic, ProposalDetail, VotesPublic
from governance import actions as act
from governance.client import Commons
from tests.cache_support import _empty_postgres, fresh_sqlite, indexer_for
from tests.helpers import propose, rolled_back, to_voting, vote

# Reasons whose JSON needs care: escapes, control characters, line separators, non-ASCII, and one cut in lists.
REASONS = [
    'Say "no" \\ twice\n\ttab \x01 \x7f \u2028 \u2029 </script>',
    "Für die Gießkannen 🌱 " * 60,
    "",
]


@pytest.fixture(scope="module")
def indexed(w3, deployed, founders, anvil_url, tmp_path_factory, pg_database):
    """A proposal naming members in its actions, voted on with awkward reasons, and a delegation to another member;
    indexed into SQLite and PostgreSQL; the chain is rolled back afterwards."""
    with rolled_back(w3):
        commons = Commons(w3, deployed)
        a = commons.addresses
        actions = [act.remove(a, founders[5].address), act.pay(founders[4].address, 10**15)]
        proposal_id = propose(commons, founders[0], actions, "Remove and pay 🌱", "Zwei Schritte: «erst», dann 支付.")
        to_voting(commons, proposal_id)
        for voter, reason in zip(founders[1:4], REASONS, strict=True):
            vote(commons, voter, proposal_id, "for", reason)
        commons.submit(commons.plan_delegate(founders[2].address), founders[4])
        _empty_postgres(pg_database)
        urls = {"sqlite": fresh_sqlite(tmp_path_factory.mktemp("misses")), "postgresql": pg_database}
        for url in urls.values():
            indexer_for(deployed, anvil_url, url).sync()
        yield urls, proposal_id, founders


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request, indexed):
    with TestClient(create_app(indexed[0][request.param], upgrade_schema=False)) as client:
        yield client


def model_bytes(model, shaped: dict) -> bytes:
    """What the routes wrote before they wrote answers directly: the response model's dump, compact, UTF-8."""
    return json.dumps(model.model_validate(shaped).model_dump(mode="json"), separators=(",", ":"), ensure_ascii=False).encode()


def test_answers_written_from_rows_are_the_bytes_their_response_models_write(app, indexed, monkeypatch):
    _, proposal_id, founders = indexed
    monkeypatch.setattr(queries, "VOTES_IN_DETAIL", 2)  # the answer carries two votes and a cursor to the third
    engine = app.app.state.engine
    with engine.connect() as conn:
        at = queries.cursor(conn)
        row = queries.proposal_row(conn, proposal_id)
        expected = {f"/api/proposals/{proposal_id}": model_bytes(ProposalDetail, queries.proposal_detail(conn, row, at))}
        for after, limit in ((None, 100), (None, 1), (queries.votes_page(conn, row, None, 1)["next_after"], 1)):
            query = f"?limit={limit}" + (f"&after={after}" if after is not None else "")
            page = queries.votes_page(conn, row, after, limit)
            expected[f"/api/proposals/{row.number}/votes{query}"] = model_bytes(VotesPublic, page)
        filters = {
            "": LogFilter(),
            "kind=VoteCast&kind=ProposalCreated": LogFilter(("ProposalCreated", "VoteCast")),
            f"member={founders[2].address}": LogFilter(member=founders[2].address),
            f"subject={proposal_id}": LogFilter(subjects=(str(proposal_id),)),
        }
        for query, wanted in filters.items():
            for after, before, limit in ((None, None, 100), (3, None, 2), (None, at["log_seq"], 2)):
                page = queries.decisions_page(conn, at, wanted, after, before, limit)
                cursors = (f"&after={after}" if after is not None else "") + (f"&before={before}" if before else "")
                expected[f"/api/decisions?{query}&limit={limit}{cursors}"] = model_bytes(DecisionPagePublic, page)
    detail = json.loads(expected[f"/api/proposals/{proposal_id}"])
    assert "@founder5" in detail["actions"][0]["in_words"] and detail["votes_next_after"] is not None
    for path, body in expected.items():
        assert app.get(path).content == body, path


def test_a_filtered_log_is_counted_once_per_head_of_the_log(indexed, monkeypatch):
    monkeypatch.setattr(queries, "LOG_COUNTS", queries.CountsByHead())
    engine = make_engine(indexed[0]["sqlite"])
    with engine.connect() as conn:
        votes = conn.exec_driver_sql("SELECT count(*) FROM decision_entry WHERE kind = 'VoteCast'").scalar()
    counted = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: counted.append(args[2]) if "count(" in args[2] else None)
    wanted = LogFilter(("VoteCast",))
    with engine.connect() as conn:
        at = queries.cursor(conn)
        first = queries.decisions_page(conn, at, wanted, None, None, 1)
        second = queries.decisions_page(conn, at, wanted, first["next_after"], None, 1)
        assert first["count"] == second["count"] == votes >= len(REASONS) and len(counted) == 1
        newer = {**at, "log_seq": at["log_seq"] - 1, "log_head_hash": "0x" + "ab" * 32}  # another head: counted anew
        assert queries.decisions_page(conn, newer, wanted, None, None, 1)["count"] == votes and len(counted) == 2


def query_plans(engine, path: str, app: TestClient) -> list[str]:
    """SQLite's plan of each statement the app ran on the decision log to answer `path`."""
    ran = []
    listener = lambda conn, cursor, statement, parameters, context, many: ran.append((statement, parameters))  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        assert app.get(path).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    with engine.connect() as conn:
        return [
            " / ".join(step[-1] for step in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
            for statement, parameters in ran
            if "decision_entry" in statement
        ]


def test_a_proposals_timeline_and_a_members_delegations_are_read_through_their_indexes(indexed):
    urls, proposal_id, founders = indexed
    with TestClient(create_app(urls["sqlite"], upgrade_schema=False)) as client:
        engine = client.app.state.engine
        timeline = query_plans(engine, f"/api/proposals/{proposal_id}", client)
        assert timeline and all("ix_decision_entry_subject_kind_not_votes" in plan for plan in timeline), timeline
        member = query_plans(engine, f"/api/decisions?member={founders[2].address}", client)
        assert member and all("ix_decision_entry_delegatee" in plan for plan in member), member
