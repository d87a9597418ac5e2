"""The commons' own lists and settings changed by a vote: tracking and untracking a token (Contributions) and the
initiatives' support share and lifetime, each proposed with `commons propose`, passed by a real vote, executed,
and read in words; and what cannot work refused or warned in words."""

# ruff: noqa: F811  (the relay fixtures imported from tests/test_relay.py are test parameters here)

import json
from dataclasses import dataclass, replace

import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient
from web3 import Web3

from api.app import create_app
from api.cache.tables import CURSOR, NAMED_TOKENS
from api.db import alembic_config, make_engine, migrate
from governance import treasury
from governance.chain import NodeSigner
from governance.client import Commons
from governance.compiler import load_artifacts
from governance.deploy import deploy_commons
from governance.initiatives import Initiatives
from governance.manifest import Manifest
from governance.treasury_acts import resolve_asset
from governance.warnings import proposal_warnings
from tests import helpers
from tests.cache_support import indexer_for
from tests.helpers import SETTINGS, act, advance, carry_through, key_of, rolled_back
from tests.test_initiative_relay import post, settled, signed_draft
from tests.test_relay import make_client, relay_db, relay_signer, stop_relayers  # noqa: F401  (fixtures)
from tests.treasury_support import deploy_token

pytest_plugins = ["tests.cli_support"]  # `run`

BEEF = "0x000000000000000000000000000000000000bEEF"
TRACK_WORDS = "in the treasury: it is accepted as a contribution and listed among the treasury's assets"
UNTRACK_WORDS = (
    "in the treasury: it is no longer accepted as a contribution nor listed among the treasury's assets; "
    "what the treasury holds of it stays there"
)
SHARE_WORDS = (
    "Set the support an initiative needs to {} of members (the author included, and never fewer than the author and 2 others)"
)
LIFETIME_WORDS = "Set how long an initiative stays open after its latest draft or revision to {}"


@dataclass
class Garden:
    manifest: Manifest
    gusd: str  # Garden Dollar (gUSD, 6 decimals), not tracked at deployment
    nrt: str  # No Return Token (NRT, 6 decimals), tracked from deployment


@pytest.fixture(scope="module")
def garden(w3, founders) -> Garden:
    deployer = NodeSigner(w3.eth.accounts[0])
    gusd = deploy_token(w3, deployer, "GardenDollar")
    nrt = deploy_token(w3, deployer, "NoReturnToken")
    founding = [(f.address, f"founder{i}") for i, f in enumerate(founders)]
    manifest = deploy_commons(
        w3, deployer, "Own Settings Garden", founding, [founders[0].address], SETTINGS, tracked_tokens=[nrt]
    )
    return Garden(manifest, gusd, nrt)


@pytest.fixture
def commons(w3, garden):
    """The module's commons, the chain rolled back after the test."""
    with rolled_back(w3):
        yield Commons(w3, garden.manifest)


def contributions(commons: Commons):
    return commons.w3.eth.contract(
        address=Web3.to_checksum_address(commons.manifest.contributions), abi=load_artifacts()["Contributions"].abi
    )


def initiatives(commons: Commons):
    return commons.w3.eth.contract(
        address=Web3.to_checksum_address(commons.manifest.initiatives), abi=load_artifacts()["Initiatives"].abi
    )


def proposed(run, steward, *args: str) -> dict:
    """`commons propose ARGS… --json` as `steward`; what it printed."""
    result = run("propose", *args, "--text", str(run.text), "--json", key=key_of(steward))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refused(run, commons, steward, *args: str) -> str:
    """`commons propose ARGS…` refused (exit 1, nothing proposed); the refusal it printed."""
    result = run("propose", *args, "--text", str(run.text), key=key_of(steward))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stdout + result.stderr
    assert commons.governor.functions.proposalCount().call() == 0
    return " ".join(result.stderr.split())


# ---- each action by its own verb, passed by a vote ----


def test_a_token_is_tracked_by_a_passed_vote_and_read_by_its_name(run, commons, garden, stewards, founders):
    named = f"Start tracking Garden Dollar (gUSD, 6 decimals) at {garden.gusd} {TRACK_WORDS}"
    data = proposed(run, stewards[0], "track", garden.gusd)
    assert data["actions"] == [named]  # by the name it gives itself, though not tracked yet
    assert "warnings" not in data and "power_changes" not in data
    shown = json.loads(run("proposal", str(data["number"]), "--json").stdout)
    assert shown["actions_in_words"] == [named]  # members read it by its name before they vote
    carry_through(commons, int(data["proposal_id"]), founders[:4])

    assert contributions(commons).functions.isTracked(garden.gusd).call()
    assert resolve_asset(commons, "gUSD").address == garden.gusd  # payments and contributions in it are taken now
    assert commons.proposal(int(data["proposal_id"])).actions_in_words == [named]


def test_a_token_given_by_its_symbol_is_untracked_by_a_passed_vote_and_can_be_tracked_again(
    run, commons, garden, stewards, founders
):
    data = proposed(run, stewards[0], "untrack", "nrt")
    assert data["actions"] == [f"Stop tracking No Return Token (NRT, 6 decimals) at {garden.nrt} {UNTRACK_WORDS}"]
    carry_through(commons, int(data["proposal_id"]), founders[:4])

    assert not contributions(commons).functions.isTracked(garden.nrt).call()
    assert treasury.tracked_addresses(treasury.web3_reader(commons.w3), commons.manifest.contributions) == []
    again = proposed(run, stewards[0], "track", "NRT", "--dry-run")  # by the symbol it had when tracked before
    assert again["actions"] == [f"Start tracking No Return Token (NRT, 6 decimals) at {garden.nrt} {TRACK_WORDS}"]
    assert "warnings" not in again


def test_the_support_an_initiative_needs_is_changed_by_a_passed_vote(run, commons, stewards, founders):
    data = proposed(run, stewards[0], "setting", "support-share", "60%")
    assert data["actions"] == [SHARE_WORDS.format("60%")] and "power_changes" not in data
    carry_through(commons, int(data["proposal_id"]), founders[:4])

    assert initiatives(commons).functions.supportShareBps().call() == 6000
    assert initiatives(commons).functions.supportNeeded().call() == 4  # 60 % of 6 members, rounded up
    shown = json.loads(run("proposal", str(data["number"]), "--json").stdout)
    assert shown["actions_in_words"] == [SHARE_WORDS.format("60%")]


def test_how_long_an_initiative_stays_open_is_changed_by_a_passed_vote(run, commons, stewards, founders):
    data = proposed(run, stewards[0], "setting", "initiative-lifetime", "30d")
    assert data["actions"] == [LIFETIME_WORDS.format("30 days")] and "power_changes" not in data
    carry_through(commons, int(data["proposal_id"]), founders[:4])

    assert initiatives(commons).functions.lifetime().call() == 30 * 86400
    shown = json.loads(run("proposal", str(data["number"]), "--json").stdout)
    assert shown["actions_in_words"] == [LIFETIME_WORDS.format("30 days")]


def test_all_four_from_an_actions_file_pass_in_one_vote(run, commons, garden, stewards, founders, tmp_path):
    actions = tmp_path / "actions.toml"
    actions.write_text(f'''
[[action]]
kind = "track"
token = "{garden.gusd}"

[[action]]
kind = "untrack"
token = "NRT"

[[action]]
kind = "setting"
name = "support-share"
value = "12.5%"

[[action]]
kind = "setting"
name = "initiative-lifetime"
value = "7d"
''')
    data = proposed(run, stewards[0], "several", str(actions))
    assert data["actions"] == [
        f"Start tracking Garden Dollar (gUSD, 6 decimals) at {garden.gusd} {TRACK_WORDS}",
        f"Stop tracking No Return Token (NRT, 6 decimals) at {garden.nrt} {UNTRACK_WORDS}",
        SHARE_WORDS.format("12.5%"),
        LIFETIME_WORDS.format("7 days"),
    ]
    carry_through(commons, int(data["proposal_id"]), founders[:4])

    tracked = contributions(commons).functions.isTracked
    assert tracked(garden.gusd).call() and not tracked(garden.nrt).call()
    assert initiatives(commons).functions.supportShareBps().call() == 1250
    assert initiatives(commons).functions.lifetime().call() == 7 * 86400


# ---- refused or warned in words ----


def test_tracking_an_address_without_code_is_refused_in_words(run, commons, stewards):
    said = refused(run, commons, stewards[0], "track", BEEF)
    assert f"{BEEF} is not a contract (there is no code at that address): only an ERC-20 token can be tracked." in said


def test_tracking_a_contract_that_is_no_erc20_token_is_refused_in_words(run, commons, stewards):
    membership = commons.manifest.membership  # an ERC-721: a name and a symbol, but no decimals
    said = refused(run, commons, stewards[0], "track", membership)
    assert (
        f"{membership} is not an ERC-20 token (it has no symbol, name and decimals). Only an ERC-20 token can be tracked." in said
    )


def test_a_symbol_the_commons_never_tracked_is_refused_in_words(run, commons, garden, stewards):
    said = refused(run, commons, stewards[0], "track", "USDC")
    assert (
        f"USDC is not a token this commons has tracked (it has tracked: NRT ({garden.nrt})). "
        "To track a new token, give its address (0x…)."
    ) in said
    said = refused(run, commons, stewards[0], "untrack", "gUSD")
    assert f"gUSD is not a token this commons tracks (it tracks: NRT ({garden.nrt}))." in said


def test_tracking_a_tracked_token_is_warned_at_the_dry_run(run, commons, garden, stewards):
    data = proposed(run, stewards[0], "track", garden.nrt, "--dry-run")
    assert data["warnings"] == [
        f"No Return Token (NRT, 6 decimals) at {garden.nrt} is already tracked: tracking it again will fail"
    ]
    shown = run("propose", "track", "nrt", "--text", str(run.text), "--dry-run", key=key_of(stewards[0]))
    assert shown.returncode == 0 and "Warning: No Return Token (NRT, 6 decimals)" in shown.stdout, shown.stderr


def test_untracking_a_token_not_tracked_is_warned_at_the_dry_run(run, commons, garden, stewards):
    data = proposed(run, stewards[0], "untrack", garden.gusd, "--dry-run")
    assert data["warnings"] == [f"Garden Dollar (gUSD, 6 decimals) at {garden.gusd} is not tracked: untracking it will fail"]


@pytest.mark.parametrize(
    "value, problem",
    [
        ("150%", "The support share must be from 0.01 to 100 percent, not 150."),
        ("0", "The support share must be from 0.01 to 100 percent, not 0."),
        ("12.345%", "The support share is a percent with at most two decimals, not 12.345%."),
        ("3d", "'3d' is not a percentage such as 20 or 12.5%."),
    ],
)
def test_a_support_share_that_cannot_be_set_is_refused_in_words(run, commons, stewards, value, problem):
    assert problem in refused(run, commons, stewards[0], "setting", "support-share", value)


def test_an_initiative_lifetime_of_nothing_is_refused_in_words(run, commons, stewards):
    said = refused(run, commons, stewards[0], "setting", "initiative-lifetime", "0s")
    assert f"The initiative lifetime must be from 1 to {2**48 - 1} seconds, not 0." in said


def test_an_initiative_setting_to_its_current_value_is_warned(commons):
    a = commons.addresses
    unchanged = [act.change_setting(a, "support-share", 1000), act.change_setting(a, "initiative-lifetime", 14 * 86400)]
    assert proposal_warnings(commons, unchanged) == [
        "the support an initiative needs is already 10% of members: this changes nothing",
        "the time an initiative stays open is already 14 days: this changes nothing",
    ]
    assert proposal_warnings(commons, [act.change_setting(a, "support-share", 2000)]) == []


# ---- a member's initiative to track a token, drafted through the relay ----


def test_a_member_drafts_tracking_a_token_through_the_relay_and_reads_it_by_name(
    commons, garden, founders, relay_signer, relay_db
):
    client, relayer = make_client(commons, relay_signer, relay_db)
    author = founders[2]
    track = [{"kind": "track", "token": garden.gusd}, {"kind": "untrack", "token": "NRT"}]
    encoded = client.post("/api/relay/initiatives/actions", json={"actions": track})
    assert encoded.status_code == 200, encoded.text
    assert encoded.json()["targets"] == [garden.manifest.contributions] * 2
    assert encoded.json()["in_words"][0] == f"Start tracking Garden Dollar (gUSD, 6 decimals) at {garden.gusd} {TRACK_WORDS}"
    ticket = settled(relayer, post(client, signed_draft(client, author, actions=track))["id"])
    assert ticket["status"] == "done", ticket
    view = Initiatives(commons).initiative(ticket["initiative"])
    assert view.actions_in_words == [
        f"Start tracking Garden Dollar (gUSD, 6 decimals) at {garden.gusd} {TRACK_WORDS}",
        f"Stop tracking No Return Token (NRT, 6 decimals) at {garden.nrt} {UNTRACK_WORDS}",
    ]


def test_a_relay_for_a_commons_without_contributions_refuses_a_draft_to_track_in_words(
    w3, garden, founders, relay_signer, relay_db
):
    with rolled_back(w3):
        older = Commons(w3, replace(garden.manifest, contributions=""))  # as a commons deployed before Contributions
        client, _ = make_client(older, relay_signer, relay_db)
        for path, body in (
            ("/api/relay/initiatives/actions", {"actions": [{"kind": "track", "token": garden.gusd}]}),
            (
                "/api/relay/initiatives/typed-data",
                {"kind": "draft", "member": founders[2].address, "actions": [{"kind": "untrack", "token": garden.nrt}]},
            ),
        ):
            answer = client.post(path, json={**body, "text": "# Track\n\nPlease."} if "member" in body else body)
            assert answer.status_code == 400, answer.text
            assert "This commons has no Contributions contract" in answer.text and "so it tracks no tokens" in answer.text


# ---- in the API: read from the cache, before any vote ----


def own_settings_proposed(commons: Commons, garden: Garden, steward, author) -> int:
    """Proposal #1 (open, not yet voted): track gUSD, which is not tracked yet, and set the support share to 60%;
    initiative 1 by `author`: track gUSD. Returns the proposal's id."""
    a = commons.addresses
    proposal_id = helpers.propose(
        commons, steward, [act.track_token(a, garden.gusd), act.change_setting(a, "support-share", 6000)], "Own settings"
    )
    initiatives = Initiatives(commons)
    commons.submit(initiatives.plan_draft([act.track_token(a, garden.gusd)], "# Track gUSD\n\nFor the seed fund."), author)
    return proposal_id


def test_the_api_reads_a_track_and_a_support_share_proposal_in_words_before_the_vote(
    commons, garden, stewards, founders, anvil_url, cache_url
):
    proposal_id = own_settings_proposed(commons, garden, stewards[0], founders[2])
    indexer_for(garden.manifest, anvil_url, cache_url).sync()
    track = f"Start tracking Garden Dollar (gUSD, 6 decimals) at {garden.gusd} {TRACK_WORDS}"
    with TestClient(create_app(cache_url, upgrade_schema=False)) as client:
        proposal = client.get(f"/api/proposals/{proposal_id}").json()
        assert proposal["state"] in ("pending", "active")
        assert [(a["in_words"], a["known"], a["power_change"]) for a in proposal["actions"]] == [
            (track, True, None),
            (SHARE_WORDS.format("60%"), True, None),
        ]
        initiative = client.get("/api/initiatives/1").json()
        assert [a["in_words"] for a in initiative["actions"]] == [track]
        assert "gUSD" not in {row["symbol"] for row in client.get("/api/treasury").json()["balances"]}  # not tracked


def test_a_cache_from_before_the_cursor_kept_the_contracts_learns_them_with_its_next_batch(
    commons, garden, stewards, founders, anvil_url, tmp_path
):
    proposal_id = own_settings_proposed(commons, garden, stewards[0], founders[2])
    url = f"sqlite:///{tmp_path / 'cache.db'}"
    migrate(make_engine(url))
    indexer_for(garden.manifest, anvil_url, url).sync()
    engine = make_engine(url)
    command.downgrade(alembic_config(engine), "0009")  # as the cache was: the cursor without the two contracts
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.select(CURSOR.c.initiatives, CURSOR.c.contributions)).one() == (None, None)

    def words() -> list[str]:
        with TestClient(create_app(url, upgrade_schema=False)) as client:
            return [a["in_words"] for a in client.get(f"/api/proposals/{proposal_id}").json()["actions"]]

    unknown = [f"Call {garden.manifest.contributions} with an unknown function (selector 0x39639fbd"]
    unknown += [f"Call {garden.manifest.initiatives} with an unknown function (selector 0x5aee1307"]
    assert [w.split(", 36 bytes")[0] for w in words()] == unknown  # the contracts unknown to the API until then
    advance(commons.w3, 1)
    indexer_for(garden.manifest, anvil_url, url).sync()
    with engine.connect() as conn:
        assert conn.execute(sa.select(CURSOR.c.initiatives, CURSOR.c.contributions)).one() == (
            garden.manifest.initiatives,
            garden.manifest.contributions,
        )
        # Its tokens are named as proposals are indexed: the one indexed before the upgrade names gUSD by address.
        assert conn.execute(sa.select(NAMED_TOKENS.c.symbol)).scalars().all() == []
    assert words() == [
        f"Start tracking the token at {garden.gusd} (its name, symbol and decimals are unknown here) {TRACK_WORDS}",
        SHARE_WORDS.format("60%"),
    ]
    engine.dispose()


def test_a_token_named_on_a_replaced_fork_is_forgotten_and_read_again(commons, garden, stewards, founders, anvil_url, tmp_path):
    w3 = commons.w3
    url = f"sqlite:///{tmp_path / 'cache.db'}"
    migrate(make_engine(url))
    indexer = indexer_for(garden.manifest, anvil_url, url)
    indexer.sync()
    fork_point = w3.provider.make_request("evm_snapshot", [])["result"]
    own_settings_proposed(commons, garden, stewards[0], founders[2])
    indexer.sync()

    def named() -> list[tuple[str, str]]:
        with make_engine(url).connect() as conn:
            return [tuple(r) for r in conn.execute(sa.select(NAMED_TOKENS.c.address, NAMED_TOKENS.c.symbol))]

    assert named() == [(garden.gusd, "gUSD")]
    w3.provider.make_request("evm_revert", [fork_point])
    for _ in range(4):  # a longer fork without the proposal: canonical
        w3.provider.make_request("evm_mine", [])
    indexer.sync()
    assert named() == []
    own_settings_proposed(commons, garden, stewards[0], founders[2])  # on this fork too: read again
    indexer.sync()
    assert named() == [(garden.gusd, "gUSD")]
