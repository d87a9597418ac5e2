"""Every timelock entry of the decision log in words (issue 9, "no power outside the vote"): the call it schedules or
carries out, the proposal #N whose vote decided it, or a plain flag when none did, on the log's pages, in the Atom
feed and in webhooks alike; the hashed entries stay exactly the chain's."""

import csv
import io
import json

import pytest
import sqlalchemy as sa

from api.audit_source import CacheSource
from api.cache.tables import LOG
from api.db import make_engine
from api.hooks.outbox import event_body
from api.notify.words import Names, entry_words
from api.routes.decisions import DecisionPagePublic
from governance.decision_log import verify
from tests.cache_support import indexer_for
from tests.helpers import act, pass_proposal
from tests.test_audit import grab_power
from tests.web_support import wait_indexed

pytest_plugins = ["tests.web_fixtures"]  # fixtures: server, browser, page (the Chromium check at the end)

HONEST = "Pay the seed fund"


@pytest.fixture
def grabbed(commons, stewards, founders, anvil_url, cache_url):
    """A passed payment, then issue 9's power grab (a passed grantRole(PROPOSER_ROLE), a payment scheduled and carried
    out directly on the timelock), indexed. Returns the cache's URL, the API's page of timelock entries and the rogue."""
    pass_proposal(commons, stewards[0], founders, [act.pay(founders[3].address, 10**15)], HONEST)
    rogue = f"@founder1 ({grab_power(commons, stewards, founders)})"  # a member, named by handle
    indexer_for(commons.manifest, anvil_url, cache_url).sync()
    page = CacheSource(cache_url).get("/api/decisions", {"kind": ["CallScheduled", "CallExecuted"], "limit": 500})
    return cache_url, page, rogue, founders[3].address


def calls_of(page: dict, kind: str) -> list[tuple[dict, dict]]:
    return [(e, page["calls"][str(e["seq"])]) for e in page["data"] if e["kind"] == kind]


def by_title(url: str, title: str) -> dict:
    return next(p for p in CacheSource(url).get("/api/proposals", {"limit": 100})["data"] if p["title"] == title)


def test_a_payment_scheduled_directly_on_the_timelock_reads_in_words_and_is_flagged(grabbed):
    _, page, rogue, _ = grabbed
    [(entry, call)] = [(e, c) for e, c in calls_of(page, "CallScheduled") if c["outside_the_vote"]]
    assert call["action"] == f"Pay 5 ETH from the treasury to {rogue}" and call["known"] is True
    assert call["proposal_number"] is None and call["proposal_id"] is None
    assert call["in_words"].startswith("outside the vote: action 1 of timelock operation ")
    assert "scheduled directly on the timelock, not through a passed proposal" in call["in_words"]
    assert call["in_words"].endswith(f"pay 5 ETH from the treasury to {rogue}")
    assert "No vote decided this" in call["warning"] and "power outside the vote" in call["warning"]
    [(_, executed)] = [(e, c) for e, c in calls_of(page, "CallExecuted") if e["subject"] == entry["subject"]]
    assert executed["outside_the_vote"] and executed["in_words"].startswith("outside the vote: the timelock carried out")


def test_a_passed_proposals_scheduled_call_reads_with_its_number_and_is_not_flagged(grabbed):
    url, page, rogue, paid = grabbed
    honest, grant = by_title(url, HONEST), by_title(url, "Routine treasury maintenance")
    voted = {c["proposal_number"]: (e, c) for e, c in calls_of(page, "CallScheduled") if not c["outside_the_vote"]}
    entry, call = voted[honest["number"]]
    assert entry["subject"] == CacheSource(url).get(f"/api/proposals/{honest['number']}")["timelock_id"]
    assert call["proposal_id"] == honest["proposal_id"] and call["warning"] is None and call["power_change"] is None
    assert call["in_words"].startswith(f"timelock scheduled #{honest['number']} {HONEST}, action 1 of 1, to run after ")
    assert call["in_words"].endswith(f"pay 0.001 ETH from the treasury to @founder3 ({paid})")
    _, granted = voted[grant["number"]]
    assert granted["action"] == f"Give {rogue} the proposer role on the treasury (timelock)"
    assert granted["power_change"] == f"this gives {rogue} the power to schedule treasury calls without a vote"
    assert granted["in_words"].endswith(f"; power change: {granted['power_change']}")
    carried = [c for _, c in calls_of(page, "CallExecuted") if c["proposal_number"] == honest["number"]]
    assert [c["outside_the_vote"] for c in carried] == [False]
    assert carried[0]["in_words"].startswith(f"timelock carried out #{honest['number']} {HONEST}, action 1 of 1: pay")


def test_the_entries_stay_the_hash_chain_beside_their_words(grabbed):
    url, page, _, _ = grabbed
    whole = CacheSource(url).get("/api/decisions", {"limit": 500})
    assert verify(whole["data"]) == [] and set(whole["calls"]) == set(page["calls"])
    assert all(set(e) == set(whole["data"][0]) for e in whole["data"])  # no words inside a hashed entry
    members_only = CacheSource(url).get("/api/decisions", {"kind": "MemberAdmitted", "limit": 5})
    assert members_only["calls"] == {}
    served = CacheSource(url).client.get("/api/decisions", params={"limit": 500}).content  # the response model's bytes
    model = DecisionPagePublic.model_validate_json(served).model_dump(mode="json")
    assert json.dumps(model, separators=(",", ":"), ensure_ascii=False).encode() == served


def test_the_feed_the_webhooks_and_the_csv_export_say_the_same_words(grabbed):
    url, page, rogue, _ = grabbed
    outside = [c["in_words"] for _, c in calls_of(page, "CallScheduled") if c["outside_the_vote"]]
    exported = csv.DictReader(io.StringIO(CacheSource(url).client.get("/api/decisions/export.csv").text))
    said_in_csv = {row["seq"]: row["in_words"] for row in exported}
    assert all(said_in_csv[seq] == call["in_words"] for seq, call in page["calls"].items())
    feed = CacheSource(url).client.get("/api/feeds/decisions.atom").text
    assert "Outside the vote: action 1 of timelock operation" in feed and f"pay 5 ETH from the treasury to {rogue}" in feed
    engine = make_engine(url)
    with engine.connect() as conn:
        names = Names.read(conn)
        rows = conn.execute(sa.select(LOG).where(LOG.c.kind == "CallScheduled").order_by(LOG.c.seq)).all()
        said = [entry_words(r.kind, json.loads(r.data), names) for r in rows]
        exact = [entry_words(r.kind, json.loads(r.data), names, r.tx_hash, r.seq) for r in rows]
        assert said == exact == [page["calls"][str(r.seq)]["in_words"] for r in rows]
        assert [s for s in said if s.startswith("outside the vote")] == outside
        stray = next(r for r in rows if page["calls"][str(r.seq)]["outside_the_vote"])
        body = json.loads(event_body(stray, "timelock.scheduled", names, "http://commons.example"))
    assert body["data"]["in_words"] == outside[0]


def test_the_log_page_reads_each_call_and_warns_on_the_one_no_vote_decided(page, server, commons, stewards, founders, w3):
    pass_proposal(commons, stewards[0], founders, [act.pay(founders[3].address, 10**15)], HONEST)
    rogue = grab_power(commons, stewards, founders)
    wait_indexed(server.url, w3)
    page.goto(f"{server.url}/#/decisions")
    page.wait_for_selector("#decision-log li.outside-the-vote")
    flagged = page.locator("#decision-log li.outside-the-vote")
    assert [item.get_attribute("data-kind") for item in flagged.all()] == ["CallExecuted", "CallScheduled"]  # newest first
    scheduled = page.locator("#decision-log li.outside-the-vote[data-kind=CallScheduled]")
    assert f"pay 5 ETH from the treasury to @founder1 ({rogue})" in scheduled.inner_text()
    warning = scheduled.locator(".warning.outside-the-vote")
    assert warning.is_visible() and warning.inner_text().startswith("⚠ Outside the vote: No vote decided this")
    voted = page.locator("#decision-log li[data-kind=CallScheduled]:not(.outside-the-vote)")
    said = [item.inner_text() for item in voted.all()]
    assert any(
        f"#1 {HONEST}, action 1 of 1" in words and "pay 0.001 ETH from the treasury to @founder3" in words for words in said
    )
    grant = next(words for words in said if "Routine treasury maintenance" in words)
    assert "⚠ Power change: this gives @founder1" in grant and "Outside the vote" not in grant
    assert page.errors == []
