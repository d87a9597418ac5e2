"""Initiatives in the cache and the API (SQLite and PostgreSQL): progress, supporters, status, the decision log."""

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from governance.client import Commons
from governance.initiatives import Initiatives
from tests.cache_support import _empty_postgres, fresh_sqlite, indexer_for
from tests.helpers import act
from tests.test_initiatives import TEXT, draft, submit, support

SOMEONE = "0x000000000000000000000000000000000000bEEF"


@pytest.fixture(scope="module")
def indexed(w3, deployed, founders, anvil_url, tmp_path_factory, pg_database):
    """Initiative 1 proposed (author founder 2, supporters 3 and 4); 2 open with one supporter; 3 revised; 4 withdrawn."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    commons = Commons(w3, deployed)
    initiatives = Initiatives(commons)
    first = draft(initiatives, founders[2])
    support(initiatives, first, founders[3])
    support(initiatives, first, founders[4])
    proposal_id = submit(initiatives, first)
    second = draft(initiatives, founders[3], text="# Mend the fence\n\nThe east side.")
    support(initiatives, second, founders[5])
    third = draft(initiatives, founders[4])
    support(initiatives, third, founders[5])
    commons.submit(initiatives.plan_revise(third, [act.pay(SOMEONE, 7)], TEXT + " Revised."), founders[4])
    fourth = draft(initiatives, founders[5])
    commons.submit(initiatives.plan_withdraw(fourth), founders[5])
    _empty_postgres(pg_database)
    urls = {"sqlite": fresh_sqlite(tmp_path_factory.mktemp("initiatives")), "postgresql": pg_database}
    for url in urls.values():
        indexer_for(deployed, anvil_url, url).sync()
    yield proposal_id, urls
    w3.provider.make_request("evm_revert", [snapshot])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(request, indexed):
    with TestClient(create_app(indexed[1][request.param], upgrade_schema=False)) as test_client:
        test_client.proposal_id = indexed[0]
        yield test_client


def test_the_list_shows_each_initiative_with_progress_and_status(client):
    body = client.get("/api/initiatives").json()
    assert body["count"] == 4
    assert [(i["id"], i["status"], i["progress"]) for i in body["data"]] == [
        (4, "withdrawn", "1 of 3 supporters"),
        (3, "revised", "1 of 3 supporters"),
        (2, "open", "2 of 3 supporters"),
        (1, "proposed", "3 of 3 supporters"),
    ]


def test_the_list_filters_by_status_and_author_and_pages(client, founders):
    assert [i["id"] for i in client.get("/api/initiatives", params={"status": "open"}).json()["data"]] == [2]
    by_author = client.get("/api/initiatives", params={"author": founders[2].address}).json()
    assert [i["id"] for i in by_author["data"]] == [1]
    page = client.get("/api/initiatives", params={"limit": 3, "page": 2}).json()
    assert [i["id"] for i in page["data"]] == [1] and page["count"] == 4


def test_one_initiative_has_text_actions_in_words_supporters_and_its_proposal(client, founders):
    body = client.get("/api/initiatives/1").json()
    assert body["title"] == "Pay the seed fund" and body["author_handle"] == "founder2"
    assert body["status_words"] == "proposed as #1" and body["proposal_id"] == str(client.proposal_id)
    assert {s["handle"] for s in body["supporters"]} == {"founder3", "founder4"}
    assert body["actions"][0]["in_words"].startswith("Pay 0.001 ETH from the treasury to")


def test_an_unknown_initiative_is_a_404_in_words(client):
    answer = client.get("/api/initiatives/99")
    assert answer.status_code == 404 and "no initiative 99" in answer.json()["detail"]


def test_initiatives_are_in_the_decision_log(client):
    kinds = [e["kind"] for e in client.get("/api/decisions", params={"limit": 500}).json()["data"]]
    for kind in ("InitiativeDrafted", "SupportPosted", "InitiativeRevised", "InitiativeWithdrawn", "InitiativeSubmitted"):
        assert kind in kinds


def test_the_initiatives_contract_is_not_listed_as_a_steward(client, deployed):
    stewards = [s["address"] for s in client.get("/api/stewards").json()["data"]]
    assert deployed.initiatives not in stewards and len(stewards) == 2


def test_participation_counts_who_drafts_and_who_supports(client):
    assert client.get("/api/stats/participation").json()["initiatives"] == {"drafters": 4, "supporters": 3}
