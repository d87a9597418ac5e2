"""Atom feeds (RFC 4287) of the decision log in words and of proposals needing a vote, read back with feedparser."""

import feedparser
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from governance.calendar import one_line
from governance.client import Commons
from tests.cache_support import _empty_postgres, fresh_sqlite, indexer_for, make_history
from tests.helpers import act, propose, rolled_back, to_voting

MARKUP = 'Repair <b>the</b> shed & "gate" \x1b]8;;evil\x07 ]]></content><script>x</script>'


@pytest.fixture(scope="module")
def indexed(w3, deployed, founders, anvil_url, tmp_path_factory, pg_database):
    """The shared small history plus an open proposal with markup in its title, indexed into SQLite and PostgreSQL."""
    with rolled_back(w3):
        commons = Commons(w3, deployed)
        ids = make_history(commons, founders[:2], founders)
        ids["markup"] = propose(commons, founders[0], [act.pay(founders[3].address, 5)], MARKUP)
        to_voting(commons, ids["markup"])
        _empty_postgres(pg_database)
        urls = {"sqlite": fresh_sqlite(tmp_path_factory.mktemp("feeds")), "postgresql": pg_database}
        for url in urls.values():
            indexer_for(deployed, anvil_url, url).sync()
        yield ids, urls


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(request, indexed):
    with TestClient(create_app(indexed[1][request.param], upgrade_schema=False)) as test_client:
        yield test_client


def parsed(client, path: str):
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_the_decision_log_feed_says_each_entry_in_words_newest_first_with_its_proof(client):
    feed = parsed(client, "/api/feeds/decisions.atom")
    titles = [e.title for e in feed.entries]
    assert titles[0].startswith("@founder0 proposed #4 Repair <b>the</b> shed")
    assert "@founder5 resigned" in titles and "@founder3 delegates their vote to @founder4" in titles
    assert "@founder0 voted against #3 Pay the newcomer: “too early”" in titles
    first = feed.entries[0]
    assert "Transaction 0x" in first.content[0].value and "#/audit" in first.content[0].value
    assert first.link.endswith("#/proposal/4")
    assert feed.feed.title == "Test Garden: decisions"


def test_entry_ids_are_the_same_on_every_request(client):
    assert [e.id for e in parsed(client, "/api/feeds/decisions.atom").entries] == [
        e.id for e in parsed(client, "/api/feeds/decisions.atom").entries
    ]
    ids = [e.id for e in parsed(client, "/api/feeds/decisions.atom").entries]
    assert len(set(ids)) == len(ids) and all(i.startswith("urn:uuid:") for i in ids)


def test_a_member_feed_has_everything_by_or_about_them(client, founders):
    feed = parsed(client, f"/api/members/{founders[4].address.lower()}/feed.atom")
    titles = [e.title for e in feed.entries]
    assert "@founder3 delegates their vote to @founder4" in titles  # a delegation to them
    assert any(t.startswith("@founder4 admitted") for t in titles)
    assert not any("@founder0 voted" in t for t in titles)
    assert "everything by or about @founder4" in feed.feed.title


def test_a_member_feed_for_a_stranger_is_404(client):
    assert client.get(f"/api/members/0x{'12' * 20}/feed.atom").status_code == 404


def test_the_needs_vote_feed_lists_open_proposals_with_their_close(client):
    feed = parsed(client, "/api/feeds/needs-vote.atom")
    titles = [e.title for e in feed.entries]
    assert titles == ["Vote on #3 Pay the newcomer", f"Vote on #4 {one_line(MARKUP)}"]  # markup stays text
    assert "closes in about" in feed.entries[0].content[0].value and "transaction 0x" in feed.entries[0].content[0].value


def test_treasury_entries_read_in_words_with_amounts_in_their_units():
    from api.notify.words import Names, entry_words

    token = "0x" + "ab" * 20
    names = Names({"0x" + "12" * 20: "ada"}, {}, {token: ("gUSD", 6)})
    zero = "0x" + "00" * 20
    gift = {"contributor": "0x" + "12" * 20, "asset": zero, "amount": "500000000000000000", "note": "for\r\nseeds"}
    assert entry_words("Contributed", gift, names) == "@ada contributed 0.5 ETH (“for seeds”)"
    assert entry_words("Contributed", {**gift, "asset": token, "amount": "12500000", "note": ""}, names) == (
        "@ada contributed 12.5 gUSD"
    )
    assert entry_words("TokenTracked", {"token": token}, names) == "the treasury now tracks the token 0xabab…abab"
