"""Initiatives in the cache and the API (SQLite and PostgreSQL): progress, supporters, status, the decision log, and the
proposal an initiative became (its author and supporters, not only the Initiatives contract that proposed it)."""

import sqlite3

import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient

from api.app import create_app
from api.cache.tables import PROPOSALS
from api.db import alembic_config, make_engine, migrate
from governance.client import Commons
from governance.initiatives import Initiatives
from tests import helpers
from tests.cache_support import _empty_postgres, fresh_sqlite, indexer_for
from tests.helpers import act, fund, impersonate, pass_proposal, send
from tests.test_initiatives import TEXT, draft, refused_submission, submit, support

SOMEONE = "0x000000000000000000000000000000000000bEEF"


def admitted(commons: Commons, handle: str):
    """A new member with their own key, admitted by the timelock (as a passed proposal would)."""
    member = helpers.test_key_signer(f"initiatives-api-{handle}")
    fund(commons.w3, member.address)
    timelock = impersonate(commons.w3, commons.manifest.timelock)
    send(commons.w3, timelock, commons.membership, "admit", member.address, handle)
    return member


@pytest.fixture(scope="module")
def indexed(w3, deployed, founders, anvil_url, tmp_path_factory, pg_database):
    """Initiative 1 proposed as #1 (author founder 2, supporters founder 3 and backer); 2 open with one supporter;
    3 revised; 4 withdrawn; 5 by leaver and 6 supported by backer, each with enough support until a passed vote
    (#2, by steward founder 0) removed leaver and backer from the membership."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    commons = Commons(w3, deployed)
    initiatives = Initiatives(commons)
    leaver, backer = admitted(commons, "leaver"), admitted(commons, "backer")
    first = draft(initiatives, founders[2])
    support(initiatives, first, founders[3])
    support(initiatives, first, backer)
    proposal_id = submit(initiatives, first)
    second = draft(initiatives, founders[3], text="# Mend the fence\n\nThe east side.")
    support(initiatives, second, founders[5])
    third = draft(initiatives, founders[4])
    support(initiatives, third, founders[5])
    commons.submit(initiatives.plan_revise(third, [act.pay(SOMEONE, 7)], TEXT + " Revised."), founders[4])
    fourth = draft(initiatives, founders[5])
    commons.submit(initiatives.plan_withdraw(fourth), founders[5])
    fifth = draft(initiatives, leaver, text="# Plant a hedge\n\nAlong the lane.")
    fifth_support = [support(initiatives, fifth, founders[2]), support(initiatives, fifth, founders[3])]
    sixth = draft(initiatives, founders[2], text="# Buy a wheelbarrow\n\nFor the compost.")
    sixth_support = [support(initiatives, sixth, founders[3]), support(initiatives, sixth, backer)]
    removal = [act.remove(commons.addresses, leaver.address), act.remove(commons.addresses, backer.address)]
    pass_proposal(commons, founders[0], founders, removal, "Remove leaver and backer")
    # The chain's word, which the API must agree with: `submit` now refuses both.
    refused_submission(initiatives, fifth, fifth_support, "InitiativesNotMember")
    refused_submission(initiatives, sixth, sixth_support, "InitiativesNotMember")
    _empty_postgres(pg_database)
    urls = {"sqlite": fresh_sqlite(tmp_path_factory.mktemp("initiatives")), "postgresql": pg_database}
    for url in urls.values():
        indexer_for(deployed, anvil_url, url).sync()
    yield proposal_id, urls, backer
    w3.provider.make_request("evm_revert", [snapshot])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(request, indexed):
    with TestClient(create_app(indexed[1][request.param], upgrade_schema=False)) as test_client:
        test_client.proposal_id = indexed[0]
        test_client.backer = indexed[2]
        yield test_client


def test_the_list_shows_each_initiative_with_progress_and_status(client):
    body = client.get("/api/initiatives").json()
    assert body["count"] == 6
    assert [(i["id"], i["status"], i["progress"]) for i in body["data"]] == [
        (6, "open", "2 of 3 supporters"),
        (5, "open", "2 of 3 supporters; its author is no longer a member, so it cannot be put to a vote"),
        (4, "withdrawn", "1 of 3 supporters"),
        (3, "revised", "1 of 3 supporters"),
        (2, "open", "2 of 3 supporters"),
        (1, "proposed", "3 of 3 supporters"),
    ]


def test_the_list_filters_by_status_and_author_and_pages(client, founders):
    assert [i["id"] for i in client.get("/api/initiatives", params={"status": "open"}).json()["data"]] == [6, 5, 2]
    by_author = client.get("/api/initiatives", params={"author": founders[2].address}).json()
    assert [i["id"] for i in by_author["data"]] == [6, 1]
    page = client.get("/api/initiatives", params={"limit": 4, "page": 2}).json()
    assert [i["id"] for i in page["data"]] == [2, 1] and page["count"] == 6


def test_one_initiative_has_text_actions_in_words_supporters_and_its_proposal(client, founders):
    body = client.get("/api/initiatives/1").json()
    assert body["title"] == "Pay the seed fund" and body["author_handle"] == "founder2"
    assert body["status_words"] == "proposed as #1" and body["proposal_id"] == str(client.proposal_id)
    assert {s["handle"] for s in body["supporters"]} == {"founder3", "backer"}  # backer, though removed since
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
    assert client.get("/api/stats/participation").json()["initiatives"] == {"drafters": 5, "supporters": 4}


def test_a_removed_author_no_longer_counts_and_the_initiative_cannot_be_put_to_a_vote(client):
    body = client.get("/api/initiatives/5").json()
    assert (body["author_handle"], body["author_is_member"]) == ("leaver", False)
    assert {s["handle"] for s in body["supporters"]} == {"founder2", "founder3"}
    assert (body["support_count"], body["needed"], body["threshold_met"]) == (2, 3, False)  # 3 of 3 before the vote


def test_the_cli_s_library_counts_a_removed_author_as_the_api_and_the_chain_do(indexed, w3, deployed):
    view = Initiatives(Commons(w3, deployed)).initiative(5)
    assert (view.author_is_member, view.support_count, view.needed) == (False, 2, 3)
    assert view.progress == "2 of 3 supporters; its author is no longer a member, so it cannot be put to a vote"


def test_a_removed_supporter_no_longer_counts(client):
    body = client.get("/api/initiatives/6").json()
    assert [s["handle"] for s in body["supporters"]] == ["founder3"] and len(body["signatures"]) == 1
    assert (body["author_is_member"], body["progress"], body["threshold_met"]) == (True, "2 of 3 supporters", False)


def test_a_proposal_from_an_initiative_names_its_author_and_supporters(client, founders, deployed):
    body = client.get(f"/api/proposals/{client.proposal_id}").json()
    assert body["proposer"] == deployed.initiatives  # on-chain, the contract proposed it
    supporters = sorted([(founders[3].address, "founder3"), (client.backer.address, "backer")], key=lambda s: int(s[0], 16))
    assert body["initiative"] == {
        "id": 1,
        "revision": 0,
        "author": founders[2].address,
        "author_handle": "founder2",
        "supporters": [{"address": a, "handle": h} for a, h in supporters],  # backer's handle though removed since
    }
    assert body["proposed_by"] == (
        f"@founder2 ({founders[2].address}) through initiative 1, supported by 2 members, "
        f"put to a vote by the Initiatives contract ({deployed.initiatives})"
    )
    assert client.get("/api/proposals/1").json()["initiative"] == body["initiative"]  # by number too


def test_a_stewards_proposal_is_proposed_by_the_steward(client, founders):
    body = client.get("/api/proposals/2").json()
    assert body["title"] == "Remove leaver and backer" and body["initiative"] is None
    assert body["proposed_by"] == f"@founder0 ({founders[0].address})"


def test_a_cache_indexed_before_proposals_knew_their_initiative_learns_it_on_upgrade(indexed, tmp_path, founders):
    copy = tmp_path / "before.db"
    source, target = sqlite3.connect(indexed[1]["sqlite"].removeprefix("sqlite:///")), sqlite3.connect(copy)
    source.backup(target)  # with what its write-ahead log holds
    source.close()
    target.close()
    engine = make_engine(f"sqlite:///{copy}")
    command.downgrade(alembic_config(engine), "0008")  # as the cache was: no proposal.initiative_id
    migrate(engine)
    with engine.connect() as conn:
        assert dict(conn.execute(sa.select(PROPOSALS.c.number, PROPOSALS.c.initiative_id)).all()) == {1: 1, 2: None}
    engine.dispose()
    with TestClient(create_app(f"sqlite:///{copy}", upgrade_schema=False)) as client:
        assert client.get("/api/proposals/1").json()["initiative"]["author"] == founders[2].address
