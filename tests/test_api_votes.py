"""Vote reasons in the API: lists carry the first REASON_PREVIEW characters and say when a reason was cut; a vote's
own route answers it whole."""

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.cache.queries import REASON_PREVIEW
from governance import actions as act
from governance.client import Commons
from tests.cache_support import fresh_sqlite, indexer_for
from tests.helpers import propose, rolled_back, to_voting, vote

LONG_REASON = "Wir brauchen die Gießkannen im Frühling. " * 60  # 2,460 characters


@pytest.fixture(scope="module")
def voted(w3, deployed, founders, anvil_url, tmp_path_factory):
    """A proposal with one long reason and one short, indexed; the chain is rolled back afterwards."""
    with rolled_back(w3):
        commons = Commons(w3, deployed)
        proposal_id = propose(commons, founders[0], [act.pay(founders[3].address, 1)], "Buy watering cans")
        to_voting(commons, proposal_id)
        vote(commons, founders[1], proposal_id, "for", LONG_REASON)
        vote(commons, founders[2], proposal_id, "against", "too early")
        url = fresh_sqlite(tmp_path_factory.mktemp("votes"))
        indexer_for(deployed, anvil_url, url).sync()
        with TestClient(create_app(url, upgrade_schema=False)) as client:
            yield client, proposal_id


def reasons(votes: list[dict]) -> list[tuple[str, bool]]:
    return [(v["reason"], v["reason_truncated"]) for v in votes]


CUT = [(LONG_REASON[:REASON_PREVIEW], True), ("too early", False)]


def test_a_proposal_lists_long_reasons_cut_and_marked(voted):
    client, proposal_id = voted
    assert reasons(client.get(f"/api/proposals/{proposal_id}").json()["votes"]) == CUT


def test_a_page_of_votes_lists_long_reasons_cut_and_marked(voted):
    client, proposal_id = voted
    assert reasons(client.get(f"/api/proposals/{proposal_id}/votes").json()["data"]) == CUT


def test_a_member_lists_their_long_reasons_cut_and_marked(voted, founders):
    client, _ = voted
    assert reasons(client.get(f"/api/members/{founders[1].address}").json()["votes"]) == CUT[:1]


def test_a_vote_read_on_its_own_has_its_whole_reason(voted, founders):
    client, proposal_id = voted
    body = client.get(f"/api/proposals/{proposal_id}/votes/{founders[1].address.lower()}").json()
    assert (body["reason"], body["reason_truncated"], body["voter"]) == (LONG_REASON, False, founders[1].address)


def test_a_vote_never_cast_is_refused_in_words(voted, founders):
    client, proposal_id = voted
    response = client.get(f"/api/proposals/{proposal_id}/votes/{founders[4].address}")
    assert (response.status_code, response.json()["code"]) == (404, "unknown_vote")
    assert founders[4].address in response.json()["detail"]
