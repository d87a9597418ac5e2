"""Every timelock entry of the decision log in words (issue 9, "no power outside the vote"): the call it schedules or
carries out, the proposal #N whose vote decided it, or a plain flag when none did, on the log's pages, in the Atom
feed and in webhooks alike; the hashed entries stay exactly the chain's."""

import csv
import io
import ipaddress
import json
import re

import feedparser
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.audit_source import CacheSource
from api.cache.tables import LOG
from api.db import make_engine
from api.hooks.delivery import Sender, deliver_due
from api.hooks.endpoints import add_endpoint
from api.hooks.outbox import event_body, sync_outbox
from api.notify.words import Names, entry_words
from api.schemas import DecisionPagePublic
from governance.chain import NodeSigner
from governance.decision_log import verify
from tests.cache_support import indexer_for
from tests.helpers import (
    SETTINGS,
    act,
    advance_to,
    impersonate,
    pass_proposal,
    propose,
    send,
    timelock_batch,
    timelock_operation_id,
    to_deadline_passed,
    to_voting,
)
from tests.helpers import vote as cast_vote
from tests.test_audit import grab_power
from tests.web_support import wait_indexed

pytest_plugins = ["tests.web_fixtures"]  # fixtures: server, browser, page (the Chromium check at the end)

HONEST = "Pay the seed fund"
FRONT_RUN = "Mend the greenhouse"
PUBLIC_URL = "https://garden.example.org"
LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)


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


KEY = Ed25519PrivateKey.generate()
TIMELOCK_TYPES = ("timelock.scheduled", "timelock.cancelled", "timelock.executed")


@pytest.fixture
def front_run(commons, stewards, founders, anvil_url, cache_url, receiver):
    """One timelock operation scheduled twice: a passed proposal's, first scheduled directly on the timelock by a rogue
    holding the proposer and canceller roles (with the governor's salt, so it is the proposal's operation id) and
    cancelled by them, then queued by the governor and carried out through it. Indexed, with a webhook endpoint for
    the timelock's events (added before it all) and their deliveries made. Returns the cache's URL, the proposal's
    number, the operation id and the receiver."""
    w3, rogue = commons.w3, stewards[1]
    indexer = indexer_for(commons.manifest, anvil_url, cache_url)
    indexer.sync()
    engine = make_engine(cache_url)
    add_endpoint(engine, receiver.url, " ".join(TIMELOCK_TYPES), LOOPBACK)
    timelock = impersonate(w3, commons.manifest.timelock)
    for role in (commons.timelock.functions.PROPOSER_ROLE(), commons.timelock.functions.CANCELLER_ROLE()):
        send(w3, timelock, commons.timelock, "grantRole", role.call(), rogue.address)
    pid = propose(commons, stewards[0], [act.pay(founders[3].address, 10**15)], FRONT_RUN)
    batch = timelock_batch(commons, pid)
    to_voting(commons, pid)
    for member in founders:
        cast_vote(commons, member, pid, "for")
    to_deadline_passed(commons, pid)
    send(w3, rogue, commons.timelock, "scheduleBatch", *batch, SETTINGS.timelock_delay)
    operation = "0x" + timelock_operation_id(commons, pid).hex()
    send(w3, rogue, commons.timelock, "cancel", operation)
    anyone = NodeSigner(w3.eth.accounts[9])
    commons.submit(commons.plan_lifecycle("queue", pid), anyone)
    advance_to(w3, commons.governor.functions.proposalEta(pid).call())
    commons.submit(commons.plan_lifecycle("execute", pid), anyone)
    indexer.sync()
    sync_outbox(engine, PUBLIC_URL)
    deliver_due(engine, Sender(KEY, LOOPBACK, process="test"))
    number = by_title(cache_url, FRONT_RUN)["number"]
    assert CacheSource(cache_url).get(f"/api/proposals/{number}")["timelock_id"] == operation
    return cache_url, number, operation, receiver


def operation_calls(url: str, operation: str) -> list[tuple[dict, dict]]:
    """The operation's entries in chain order, each with its call in words as the log's page answer serves it."""
    page = CacheSource(url).get("/api/decisions", {"subject": operation, "limit": 500})
    return [(e, page["calls"][str(e["seq"])]) for e in page["data"]]


def delivered(receiver) -> dict[int, dict]:
    """The webhook deliveries' data by decision-log seq."""
    return {d.payload["data"]["proof"]["decision_log_seq"]: d.payload["data"] for d in receiver.got}


def atom_entries(url: str) -> dict[int, feedparser.FeedParserDict]:
    """The decisions feed's entries by decision-log seq (read from each entry's proof)."""
    feed = feedparser.parse(CacheSource(url).client.get("/api/feeds/decisions.atom").content)
    assert not feed.bozo, feed.get("bozo_exception")
    seq = re.compile(r"decision-log entry (\d+) with hash")
    return {int(seq.search(e.content[0].value).group(1)): e for e in feed.entries}


def test_each_scheduling_of_one_operation_reads_alike_on_the_page_the_csv_the_feed_and_the_webhooks(front_run):
    url, number, _, receiver = front_run
    ours = operation_calls(url, front_run[2])
    assert [e["kind"] for e, _ in ours] == ["CallScheduled", "Cancelled", "CallScheduled", "CallExecuted"]
    assert [c["outside_the_vote"] for _, c in ours] == [True, True, False, False]
    assert [c["proposal_number"] for _, c in ours] == [None, number, number, number]
    exported = csv.DictReader(io.StringIO(CacheSource(url).client.get("/api/decisions/export.csv").text))
    in_csv = {int(row["seq"]): row["in_words"] for row in exported}
    hooks, atom = delivered(receiver), atom_entries(url)
    assert len(receiver.got) == len(hooks) == 4
    for entry, call in ours:
        seq = entry["seq"]
        assert in_csv[seq] == hooks[seq]["in_words"] == call["in_words"]
        assert atom[seq].content[0].value.split("\n\n")[0] == call["in_words"]
        assert hooks[seq]["call"] == call
    # Read without the entry's transaction and position (as the feeds and webhooks once did), the governor's own
    # scheduling and its execution would read as outside the vote: the direct copy makes the operation suspect.
    with make_engine(url).connect() as conn:
        names = Names.read(conn)
        rows = conn.execute(sa.select(LOG).where(LOG.c.subject == front_run[2]).order_by(LOG.c.seq)).all()
        blind = [entry_words(r.kind, json.loads(r.data), names) for r in rows]
    assert [w.startswith("outside the vote") for w in blind] == [True, True, True, True]


def test_a_webhook_for_a_vote_decided_call_carries_its_number_and_link_and_one_scheduled_directly_its_warning(front_run):
    _, number, _, receiver = front_run
    direct, voted = (d.payload["data"] for d in receiver.of_type("timelock.scheduled"))
    assert voted["proposal_number"] == number and voted["links"]["page"] == f"{PUBLIC_URL}/#/proposal/{number}"
    assert voted["in_words"].startswith(f"timelock scheduled #{number} {FRONT_RUN}, action 1 of 1, to run after ")
    assert voted["call"]["outside_the_vote"] is False and voted["call"]["warning"] is None
    assert direct["proposal_number"] is None and direct["links"]["page"] == f"{PUBLIC_URL}/#/decisions"
    assert direct["in_words"].startswith("outside the vote: action 1 of timelock operation ")
    assert direct["call"]["outside_the_vote"] is True and direct["call"]["proposal_number"] is None
    assert direct["call"]["warning"].startswith("No vote decided this: timelock operation ")
    [executed] = (d.payload["data"] for d in receiver.of_type("timelock.executed"))
    assert executed["proposal_number"] == number and executed["links"]["page"].endswith(f"#/proposal/{number}")
    assert executed["in_words"].startswith(f"timelock carried out #{number} {FRONT_RUN}, action 1 of 1: pay 0.001 ETH")
    # The rogue's cancellation concerns #N, but no vote decided it: no number or link says it did.
    [cancelled] = (d.payload["data"] for d in receiver.of_type("timelock.cancelled"))
    assert cancelled["proposal_number"] is None and cancelled["links"]["page"] == f"{PUBLIC_URL}/#/decisions"
    assert cancelled["call"]["proposal_number"] == number and cancelled["call"]["outside_the_vote"] is True
    assert cancelled["in_words"].startswith(f"outside the vote: the timelock operation of #{number} {FRONT_RUN} cancelled")


def test_an_atom_entry_for_a_vote_decided_call_links_its_proposal_and_one_scheduled_directly_warns(front_run):
    url, number, operation, _ = front_run
    atom = atom_entries(url)
    direct, _, voted, executed = (atom[e["seq"]] for e, _ in operation_calls(url, operation))
    assert voted.title.startswith(f"Timelock scheduled #{number} {FRONT_RUN}, action 1 of 1")
    assert voted.link.endswith(f"/#/proposal/{number}") and "Outside the vote" not in voted.content[0].value
    assert executed.link.endswith(f"/#/proposal/{number}")
    assert direct.title.startswith("Outside the vote: action 1 of timelock operation ")
    assert direct.link.endswith("/#/decisions") and f"#{number} " not in direct.content[0].value
    assert "\n\n⚠ Outside the vote: No vote decided this: timelock operation " in direct.content[0].value


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
