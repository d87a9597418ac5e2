"""Calendars of vote deadlines (RFC 5545), read back with the icalendar parser."""

import icalendar
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from governance.chain import NodeSigner
from tests import helpers
from tests.cache_support import _empty_postgres, fresh_sqlite, indexer_for
from tests.helpers import SETTINGS, act, advance, advance_to, propose, to_voting, vote

# A title is the text's first line; the control characters that are not line breaks can still be in it.
TRICKY = 'Fix the shed\t\x1bBCC: everyone@example.org <script>alert("x")</script>; a, b \\ Gießkanne ' + "🌱" * 30


@pytest.fixture(params=["sqlite", "postgresql"])
def calendar_of(request, commons, anvil_url, tmp_path):
    """A function that indexes the chain as it is now and answers path → the parsed calendar and its bytes."""
    if request.param == "sqlite":
        url = fresh_sqlite(tmp_path, "calendar.db")
    else:
        url = request.getfixturevalue("pg_database")
        _empty_postgres(url)
    indexer = indexer_for(commons.manifest, anvil_url, url)
    client = TestClient(create_app(url, upgrade_schema=False))

    def read(path: str = "/api/calendar.ics"):
        indexer.sync()
        response = client.get(path)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/calendar")
        return icalendar.Calendar.from_ical(response.content), response.content

    read.client = client
    with client:
        yield read


def events(calendar) -> dict[str, icalendar.Event]:
    return {
        str(e["uid"]).split("-", 1)[0] + ":" + str(e["summary"]).split("#")[1].split(" ")[0]: e for e in calendar.walk("VEVENT")
    }


def test_each_proposal_has_an_opening_and_a_closing_with_an_alarm_and_the_link(commons, stewards, founders, calendar_of):
    pid = propose(commons, stewards[0], [act.pay(founders[3].address, 10**17)], "Buy seeds")
    calendar, _ = calendar_of()
    found = events(calendar)
    opens, closes = found["opens:1"], found["closes:1"]
    governor = commons.governor.functions
    assert opens.decoded("dtstart").timestamp() == governor.proposalSnapshot(pid).call()
    assert closes.decoded("dtstart").timestamp() == governor.proposalDeadline(pid).call()
    assert str(closes["summary"]) == "Voting closes: #1 Buy seeds"
    assert "#/proposal/1" in str(closes["description"]) and "#/audit" in str(closes["description"])
    assert "transaction 0x" in str(closes["description"])
    [alarm] = closes.walk("VALARM")
    assert alarm.decoded("trigger").total_seconds() == -86400
    assert not opens.walk("VALARM") and "executable:1" not in found


def test_a_late_quorum_extension_moves_the_close_and_raises_its_sequence(commons, stewards, founders, calendar_of):
    w3, governor = commons.w3, commons.governor.functions
    pid = propose(commons, stewards[0], [act.pay(founders[3].address, 10**17)], "Late")
    before, _ = calendar_of()
    old = events(before)["closes:1"]
    advance_to(w3, governor.proposalDeadline(pid).call() - 60)
    vote(commons, founders[0], pid, "for")
    assert governor.proposalDeadline(pid).call() > old.decoded("dtstart").timestamp()
    after, raw = calendar_of()
    new = events(after)["closes:1"]
    assert new["uid"] == old["uid"] and int(new["sequence"]) == int(old["sequence"]) + 1
    assert new.decoded("dtstart").timestamp() == governor.proposalDeadline(pid).call()
    assert new.decoded("dtstart").timestamp() - old.decoded("dtstart").timestamp() >= SETTINGS.late_quorum_extension - 60
    assert [e.decoded("dtstart") for e in after.walk("VEVENT") if e["uid"] == old["uid"]] == [new.decoded("dtstart")]
    assert int(events(after)["opens:1"]["sequence"]) == 0


def test_a_queued_proposal_is_executable_from_its_eta(commons, stewards, founders, calendar_of):
    pid = propose(commons, stewards[0], [act.pay(founders[3].address, 10**17)], "Queued")
    to_voting(commons, pid)
    for member in founders[:4]:
        vote(commons, member, pid, "for")
    advance_to(commons.w3, commons.governor.functions.proposalDeadline(pid).call())
    commons.submit(commons.plan_lifecycle("queue", pid), NodeSigner(commons.w3.eth.accounts[9]))
    executable = events(calendar_of()[0])["executable:1"]
    assert executable.decoded("dtstart").timestamp() == commons.governor.functions.proposalEta(pid).call()


def test_crlf_and_markup_in_a_title_stay_inside_one_folded_summary(commons, stewards, founders, calendar_of):
    propose(commons, stewards[0], [act.pay(founders[3].address, 10**17)], TRICKY, "\r\nBCC: more@example.org\r\n")
    calendar, raw = calendar_of()
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert not any(line.startswith(b"BCC") for line in lines) and b"\n" not in raw.replace(b"\r\n", b"")
    summaries = [str(e["summary"]) for e in calendar.walk("VEVENT")]
    assert summaries[0].startswith("Voting opens: #1 Fix the shed BCC: everyone@example.org <script>")
    assert "\\ Gießkanne 🌱" in summaries[0] and len(calendar.walk("VEVENT")) == 2


def test_the_member_calendar_has_the_votes_they_could_cast(commons, stewards, founders, calendar_of):
    newcomer = helpers.test_key_signer("calendar-newcomer")
    before = propose(commons, stewards[0], [act.admit(commons.addresses, newcomer.address, "late")], "Admit late")
    to_voting(commons, before)
    commons.submit(commons.plan_resign(), founders[5])  # gone before the next proposal's snapshot
    propose(commons, stewards[0], [act.pay(founders[3].address, 10**17)], "After the resignation")

    def summaries(member) -> set[str]:
        return {str(e["summary"]) for e in calendar_of(f"/api/members/{member.address.lower()}/calendar.ics")[0].walk("VEVENT")}

    assert summaries(founders[2]) == {
        "Voting opens: #1 Admit late",
        "Voting closes: #1 Admit late",
        "Voting opens: #2 After the resignation",
        "Voting closes: #2 After the resignation",
    }
    assert summaries(founders[5]) == {"Voting opens: #1 Admit late", "Voting closes: #1 Admit late"}
    never = calendar_of.client.get(f"/api/members/{newcomer.address}/calendar.ics")
    assert never.status_code == 404 and never.json()["code"] == "member_not_found"


def test_old_deadlines_leave_the_window(commons, stewards, founders, calendar_of):
    propose(commons, stewards[0], [act.pay(founders[3].address, 10**17)], "Long ago")
    advance(commons.w3, 90 * 24 * 3600)
    propose(commons, stewards[0], [act.pay(founders[3].address, 10**17)], "Now")
    titles = {str(e["summary"]) for e in calendar_of()[0].walk("VEVENT")}
    assert titles == {"Voting opens: #2 Now", "Voting closes: #2 Now"}
