"""The treasury in the API (SQLite and PostgreSQL): balances, inflows with contributors and notes, outflows by
proposal #N with recipient, monthly totals, exports, a member's contributions, who funds, and the decision log."""

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from governance.client import Commons
from governance.treasury import ETH
from governance.treasury_acts import holdings
from tests.cache_support import _empty_postgres, fresh_sqlite, indexer_for
from tests.treasury_support import GUSD, deploy_treasury_commons, make_treasury_history


@pytest.fixture(scope="module")
def indexed(w3, founders, anvil_url, tmp_path_factory, pg_database):
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    tc = deploy_treasury_commons(w3, founders)
    commons = Commons(w3, tc.manifest)
    names = make_treasury_history(commons, tc, founders)
    _empty_postgres(pg_database)
    urls = {"sqlite": fresh_sqlite(tmp_path_factory.mktemp("treasury")), "postgresql": pg_database}
    for url in urls.values():
        indexer_for(tc.manifest, anvil_url, url).sync()
    yield commons, tc, names, urls
    w3.provider.make_request("evm_revert", [snapshot])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(request, indexed):
    with TestClient(create_app(indexed[3][request.param], upgrade_schema=False)) as test_client:
        yield test_client


def test_balances_per_asset_equal_the_chain(client, indexed):
    commons = indexed[0]
    body = client.get("/api/treasury").json()
    shown = {b["symbol"]: int(b["balance"]) for b in body["balances"]}
    assert shown == {h.asset.symbol: h.units for h in holdings(commons)}
    gusd = next(b for b in body["balances"] if b["symbol"] == "gUSD")
    assert gusd["balance_text"] == "130.500001 gUSD" and gusd["decimals"] == 6 and gusd["tracked"]


def test_inflows_name_the_contributor_and_the_note(client, indexed):
    names = indexed[2]
    inflows = client.get("/api/treasury").json()["inflows"]
    bakery = next(f for f in inflows if f["note"] == "From the bakery next door")
    assert (bakery["counterparty"], bakery["amount_text"], bakery["kind"]) == (names["outsider"], "1.25 ETH", "contribution")
    compost = next(f for f in inflows if f["note"] == "Compost bins")
    assert compost["handle"] == "founder2" and compost["amount_text"] == "40 gUSD"
    unattributed = {f["amount_text"] for f in inflows if f["kind"] == "unattributed"}
    assert {"3 gUSD", "0.2 ETH"} <= unattributed


def test_outflows_name_the_proposal_and_the_recipient(client, indexed):
    names = indexed[2]
    (payment,) = client.get("/api/treasury").json()["outflows"]
    assert payment["proposal_number"] == 1 and payment["proposal_title"] == "Pay the gardener"
    assert (payment["counterparty"], payment["amount_text"], payment["kind"]) == (names["gardener"], "12.5 gUSD", "payment")


def test_a_token_payment_reads_in_the_tokens_units(client, indexed):
    names = indexed[2]
    (action,) = client.get("/api/proposals/1").json()["actions"]
    assert action["in_words"].startswith(f"Pay 12.5 gUSD from the treasury to {names['gardener']}"), action["in_words"]


def test_contributors_are_members_and_outsiders_with_totals(client, indexed):
    names = indexed[2]
    contributors = {c["contributor"]: c for c in client.get("/api/treasury/contributors").json()}
    outsider = contributors[names["outsider"]]
    assert not outsider["is_member"] and outsider["count"] == 3
    assert {t["amount_text"] for t in outsider["totals"]} == {"1.25 ETH", "100.000001 gUSD", "7 NRT"}
    assert contributors[names["member"]]["is_member"]


def test_monthly_totals_add_up_to_the_balances(client):
    body = client.get("/api/treasury").json()
    net: dict[str, int] = {}
    for month in body["monthly"]:
        net[month["asset"]] = net.get(month["asset"], 0) + int(month["inflow"]) - int(month["outflow"])
    assert net == {b["address"]: int(b["balance"]) for b in body["balances"]}


def test_flows_filter_and_page(client, indexed):
    names = indexed[2]
    first = client.get("/api/treasury/flows", params={"limit": 3}).json()
    rest = client.get("/api/treasury/flows", params={"after": first["next_after"], "limit": 500}).json()
    everything = client.get("/api/treasury/flows", params={"limit": 500}).json()
    assert [f["id"] for f in first["data"] + rest["data"]] == [f["id"] for f in everything["data"]]
    mine = client.get("/api/treasury/flows", params={"counterparty": names["outsider"], "kind": "contribution"}).json()
    assert mine["count"] == 3
    ether = client.get("/api/treasury/flows", params={"asset": ETH, "direction": "in"}).json()
    assert all(f["symbol"] == "ETH" for f in ether["data"])


def test_exports_carry_every_flow(client):
    everything = client.get("/api/treasury/flows", params={"limit": 500}).json()["data"]
    lines = client.get("/api/treasury/export.jsonl").text.splitlines()
    assert [json.loads(line) for line in lines] == everything
    rows = list(csv.DictReader(io.StringIO(client.get("/api/treasury/export.csv").text)))
    assert [r["amount"] for r in rows] == [f["amount"] for f in everything]
    assert any(r["note"] == "Compost bins" for r in rows)


def test_a_members_answer_shows_what_they_contributed(client, indexed):
    names = indexed[2]
    member = client.get(f"/api/members/{names['member']}").json()
    assert {(c["amount_text"], c["note"]) for c in member["contributions"]} == {
        ("0.5 ETH", "For the seed fund"),
        ("40 gUSD", "Compost bins"),
    }


def test_participation_counts_who_funds(client):
    funders = client.get("/api/stats/participation").json()["funders"]
    assert (funders["funders"], funders["member_funders"], funders["other_funders"], funders["contributions"]) == (2, 1, 1, 5)


def test_the_decision_log_carries_contributions_and_payments(client, indexed):
    names = indexed[2]
    entries = client.get("/api/decisions", params={"kind": "Contributed", "limit": 500}).json()["data"]
    assert len(entries) == 5 and {e["subject"] for e in entries} == {names["member"], names["outsider"]}
    tracked = client.get("/api/decisions", params={"kind": "TokenTracked"}).json()["data"]
    assert len(tracked) == 2
    executed = client.get("/api/decisions", params={"kind": "CallExecuted"}).json()["data"]
    assert any(e["data"]["target"] != ETH and e["data"]["data"].startswith("0xa9059cbb") for e in executed)
    assert GUSD  # amounts in the log stay in the token's smallest units
