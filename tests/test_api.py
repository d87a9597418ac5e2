"""The public API over an indexed history (SQLite and PostgreSQL): what it says, and how it refuses bad input."""

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from governance.client import Commons
from governance.decision_log import verify
from tests.cache_support import _empty_postgres, fresh_sqlite, indexer_for, make_history
from tests.helpers import rolled_back


@pytest.fixture(scope="module")
def indexed(w3, deployed, founders, anvil_url, tmp_path_factory, pg_database):
    """One history for the module, indexed into SQLite and PostgreSQL; the chain is rolled back afterwards."""
    with rolled_back(w3):
        commons = Commons(w3, deployed)
        ids = make_history(commons, founders[:2], founders)
        _empty_postgres(pg_database)
        urls = {"sqlite": fresh_sqlite(tmp_path_factory.mktemp("api")), "postgresql": pg_database}
        for url in urls.values():
            indexer_for(deployed, anvil_url, url).sync()
        yield commons, ids, urls


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(request, indexed):
    _, ids, urls = indexed
    with TestClient(create_app(urls[request.param], upgrade_schema=False)) as test_client:
        test_client.ids = ids
        yield test_client


@pytest.fixture(scope="module")
def commons(indexed):
    return indexed[0]


def test_overview_reports_counts_treasury_and_index_progress(client, commons):
    body = client.get("/api/commons").json()
    assert body["member_count"] == commons.membership.functions.memberCount().call()
    assert body["proposal_count"] == 3 and body["steward_count"] == 3
    assert body["treasury_wei"] == str(commons.w3.eth.get_balance(commons.manifest.timelock))
    assert body["indexed_block"]["number"] == commons.w3.eth.block_number and body["blocks_behind"] == 0


def test_overview_shows_current_settings(client):
    assert client.get("/api/commons").json()["settings"]["quorum_numerator"] == 30


def test_members_lists_current_members_only_by_default(client):
    handles = {m["handle"] for m in client.get("/api/members").json()["data"]}
    assert "newcomer" in handles and "founder5" not in handles


def test_former_members_are_listed_with_how_they_left(client):
    former = client.get("/api/members", params={"status": "former"}).json()["data"]
    assert [(m["handle"], m["left_how"]) for m in former] == [("founder5", "resigned")]


def test_member_detail_has_history_and_votes(client, founders):
    body = client.get(f"/api/members/{founders[0].address.lower()}").json()
    assert body["address"] == founders[0].address
    assert {e["kind"] for e in body["history"]} >= {"MemberAdmitted", "StewardAppointed"}
    assert any(v["reason"] == "too early" for v in body["votes"])


def test_stewards_lists_appointed_steward(client, founders):
    assert founders[2].address in {s["address"] for s in client.get("/api/stewards").json()["data"]}


def test_proposal_detail_has_text_actions_timeline_and_votes(client):
    body = client.get(f"/api/proposals/{client.ids['admit']}").json()
    assert body["title"] == "Admit the newcomer" and body["state"] == "executed"
    assert body["actions"][0]["in_words"].startswith("Admit 0x")
    assert [s["step"] for s in body["timeline"]][:1] == ["ProposalCreated"]
    assert {"ProposalQueued", "ProposalExecuted"} <= {s["step"] for s in body["timeline"]}
    assert len(body["votes"]) == 4 and body["quorum_progress"]["reached"]


def test_proposal_found_by_its_number(client):
    assert client.get("/api/proposals/3").json()["proposal_id"] == str(client.ids["pay"])


def test_proposal_text_keeps_unicode(client):
    assert "Gießkannen" in client.get(f"/api/proposals/{client.ids['pay']}").json()["description"]


def test_proposals_filter_by_state(client):
    states = {p["state"] for p in client.get("/api/proposals", params={"state": "executed"}).json()["data"]}
    assert states == {"executed"}


def test_proposals_filter_by_state_matches_each_proposals_state(client):
    every = client.get("/api/proposals").json()["data"]
    for proposal in every:
        filtered = client.get("/api/proposals", params={"state": proposal["state"]}).json()["data"]
        assert proposal["proposal_id"] in {p["proposal_id"] for p in filtered}


def test_proposals_filter_by_proposer(client, stewards):
    data = client.get("/api/proposals", params={"proposer": stewards[1].address}).json()["data"]
    assert [p["title"] for p in data] == ["Appoint a third steward"]


def test_proposals_keyset_pages_cover_all_without_repeats(client):
    first = client.get("/api/proposals", params={"limit": 2}).json()
    second = client.get("/api/proposals", params={"limit": 2, "before": first["next_before"]}).json()
    numbers = [p["number"] for p in first["data"] + second["data"]]
    assert numbers == [3, 2, 1] and second["next_before"] is None


def test_decision_log_pages_form_a_valid_hash_chain(client):
    first = client.get("/api/decisions", params={"limit": 10}).json()
    rest = client.get("/api/decisions", params={"after": first["next_after"], "limit": 500}).json()
    entries = first["data"] + rest["data"]
    assert verify(entries) == [] and entries[-1]["hash"] == first["head_hash"]


def test_jsonl_export_is_the_hash_chain(client):
    lines = client.get("/api/decisions/export.jsonl").text.splitlines()
    assert verify([json.loads(line) for line in lines]) == []


def test_csv_export_has_one_row_per_entry(client):
    rows = list(csv.DictReader(io.StringIO(client.get("/api/decisions/export.csv").text)))
    assert len(rows) == client.get("/api/commons").json()["decision_log_count"]


def test_participation_reports_turnout_per_proposal(client):
    body = client.get("/api/stats/participation").json()
    pay = next(p for p in body["per_proposal"] if p["title"] == "Pay the newcomer")
    assert pay["voters"] == 2 and pay["electorate"] == 7 and pay["turnout"] == pytest.approx(2 / 7, abs=1e-3)


@pytest.mark.parametrize(
    "path, status, code",
    [
        ("/api/members/0xnot-an-address", 400, "invalid_address"),
        ("/api/members/0x0000000000000000000000000000000000000001", 404, "unknown_member"),
        ("/api/proposals/not-a-number", 400, "invalid_proposal_id"),
        ("/api/proposals/123456789012345678901234567890", 404, "unknown_proposal"),
        ("/api/proposals/" + str(2**256), 400, "invalid_proposal_id"),
        ("/api/proposals?limit=100000", 422, "invalid_request"),
        ("/api/proposals?state=dormant", 422, "invalid_request"),
        ("/api/proposals?proposer=0x12", 400, "invalid_address"),
        ("/api/decisions?after=-1", 422, "invalid_request"),
        ("/api/decisions?kind=Coronation", 422, "invalid_request"),
        ("/api/decisions?subject=somebody", 400, "invalid_subject"),
        ("/api/decisions?subject=0x12", 400, "invalid_subject"),
        ("/api/decisions/export.csv?subject=-5", 400, "invalid_subject"),
        ("/api/decisions?after=1&before=9", 400, "conflicting_cursors"),
        ("/api/decisions?before=0", 422, "invalid_request"),
        ("/api/decisions?member=0x12", 400, "invalid_address"),
        ("/api/decisions?" + "&".join(f"subject={n}" for n in range(21)), 400, "too_many_subjects"),
    ],
)
def test_bad_input_gets_a_4xx_json_error_in_words(client, path, status, code):
    response = client.get(path)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert len(response.json()["detail"]) > 10


# 40 characters that int(…, 16) reads as a number but no address has: '_' between digits, a sign or a space first.
NOT_HEX = ["0" * 19 + "_" + "0" * 20, "%2B" + "0" * 39, "%20" + "0" * 39, "0" * 39 + "%20"]
ADDRESS_ROUTES = [
    "/api/members/0x{}",
    "/api/proposals?proposer=0x{}",
    "/api/decisions?subject=0x{}",
    "/api/decisions?member=0x{}",
    "/api/decisions/export.csv?member=0x{}",
    "/api/decisions/export.jsonl?subject=0x{}",
    "/api/proposals/1/votes/0x{}",
]


@pytest.mark.parametrize("route", ADDRESS_ROUTES)
@pytest.mark.parametrize("digits", NOT_HEX)
def test_an_address_with_a_non_hex_character_is_refused_in_words(client, route, digits):
    response = client.get(route.format(digits))
    assert (response.status_code, response.json()["code"]) == (400, "invalid_address")
    assert "40 hex digits" in response.json()["detail"]


def test_responses_carry_security_headers(client):
    headers = client.get("/api/commons").headers
    assert "script-src 'self'" in headers["content-security-policy"] and "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"


def test_unindexed_cache_answers_503_with_a_sentence(tmp_path):
    from tests.cache_support import fresh_sqlite

    with TestClient(create_app(fresh_sqlite(tmp_path, "empty.db"), upgrade_schema=False)) as empty:
        response = empty.get("/api/commons")
    assert response.status_code == 503 and "not indexed" in response.json()["detail"]


def test_a_repeated_request_gets_the_same_answer_and_headers_from_the_cache(client):
    for url in (f"/api/proposals/{client.ids['pay']}", "/api/decisions?limit=3"):
        first, again = (client.get(url, headers={"Origin": "https://observer.example"}) for _ in range(2))
        assert again.status_code == first.status_code == 200 and again.content == first.content
        assert {k: v for k, v in again.headers.items() if k != "date"} == {k: v for k, v in first.headers.items() if k != "date"}
        assert again.headers["access-control-allow-origin"] == "*" and "content-security-policy" in again.headers


def test_query_parameters_no_route_reads_add_no_cached_answers(client):
    answers = client.app.state.answers
    first = client.get("/api/decisions", params={"limit": 4, "after": 2})
    held = len(answers.items)
    for n in range(20):
        again = client.get("/api/decisions", params={"after": 2, "junk": n, "limit": 4, f"x{n}": "y"})
        assert again.content == first.content
    assert len(answers.items) == held


def test_cached_answers_are_keyed_on_every_query_parameter_their_route_reads(client):
    from api.answer_cache import keyed_parameters

    paths = client.app.openapi()["paths"]
    routes = (
        ("/api/decisions", "/api/decisions"),
        ("/api/proposals/1", "/api/proposals/{proposal_ref}"),
        ("/api/proposals/1/votes", "/api/proposals/{proposal_ref}/votes"),
    )
    for path, template in routes:
        reads = {p["name"] for p in paths[template]["get"].get("parameters", []) if p["in"] == "query"}
        assert keyed_parameters(path) == reads, template


def test_cached_answers_follow_the_indexed_block(indexed, anvil_url, tmp_path):
    import sqlalchemy as sa

    from api.db import make_engine

    commons, _, _ = indexed
    url = fresh_sqlite(tmp_path, "moving.db")
    indexer_for(commons.manifest, anvil_url, url).sync()
    with TestClient(create_app(url, upgrade_schema=False)) as api:
        before = [api.get("/api/decisions?limit=3").json()["count"] for _ in range(2)]
        with make_engine(url).begin() as conn:  # as if the indexer had moved to another block
            # another hash: the last digit changed (to 'e' if it was 'f', so it always differs)
            conn.execute(
                sa.text(
                    "UPDATE sync_cursor SET block_hash = '0x' || substr(block_hash, 3, 63) || "
                    "CASE WHEN substr(block_hash, 66, 1) = 'f' THEN 'e' ELSE 'f' END, log_seq = log_seq + 1"
                )
            )
        after = api.get("/api/decisions?limit=3").json()["count"]
    assert before[0] == before[1] and after == before[0] + 1


def test_decision_log_filters_by_kind_and_subject_and_reads_back_from_the_newest(client):
    votes = client.get("/api/decisions", params={"kind": ["VoteCast", "VoteCastWithParams"], "limit": 500}).json()
    assert votes["count"] == len(votes["data"]) == 10
    assert {e["kind"] for e in votes["data"]} == {"VoteCast"}
    assert votes["head_hash"] == client.get("/api/commons").json()["decision_log_head_hash"]

    pay = client.ids["pay"]
    about_pay = client.get("/api/decisions", params={"subject": str(pay)}).json()["data"]
    assert about_pay[0]["kind"] == "ProposalCreated" and {e["subject"] for e in about_pay} == {str(pay)}
    assert [e["data"]["voter"] for e in about_pay if e["kind"] == "VoteCast"] == [
        v["voter"] for v in client.get(f"/api/proposals/{pay}").json()["votes"]
    ]

    newest_first, before = [], client.get("/api/commons").json()["decision_log_count"] + 1
    while before is not None:
        page = client.get("/api/decisions", params={"kind": "VoteCast", "limit": 3, "before": before}).json()
        newest_first += reversed(page["data"])
        before = page["next_before"]
    assert newest_first == votes["data"][::-1]


def test_filtered_exports_hold_only_matching_entries_each_with_its_own_hash(client):
    from governance.decision_log import entry_hash

    lines = [
        json.loads(line)
        for line in client.get("/api/decisions/export.jsonl", params={"kind": "MemberAdmitted"}).text.splitlines()
    ]
    assert lines and {e["kind"] for e in lines} == {"MemberAdmitted"}
    assert all(entry_hash({k: v for k, v in e.items() if k != "hash"}) == e["hash"] for e in lines)
    response = client.get("/api/decisions/export.csv", params={"kind": "MemberAdmitted"})
    assert [r["seq"] for r in csv.DictReader(io.StringIO(response.text))] == [str(e["seq"]) for e in lines]
    assert "decision-log-filtered.csv" in response.headers["content-disposition"]


def test_decision_log_about_a_member_holds_everything_they_did_or_that_was_done_to_them(client, commons):
    whole = [json.loads(line) for line in client.get("/api/decisions/export.jsonl").text.splitlines()]
    people = ("member", "delegator", "toDelegate", "steward", "proposer", "voter")
    checked_kinds = set()
    for address in {e["data"][k] for e in whole for k in people if k in e["data"]}:
        expected = [e for e in whole if e["subject"] == address or address in (e["data"].get(k) for k in people)]
        answer = client.get("/api/decisions", params={"member": address.lower(), "limit": 500}).json()
        assert answer["data"] == expected and answer["count"] == len(expected), address
        checked_kinds |= {e["kind"] for e in expected}
    assert {
        "MemberAdmitted",
        "DelegateChanged",
        "StewardAppointed",
        "ProposalCreated",
        "VoteCast",
        "MemberResigned",
    } <= checked_kinds
    voter = next(e["data"]["voter"] for e in whole if e["kind"] == "VoteCast")
    their_votes = client.get("/api/decisions", params={"member": voter, "kind": "VoteCast"}).json()["data"]
    assert their_votes == [e for e in whole if e["kind"] == "VoteCast" and e["data"]["voter"] == voter]  # filters combine
