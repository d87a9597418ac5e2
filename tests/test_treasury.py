"""The treasury in several assets, end to end on anvil: contributions attributed with notes, plain transfers counted
as unattributed, a token payment passed by vote, a token with no return value, and the cache (SQLite and
PostgreSQL) agreeing with the chain."""

import pytest
import sqlalchemy as sa

from api.cache.treasury_tables import ASSETS, FLOWS
from api.db import make_engine
from benchmarks.provider_emulator import Faults, ProviderEmulator
from governance import actions as act
from governance import treasury
from governance.chain import NodeSigner
from governance.errors import InvalidInput, Reverted
from governance.log_ranges import RangePolicy
from governance.rpc import Rpc
from governance.treasury import ETH, ETHER
from governance.treasury_acts import holdings, plan_contribution, resolve_asset
from tests.cache_support import cache_rows, clean_index, fresh_sqlite, indexer_for
from tests.helpers import assert_refused, fund, impersonate, pass_proposal, send
from tests.treasury_support import GUSD, contribute, deploy_token, make_treasury_history, mint, transfer

pytest_plugins = ["tests.treasury_support"]  # the `tc` and `commons` fixtures


@pytest.fixture
def commons(treasury_commons):
    return treasury_commons


def test_deploy_records_the_contributions_contract_tracking_the_tokens(commons, tc):
    assert commons.manifest.contributions and "Contributions" in commons.manifest.transactions
    assert {a.symbol for a in (h.asset for h in holdings(commons))} == {"ETH", "gUSD", "NRT"}
    assert resolve_asset(commons, "gusd").decimals == 6 and resolve_asset(commons, tc.nrt.lower()).symbol == "NRT"


def test_contributions_reach_the_treasury_in_the_same_transaction(commons, tc, founders):
    before = commons.w3.eth.get_balance(commons.manifest.timelock)
    mint(commons.w3, tc.gusd, founders[3].address, 10 * GUSD)
    mint(commons.w3, tc.nrt, founders[3].address, 10 * GUSD)
    contribute(commons, founders[3], "0.3", None, "Seeds")
    contribute(commons, founders[3], "2.000001", "gUSD", "Gloves")
    contribute(commons, founders[3], "5", "NRT", "no boolean returned")
    assert commons.w3.eth.get_balance(commons.manifest.timelock) == before + 3 * 10**17
    held = {h.asset.symbol: h.units for h in holdings(commons)}
    assert held["gUSD"] == 2_000_001 and held["NRT"] == 5 * GUSD
    assert commons.w3.eth.get_balance(commons.manifest.contributions) == 0


def test_refusals_in_words(commons, tc, founders):
    gusd = resolve_asset(commons, "gUSD")
    with pytest.raises(InvalidInput, match="USDC is not a token this commons tracks; it tracks ETH, gUSD"):
        resolve_asset(commons, "USDC")
    with pytest.raises(InvalidInput, match="gUSD has 6 decimals, but 0.0000001 has 7"):
        treasury.parse_amount("0.0000001", gusd)
    with pytest.raises(InvalidInput, match="0 gUSD is nothing"):
        treasury.parse_amount("0", gusd)
    with pytest.raises(InvalidInput, match="is nothing"):
        treasury.parse_amount("0.0", ETHER)
    with pytest.raises(InvalidInput, match="less than the 5 gUSD to contribute"):
        plan_contribution(commons, gusd, 5 * GUSD, "", founders[4].address)
    with pytest.raises(InvalidInput, match="at most 280 bytes"):
        plan_contribution(commons, ETHER, 1, "x" * 281, founders[4].address)


def test_only_the_treasury_changes_the_tracked_tokens(commons, tc, founders):
    contract = commons.w3.eth.contract(address=tc.manifest.contributions, abi=_abi())
    with pytest.raises(Reverted) as excinfo:
        send(commons.w3, founders[0], contract, "trackToken", founders[0].address)
    assert "ContributionsOnlyTreasury" == excinfo.value.name
    fund(commons.w3, tc.manifest.timelock)  # gas for the impersonated timelock, as a passed vote would act
    send(commons.w3, impersonate(commons.w3, tc.manifest.timelock), contract, "untrackToken", tc.nrt)
    with pytest.raises(InvalidInput, match="NRT is not a token this commons tracks"):
        resolve_asset(commons, "NRT")


def test_the_contract_refuses_nothing_and_untracked_tokens(commons, tc, founders):
    contract = commons.w3.eth.contract(address=tc.manifest.contributions, abi=_abi())
    with pytest.raises(Reverted) as excinfo:
        send(commons.w3, founders[0], contract, "contribute", "", value=0)
    assert_refused(excinfo, "ContributionsZeroAmount")
    with pytest.raises(Reverted) as excinfo:
        send(commons.w3, founders[0], contract, "contributeToken", founders[1].address, 5, "")
    assert excinfo.value.name == "ContributionsUntrackedToken"


def _abi():
    from governance.compiler import load_artifacts

    return load_artifacts()["Contributions"].abi


def test_the_cache_records_every_flow_and_balance_as_the_chain_has_them(commons, tc, founders, anvil_url, cache_url):
    names = make_treasury_history(commons, tc, founders)
    indexer_for(tc.manifest, anvil_url, cache_url).sync()
    engine = make_engine(cache_url)
    with engine.connect() as conn:
        flows = conn.execute(sa.select(FLOWS).order_by(FLOWS.c.block_number, FLOWS.c.log_index)).mappings().all()
        assets = {r.symbol: r for r in conn.execute(sa.select(ASSETS)).all()}
    timelock = tc.manifest.timelock
    held = {h.asset.symbol: h.units for h in holdings(commons)}
    assert int(assets["gUSD"].balance) == held["gUSD"] == (40 + 100 + 3 - 12.5) * GUSD + 1
    assert int(assets["NRT"].balance) == held["NRT"] == 7 * GUSD
    eth_net = sum(int(f["amount"]) * (1 if f["direction"] == "in" else -1) for f in flows if f["asset"] == ETH)
    assert eth_net == commons.w3.eth.get_balance(timelock)
    contributions = [(f["counterparty"], f["amount"], f["note"]) for f in flows if f["kind"] == "contribution"]
    assert (names["member"], str(40 * GUSD), "Compost bins") in contributions
    assert (names["outsider"], str(125 * 10**16), "From the bakery next door") in contributions
    assert len(contributions) == 5
    unattributed = [(f["asset"], int(f["amount"])) for f in flows if f["kind"] == "unattributed"]
    assert (tc.gusd, 3 * GUSD) in unattributed and (ETH, 2 * 10**17) in unattributed
    (payment,) = [f for f in flows if f["kind"] == "payment"]
    assert (payment["asset"], int(payment["amount"]), payment["counterparty"]) == (tc.gusd, 12_500_000, names["gardener"])
    assert payment["operation_id"]


@pytest.mark.parametrize("provider", ["alchemy", "quicknode"])
def test_a_token_tracked_long_after_deployment_is_read_back_in_ranges_the_provider_accepts(
    commons, tc, founders, anvil_url, tmp_path, provider
):
    w3 = commons.w3
    late = deploy_token(w3, NodeSigner(w3.eth.accounts[0]), "GardenDollar")
    mint(w3, late, founders[3].address, 10 * GUSD)
    transfer(w3, founders[3], late, tc.manifest.timelock, 5 * GUSD)  # held before it is tracked: unattributed
    w3.provider.make_request("anvil_mine", [hex(300)])  # the token's history now spans more than the cap
    track = act.contract_call(tc.manifest.contributions, "trackToken(address)", [late])
    pass_proposal(commons, founders[0], founders[:4], [track], "Track the late token")
    database = fresh_sqlite(tmp_path, f"{provider}.db")
    with ProviderEmulator(anvil_url, Faults(provider=provider, block_range=100)) as emulator:
        indexer_for(tc.manifest, emulator.url, database).sync()
    engine = make_engine(database)
    with engine.connect() as conn:
        row = conn.execute(sa.select(ASSETS).where(ASSETS.c.address == late)).mappings().one()
        flows = conn.execute(sa.select(FLOWS.c.kind, FLOWS.c.amount).where(FLOWS.c.asset == late)).all()
    assert (row["tracked"], int(row["balance"])) == (True, 5 * GUSD)
    assert flows == [("unattributed", str(5 * GUSD))]
    assert cache_rows(engine) == clean_index(tc.manifest, anvil_url, tmp_path)


def test_transfer_logs_learn_the_cap_from_the_refusal_and_keep_to_it(commons, tc, founders, anvil_url):
    mint(commons.w3, tc.gusd, founders[3].address, GUSD)
    sent = transfer(commons.w3, founders[3], tc.gusd, tc.manifest.timelock, GUSD)
    commons.w3.provider.make_request("anvil_mine", [hex(300)])
    ranges = RangePolicy(blocks=10_000)
    with ProviderEmulator(anvil_url, Faults(provider="infura", block_range=100)) as emulator:
        found = treasury.transfer_logs(Rpc(emulator.url), [tc.gusd], tc.manifest.timelock, 0, commons.w3.eth.block_number, ranges)
    assert [(t.block_number, t.amount) for t in found][-1] == (sent["blockNumber"], GUSD)
    assert ranges.ceiling == 100 and ranges.blocks <= 100
    assert emulator.tally.refused_ranges == 1  # learnt once, then kept to for the other direction's query
