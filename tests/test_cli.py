"""The `commons` command as a steward runs it: a real process against anvil."""

import json
import re

import pytest
from eth_account import Account

from tests.helpers import carry_through, fund, key_of, to_voting

pytest_plugins = ["tests.cli_support"]  # the `run` fixture


def test_propose_pay_prints_actions_in_words_and_returns_id(run, commons, stewards):
    result = run(
        "propose",
        "pay",
        "0x000000000000000000000000000000000000bEEF",
        "1.5",
        "--text",
        str(run.text),
        "--json",
        key=key_of(stewards[0]),
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["actions"] == ["Pay 1.5 ETH from the treasury to 0x000000000000000000000000000000000000bEEF"]
    assert commons.proposal(int(data["proposal_id"])).state == "pending"


def test_dry_run_sends_nothing(run, commons, stewards):
    result = run(
        "propose",
        "pay",
        "0x000000000000000000000000000000000000bEEF",
        "1",
        "--text",
        str(run.text),
        "--dry-run",
        key=key_of(stewards[0]),
    )
    assert result.returncode == 0, result.stderr
    assert "Simulation succeeded" in result.stdout
    assert commons.governor.functions.proposalCount().call() == 0


def test_non_steward_gets_a_sentence_and_nonzero_exit(run, commons, founders):
    result = run(
        "propose", "pay", "0x000000000000000000000000000000000000bEEF", "1", "--text", str(run.text), key=key_of(founders[3])
    )
    assert result.returncode == 1
    assert "only stewards can propose" in result.stderr
    assert "Traceback" not in result.stderr
    assert commons.governor.functions.proposalCount().call() == 0


def test_malformed_address_is_refused_before_anything_is_sent(run, commons, stewards):
    result = run("propose", "admit", "0x12345", "newbie", "--text", str(run.text), key=key_of(stewards[0]))
    assert result.returncode == 1
    assert "'0x12345' is not an Ethereum address" in result.stderr
    assert commons.governor.functions.proposalCount().call() == 0


def test_missing_text_file_is_refused(run, stewards):
    result = run(
        "propose", "remove", "0x000000000000000000000000000000000000bEEF", "--text", "/nonexistent/p.md", key=key_of(stewards[0])
    )
    assert result.returncode == 1
    assert "does not exist" in result.stderr


def test_missing_key_says_where_keys_come_from(run, founders):
    result = run("delegate", founders[1].address)
    assert result.returncode == 1
    assert "COMMONS_KEYSTORE" in result.stderr and "COMMONS_PRIVATE_KEY" in result.stderr


def test_member_votes_with_reason_using_an_encrypted_keystore(run, commons, stewards, founders, tmp_path):
    proposed = json.loads(
        run(
            "propose",
            "pay",
            "0x000000000000000000000000000000000000bEEF",
            "1",
            "--text",
            str(run.text),
            "--json",
            key=key_of(stewards[0]),
        ).stdout
    )
    pid = int(proposed["proposal_id"])
    to_voting(commons, pid)
    keystore = tmp_path / "member.json"
    keystore.write_text(json.dumps(Account.encrypt(founders[3].account.key, "correct horse")))
    result = run(
        "vote",
        "1",
        "against",
        "--reason",
        "Seeds are free at the swap",
        "--json",
        extra_env={"COMMONS_KEYSTORE": str(keystore), "COMMONS_KEYSTORE_PASSWORD": "correct horse"},
    )
    assert result.returncode == 0, result.stderr
    assert commons.governor.functions.hasVoted(pid, founders[3].address).call()
    assert commons.proposal(pid).votes_against == 1


def test_wrong_keystore_password_is_a_clear_error(run, founders, tmp_path):
    keystore = tmp_path / "member.json"
    keystore.write_text(json.dumps(Account.encrypt(founders[3].account.key, "right")))
    result = run(
        "delegate", founders[4].address, extra_env={"COMMONS_KEYSTORE": str(keystore), "COMMONS_KEYSTORE_PASSWORD": "wrong"}
    )
    assert result.returncode == 1
    assert "wrong password" in result.stderr


def test_unknown_proposal_number_is_refused(run, founders):
    result = run("vote", "42", "for", key=key_of(founders[2]))
    assert result.returncode == 1
    assert "There is no proposal 42" in result.stderr


def test_proposal_json_shows_decoded_actions_tallies_and_state(run, commons, stewards, founders):
    proposed = json.loads(
        run("propose", "appoint", founders[2].address, "--text", str(run.text), "--json", key=key_of(stewards[0])).stdout
    )
    to_voting(commons, int(proposed["proposal_id"]))
    assert run("vote", proposed["proposal_id"], "for", key=key_of(founders[2])).returncode == 0
    shown = json.loads(run("proposal", "1", "--json").stdout)
    assert shown["actions_in_words"] == [f"Appoint @founder2 ({founders[2].address}) as a steward"]
    assert shown["power"] == [f"this gives @founder2 ({founders[2].address}) the power to submit proposals"]
    assert (shown["state"], shown["votes_for"], shown["quorum_reached"]) == ("active", 1, True)
    assert shown["quorum"] == 1  # 30% of 6 members, rounded down


def test_members_lists_founders_with_handles(run, founders):
    members = json.loads(run("members", "--json").stdout)
    assert [m["handle"] for m in members] == [f"founder{i}" for i in range(len(founders))]
    assert all(m["votes"] == 1 and m["delegate"] == m["address"] for m in members)


def test_deploy_writes_a_manifest_found_by_chain_id(run, tmp_path):
    result = run(
        "deploy",
        "--name",
        "Tool Library",
        "--founder",
        "0x000000000000000000000000000000000000dEaD=ana",
        "--founder",
        "0x000000000000000000000000000000000000bEEF=ben",
        "--steward",
        "0x000000000000000000000000000000000000dEaD",
        "--voting-period",
        "5d",
        "--quorum",
        "25",
        "--dev-account",
        "0",
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "state" / "deployments" / "31337.json").read_text())
    assert manifest["name"] == "Tool Library"
    assert [f["handle"] for f in manifest["founders"]] == ["ana", "ben"]
    assert (manifest["settings"]["voting_period"], manifest["settings"]["quorum_percent"]) == (5 * 86400, 25)


def test_deploy_refuses_a_founder_listed_twice(run):
    result = run(
        "deploy",
        "--name",
        "Twice",
        "--founder",
        "0x000000000000000000000000000000000000dEaD=ana",
        "--founder",
        "0x000000000000000000000000000000000000dead=ann",
        "--steward",
        "0x000000000000000000000000000000000000dEaD",
        "--dev-account",
        "0",
    )
    assert result.returncode == 1
    assert "different address" in result.stderr


def test_observer_syncs_the_cache_then_audits_it_clean(run, commons, tmp_path):
    database = f"sqlite:///{tmp_path / 'observer.db'}"
    first = run("sync", "--database-url", database)
    assert first.returncode == 0, first.stderr
    assert int(re.search(r"Indexed ([\d,]+) events", first.stdout)[1].replace(",", "")) > 0
    assert f"the cache is at block {commons.w3.eth.block_number}" in first.stdout
    again = run("sync", "--database-url", database)
    assert again.returncode == 0 and "Indexed 0 events" in again.stdout  # re-running changes nothing
    audit = run("audit", "--database-url", database)
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_steward_proposes_several_actions_from_a_file_and_they_are_carried_out_together(
    run, commons, stewards, founders, tmp_path
):
    newcomer = "0x000000000000000000000000000000000000bEEF"
    actions = tmp_path / "actions.toml"
    actions.write_text(f'''
[[action]]
kind = "admit"
address = "{newcomer}"
handle = "beef"

[[action]]
kind = "pay"
recipient = "{newcomer}"
eth = "0.25"

[[action]]
kind = "setting"
name = "quorum"
value = 40
''')
    fund(commons.w3, commons.manifest.timelock, 10**18)
    result = run("propose", "several", str(actions), "--text", str(run.text), "--json", key=key_of(stewards[0]))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["actions"] == [
        f"Admit {newcomer} as a member with the handle “beef”",
        f"Pay 0.25 ETH from the treasury to {newcomer}",
        "Set the quorum to 40% of members",
    ]

    carry_through(commons, int(data["proposal_id"]), founders[:4])
    assert commons.membership.functions.isMember(newcomer).call()
    assert commons.w3.eth.get_balance(newcomer) == 25 * 10**16
    assert commons.governor.functions.quorumNumerator().call() == 40


@pytest.mark.parametrize(
    "content, problem",
    [
        (
            '[[action]]\nkind = "admit"\naddress = "0x000000000000000000000000000000000000bEEF"\n',
            "Action 1 (admit): missing handle",
        ),
        (
            '[[action]]\nkind = "pay"\nrecipient = "0x000000000000000000000000000000000000bEEF"\neth = "1"\n'
            '[[action]]\nkind = "pay"\nrecipient = "0x12"\neth = "1"\n',
            "Action 2 (pay): recipient '0x12' is not an Ethereum address",
        ),
        ('[[action]]\nkind = "dissolve"\n', "Action 1: kind must be one of admit, remove"),
        (
            '[[action]]\nkind = "recall"\naddress = "0x000000000000000000000000000000000000bEEF"\nreason = "x"\n',
            "Action 1 (recall): unknown reason",
        ),
        (
            '[[action]]\nkind = "admit"\naddress = "0x000000000000000000000000000000000000bEEF"\nhandle = 7\n',
            "Action 1 (admit): handle must be text in quotes",
        ),
        ('[[action]\nkind = "admit"\n', "is not valid TOML"),
        ('title = "no actions"\n', "must hold one or more [[action]] tables"),
    ],
)
def test_a_bad_actions_file_is_refused_in_words_before_anything_is_sent(run, commons, stewards, tmp_path, content, problem):
    actions = tmp_path / "actions.toml"
    actions.write_text(content)
    result = run("propose", "several", str(actions), "--text", str(run.text), key=key_of(stewards[0]))
    assert result.returncode == 1 and problem in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert commons.governor.functions.proposalCount().call() == 0


def test_proposal_text_with_markdown_brackets_is_printed_as_written(run, stewards, tmp_path):
    text = tmp_path / "brackets.md"
    text.write_text("# Seeds [spring]\n\nSee [the plan](https://example.org/p) and [x] done.\n")
    assert run("propose", "remove", stewards[1].address, "--text", str(text), key=key_of(stewards[0])).returncode == 0
    shown = run("proposal", "1")
    assert shown.returncode == 0, shown.stderr
    assert "Seeds [spring]" in shown.stdout and "See [the plan](https://example.org/p) and [x] done." in shown.stdout
    listed = run("proposals", extra_env={"COLUMNS": "200"})  # a table row on one line
    assert "Seeds [spring]" in listed.stdout


@pytest.fixture
def relay_api(commons, tmp_path):
    """The API with a relay whose account holds 0.005 ETH: below the 0.01 ETH it needs to accept ballots."""
    from api.app import create_app
    from api.relay_store import SqlRelayStore
    from governance.relayer import Relayer, RelayOptions
    from tests.cache_support import fresh_sqlite
    from tests.helpers import test_key_signer
    from tests.web_support import Server

    signer = test_key_signer("cli-relayer")
    fund(commons.w3, signer.address, 5 * 10**15)
    app = create_app(fresh_sqlite(tmp_path, "relay.db"), upgrade_schema=False)
    relayer = Relayer(commons, signer, SqlRelayStore(app.state.engine), RelayOptions(min_balance_wei=10**16)).start()
    app.state.relayer = relayer
    with Server(app) as server:
        yield server.url, relayer
    relayer.stop()


def test_steward_sees_the_relay_run_dry_and_tops_it_up(run, commons, stewards, relay_api):
    url, relayer = relay_api
    low = run("relay", "status", "--api", url, extra_env={"COLUMNS": "200"})
    assert low.returncode == 0, low.stderr
    assert f"Vote relay {relayer.address} holds 0.005 ETH" in low.stdout and "It refuses ballots" in low.stdout

    funded = run("relay", "fund", "0.5", "--api", url, "--json", key=key_of(stewards[0]))
    assert funded.returncode == 0, funded.stderr
    assert json.loads(funded.stdout)["summary"] == f"Send 0.5 ETH to the vote relay {relayer.address}"
    assert commons.w3.eth.get_balance(relayer.address) == 505 * 10**15

    status = json.loads(run("relay", "status", "--api", url, "--json").stdout)
    assert status["available"] and status["balance_wei"] == str(505 * 10**15) and status["votes_left_at_current_gas_price"] > 0
    words = run("relay", "status", "--api", url, extra_env={"COLUMNS": "200"}).stdout
    assert "drafts and supports of initiatives, 5 a day per member: 0 queued, 0 in flight, 0 done, 0 refused" in words


def test_relay_commands_refuse_in_words(run, stewards, relay_api):
    url, relayer = relay_api
    nowhere = run("relay", "status", "--api", "http://127.0.0.1:9")
    assert nowhere.returncode == 1 and "does not answer" in nowhere.stderr and "Traceback" not in nowhere.stderr
    too_much = run("relay", "fund", "1000000", "--api", url, key=key_of(stewards[0]))
    assert too_much.returncode == 1 and "Traceback" not in too_much.stderr, too_much.stderr
    assert "the chain refused: Insufficient funds for gas * price + value." in too_much.stderr  # the node's words, no dict
