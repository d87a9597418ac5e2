"""`commons contribute`, `commons treasury` and token payments in `commons propose pay|several`, as a steward,
a member and an outsider run them: real processes against anvil; refusals in words."""

import json

import pytest

from governance.chain import NodeSigner
from governance.treasury_acts import holdings
from tests import helpers
from tests.helpers import fund, key_of
from tests.treasury_support import GUSD, deploy_token, mint

pytest_plugins = ["tests.cli_support", "tests.treasury_support"]  # `run`; `tc` and `commons`


@pytest.fixture
def commons(treasury_commons):
    return treasury_commons


BEEF = "0x000000000000000000000000000000000000bEEF"


def held(commons) -> dict[str, int]:
    return {h.asset.symbol: h.units for h in holdings(commons)}


def test_a_member_contributes_eth_with_a_note(run, commons, founders):
    before = held(commons)["ETH"]
    result = run("contribute", "0.1", "--note", "For the seed fund", "--json", key=key_of(founders[3]))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["sent"] and data["amount_text"] == "0.1 ETH" and data["note"] == "For the seed fund"
    assert held(commons)["ETH"] == before + 10**17


def test_an_outsider_contributes_a_token_exactly_after_approving_it(run, commons, tc):
    outsider = helpers.test_key_signer("cli-outsider")
    fund(commons.w3, outsider.address)
    mint(commons.w3, tc.gusd, outsider.address, 50 * GUSD)
    result = run("contribute", "12.345678", "--token", "gUSD", "--note", "From the bakery", key=key_of(outsider))
    assert result.returncode == 0, result.stderr
    assert "Allow the Contributions contract to move 12.345678 gUSD" in result.stdout
    assert "Contribute 12.345678 gUSD" in result.stdout and "Thank you" in result.stdout
    assert held(commons)["gUSD"] == 12_345_678


def test_info_names_every_asset_the_treasury_holds(run, commons, tc):
    mint(commons.w3, tc.gusd, commons.manifest.timelock, 40 * GUSD + 5)
    eth = held(commons)["ETH"]
    shown = run("info")
    assert shown.returncode == 0, shown.stderr
    assert " and 40.000005 gUSD\n" in shown.stdout and "NRT" not in shown.stdout  # none held: not listed
    treasury = json.loads(run("info", "--json").stdout)["treasury"]
    assert [(t["symbol"], t["balance"]) for t in treasury] == [("ETH", str(eth)), ("gUSD", "40000005")]


def test_a_token_without_a_return_value_can_be_contributed(run, commons, tc, founders):
    mint(commons.w3, tc.nrt, founders[3].address, 5 * GUSD)
    result = run("contribute", "5", "--token", tc.nrt, "--json", key=key_of(founders[3]))
    assert result.returncode == 0, result.stderr
    assert held(commons)["NRT"] == 5 * GUSD


@pytest.mark.parametrize(
    "args, words",
    [
        (("0",), "0 ETH is nothing: a contribution must be more than 0 ETH"),
        (("-1",), "-1 ETH is nothing"),
        (("1", "--token", "USDC"), "USDC is not a token this commons tracks; it tracks ETH, gUSD"),
        (("0.0000001", "--token", "gUSD"), "gUSD has 6 decimals, but 0.0000001 has 7"),
        (("1", "--token", "gUSD"), "holds 0 gUSD, less than the 1 gUSD to contribute"),
    ],
)
def test_contributions_are_refused_in_words(run, commons, founders, args, words):
    result = run("contribute", *args, key=key_of(founders[3]))
    assert result.returncode == 1 and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_propose_pay_in_a_token_respects_its_decimals(run, commons, tc, stewards):
    result = run("propose", "pay", BEEF, "12.5", "--token", "gusd", "--text", str(run.text), "--json", key=key_of(stewards[0]))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    (words,) = data["actions"]
    assert words == f"Pay 12.5 gUSD from the treasury to {BEEF}"
    (action,) = commons.proposal(int(data["proposal_id"])).actions
    assert (action.target, action.value, int.from_bytes(action.calldata[36:68], "big")) == (tc.gusd, 0, 12_500_000)


def test_a_token_payment_reads_in_the_token_units_in_the_proposal(run, commons, tc, stewards):
    member = stewards[1].address
    handle = commons.handles()[member]
    proposed = run(
        "propose", "pay", member, "0.000007", "--token", "NRT", "--text", str(run.text), "--json", key=key_of(stewards[0])
    )
    assert proposed.returncode == 0, proposed.stderr
    number = str(json.loads(proposed.stdout)["number"])
    shown = run("proposal", number)
    assert shown.returncode == 0, shown.stderr
    assert f"Pay 0.000007 NRT from the treasury to @{handle} ({member})" in shown.stdout
    as_json = json.loads(run("proposal", number, "--json").stdout)
    assert as_json["actions_in_words"] == [f"Pay 0.000007 NRT from the treasury to @{handle} ({member})"]
    assert as_json["proposer_handle"] == commons.handles()[stewards[0].address]


def test_a_payment_in_an_untracked_token_names_it_by_its_address(run, commons, w3, stewards):
    lookalike = deploy_token(w3, NodeSigner(w3.eth.accounts[0]), "GardenDollar")  # also calls itself gUSD
    args = json.dumps([BEEF, 2 * GUSD])
    result = run(
        "propose",
        "call",
        lookalike,
        "transfer(address,uint256)",
        args,
        "--text",
        str(run.text),
        "--dry-run",
        key=key_of(stewards[0]),
    )
    assert result.returncode == 0, result.stderr
    flat = " ".join(result.stdout.split())
    assert (
        f"Pay 2 gUSD (the token at {lookalike}, which this commons does not track; it is not the gUSD this commons knows) "
        f"from the treasury to {BEEF}"
    ) in flat


def test_a_payment_from_an_address_that_is_no_token_says_its_amount_is_in_smallest_units(run, commons, stewards):
    args = json.dumps([BEEF, 2 * GUSD])
    result = run(
        "propose", "call", BEEF, "transfer(address,uint256)", args, "--text", str(run.text), "--dry-run", key=key_of(stewards[0])
    )
    assert result.returncode == 0, result.stderr
    flat = " ".join(result.stdout.split())
    assert f"Pay 2,000,000 smallest units of the token at {BEEF} (its symbol and decimals are unknown here" in flat


def test_paying_more_than_the_treasury_holds_is_warned_at_dry_run(run, commons, stewards):
    result = run("propose", "pay", BEEF, "1", "--token", "gUSD", "--text", str(run.text), "--dry-run", key=key_of(stewards[0]))
    assert result.returncode == 0, result.stderr
    assert "the treasury holds 0 gUSD but this proposal pays 1 gUSD" in result.stdout


def test_propose_pay_refuses_an_unknown_token_and_too_many_decimals(run, commons, stewards):
    unknown = run("propose", "pay", BEEF, "1", "--token", "DAI", "--text", str(run.text), key=key_of(stewards[0]))
    assert unknown.returncode == 1 and "DAI is not a token this commons tracks" in unknown.stderr
    precise = run("propose", "pay", BEEF, "0.1234567", "--token", "gUSD", "--text", str(run.text), key=key_of(stewards[0]))
    assert precise.returncode == 1 and "gUSD has 6 decimals, but 0.1234567 has 7" in precise.stderr


def test_propose_several_pays_in_a_token(run, commons, stewards, tmp_path):
    actions = tmp_path / "actions.toml"
    actions.write_text(
        f'[[action]]\nkind = "pay"\nrecipient = "{BEEF}"\ntoken = "gUSD"\namount = "0.000001"\n\n'
        f'[[action]]\nkind = "pay"\nrecipient = "{BEEF}"\neth = "0.5"\n'
    )
    result = run("propose", "several", str(actions), "--text", str(run.text), "--json", key=key_of(stewards[0]))
    assert result.returncode == 0, result.stderr
    proposal = commons.proposal(int(json.loads(result.stdout)["proposal_id"]))
    assert int.from_bytes(proposal.actions[0].calldata[36:68], "big") == 1 and proposal.actions[1].value == 5 * 10**17
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[[action]]\nkind = "pay"\nrecipient = "{BEEF}"\ntoken = "gUSD"\namount = "1.0000001"\n')
    refused = run("propose", "several", str(bad), "--text", str(run.text), key=key_of(stewards[0]))
    assert refused.returncode == 1 and "Action 1 (pay): gUSD has 6 decimals" in refused.stderr


def test_treasury_shows_balances_and_recent_flows(run, commons, tc, founders):
    mint(commons.w3, tc.gusd, founders[3].address, 5 * GUSD)
    assert run("contribute", "2", "--token", "gUSD", "--note", "Gloves", "-y", key=key_of(founders[3])).returncode == 0
    result = run("treasury", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {b["symbol"]: int(b["balance"]) for b in data["balances"]} == held(commons)
    assert data["recent"][0]["note"] == "Gloves" and data["recent"][0]["handle"] == "founder3"
    words = run("treasury")
    assert "2 gUSD from @founder3 — “Gloves”" in words.stdout, words.stdout
