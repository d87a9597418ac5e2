"""What a new steward tripped over in their first hour with the `commons` command (issue 10), each
checked by running the real command against anvil."""

import json
import os
import pty
import re
import threading
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from governance.client import when
from scripts.console import eth
from tests.helpers import act, key_of, now, propose, to_deadline_passed, to_voting, vote

pytest_plugins = ["tests.cli_support"]  # the `run` fixture

BEEF = "0x000000000000000000000000000000000000bEEF"


def pay_proposal(commons, steward, title: str = "Pay for seeds") -> int:
    return propose(commons, steward, [act.pay(BEEF, 10**15)], title)


def snake_case_keys(data) -> list[str]:
    """Every key in a JSON document that is not snake_case."""
    if isinstance(data, dict):
        return [k for k in data if not re.fullmatch(r"[a-z0-9_]+", k)] + [b for v in data.values() for b in snake_case_keys(v)]
    if isinstance(data, list):
        return [b for v in data for b in snake_case_keys(v)]
    return []


# ---- 1: the chain's current time, not the last block's --------------------------------------------


def test_voting_opens_by_the_chain_clock_even_when_no_block_was_mined_since(run, commons, stewards, founders):
    w3 = commons.w3
    pay_proposal(commons, stewards[0])
    snapshot = commons.governor.functions.proposalSnapshot(commons.proposal_ids()[0]).call()
    w3.provider.make_request("evm_increaseTime", [snapshot - now(w3) + 5])  # time passes; anvil mines nothing
    assert now(w3) < snapshot  # by its last block the proposal is still pending
    shown = json.loads(run("proposal", "1", "--json").stdout)
    assert shown["state"] == "active"
    voted = run("vote", "1", "for", key=key_of(founders[2]))
    assert voted.returncode == 0, voted.stderr


def test_dev_run_keeps_the_local_chain_clock_running():
    assert re.search(r"commons node start .*--block-time 1", (Path(__file__).parents[1] / "dev").read_text())


# ---- 3: "#N" everywhere, a number in JSON, one key style ------------------------------------------


def test_proposals_are_named_by_number_in_output_refusals_and_json(run, commons, stewards, founders):
    proposed = run("propose", "pay", BEEF, "0.001", "--text", str(run.text), "--json", key=key_of(stewards[0]))
    assert proposed.returncode == 0, proposed.stderr
    created = json.loads(proposed.stdout)
    assert created["number"] == 1 and int(created["proposal_id"]) == commons.proposal_ids()[0]

    early = run("vote", "#1", "for", key=key_of(founders[2]))
    assert early.returncode == 1 and "voting on #1 opens on" in early.stderr and created["proposal_id"] not in early.stderr

    to_voting(commons, int(created["proposal_id"]))
    voted = json.loads(run("vote", "1", "for", "--json", key=key_of(founders[2])).stdout)
    assert (voted["number"], voted["proposal_id"], voted["summary"]) == (
        1,
        created["proposal_id"],
        "Vote For on #1 “Pay for seeds”",
    )
    in_words = run("vote", "1", "against", key=key_of(founders[3]))
    assert "Vote Against on #1 “Pay for seeds”" in in_words.stdout

    shown, listed = (json.loads(run(*args, "--json").stdout) for args in (("proposal", "1"), ("proposals",)))
    assert shown["number"] == 1 and listed[0]["number"] == 1
    for document in (created, voted, shown, listed, json.loads(run("members", "--json").stdout)):
        assert snake_case_keys(document) == []


# ---- 4: the quorum in words ------------------------------------------------------------------------


def test_quorum_says_what_counts_and_what_is_missing(run, commons, stewards, founders):
    pid = pay_proposal(commons, stewards[0])
    to_voting(commons, pid)
    vote(commons, founders[2], pid, "against")
    before = run("proposal", "1").stdout
    assert "Quorum not reached: 0 of the 1 needed (For and Abstain votes count); 1 more For or Abstain vote needed." in before
    assert "1 more needed" in run("proposals").stdout
    vote(commons, founders[3], pid, "abstain")
    assert "Quorum reached: 1 of the 1 needed (For and Abstain votes count)." in run("proposal", "1").stdout


# ---- 5: help text ----------------------------------------------------------------------------------


def test_help_keeps_square_brackets_and_shows_no_type_for_flags(run):
    vote_help = run("vote", "--help").stdout
    assert "[env COMMONS_RPC_URL]" in vote_help and "<bool>" not in vote_help
    assert re.search(r"--dry-run\s+Show and simulate", vote_help)
    assert "Each [[action]] has a `kind`" in run("propose", "several", "--help").stdout


# ---- 6: handles --------------------------------------------------------------------------------------


def test_members_are_named_by_handle_where_an_address_is_asked_and_shown(run, commons, stewards, founders):
    delegated = run("delegate", "founder3", "--json", key=key_of(founders[2]))
    assert delegated.returncode == 0, delegated.stderr
    assert json.loads(delegated.stdout)["summary"] == f"Delegate your vote to founder3 ({founders[3].address})"
    assert commons.membership.functions.delegates(founders[2].address).call() == founders[3].address

    assert run("stewards").stdout.splitlines() == [f"founder{i} ({s.address})" for i, s in enumerate(stewards)]
    removal = run("propose", "remove", "founder5", "--text", str(run.text), "--json", key=key_of(stewards[0]))
    assert founders[5].address in json.loads(removal.stdout)["actions"][0]
    assert f"proposed by founder0 ({stewards[0].address})" in run("proposal", "1").stdout

    unknown = run("delegate", "nobody", key=key_of(founders[2]))
    assert unknown.returncode == 1 and "No current member has the handle 'nobody'" in unknown.stderr


# ---- 7: messages that said the wrong thing ----------------------------------------------------------


def test_an_unknown_setting_is_named_and_the_settings_listed(run, stewards):
    result = run("propose", "setting", "colour", "blue", "--text", str(run.text), key=key_of(stewards[0]))
    assert result.returncode == 1
    assert "'colour' is not a setting; the settings are voting-delay, voting-period, quorum" in result.stderr


def test_a_negative_amount_is_refused_as_an_amount_not_an_option(run, stewards):
    result = run("propose", "pay", BEEF, "-1", "--text", str(run.text), key=key_of(stewards[0]))
    assert result.returncode == 1 and "'-1' is not a positive amount of ETH" in result.stderr


def test_a_duplicate_proposal_names_the_one_it_repeats(run, stewards):
    args = ("propose", "pay", BEEF, "0.001", "--text", str(run.text))
    assert run(*args, key=key_of(stewards[0])).returncode == 0
    again = run(*args, key=key_of(stewards[0]))
    assert again.returncode == 1 and "this proposal is identical to #1" in again.stderr


def test_an_unknown_proposal_number_says_which_numbers_there_are(run, commons, stewards, founders):
    none_yet = run("vote", "7", "for", key=key_of(founders[2]))
    assert none_yet.returncode == 1 and "There is no proposal 7 in this commons; it has none yet." in none_yet.stderr
    pay_proposal(commons, stewards[0])
    pay_proposal(commons, stewards[0], "Pay for tools")
    refused = run("proposal", "#7")
    assert refused.returncode == 1 and "There is no proposal 7 in this commons; it has 2 proposals, #1 to #2." in refused.stderr


def test_cancelling_twice_says_it_is_already_canceled(run, stewards):
    assert run("propose", "pay", BEEF, "0.001", "--text", str(run.text), key=key_of(stewards[0])).returncode == 0
    first = run("cancel", "1", key=key_of(stewards[0]))
    assert first.returncode == 0 and "Cancel #1 “Pay for seeds”" in first.stdout
    second = run("cancel", "1", key=key_of(stewards[0]))
    assert second.returncode == 1 and "#1 is already canceled" in second.stderr and "only its proposer" not in second.stderr


def passed_proposal(commons, stewards, founders) -> int:
    """A proposal one member voted For (enough for quorum here), its voting closed."""
    pid = pay_proposal(commons, stewards[0])
    to_voting(commons, pid)
    vote(commons, founders[2], pid, "for")
    to_deadline_passed(commons, pid)
    return pid


def test_voting_after_the_deadline_says_what_became_of_the_proposal(run, commons, stewards, founders):
    passed_proposal(commons, stewards, founders)
    late = run("vote", "1", "for", key=key_of(founders[3]))
    assert late.returncode == 1 and "voting on #1 closed on" in late.stderr
    assert "(it passed and waits to be queued)" in late.stderr and "it is succeeded" not in late.stderr


def test_executing_before_the_timelock_delay_says_when_it_will_be_possible(run, commons, stewards, founders):
    pid = passed_proposal(commons, stewards, founders)
    queued = run("queue", "1", "--json", key=key_of(founders[2]))
    assert queued.returncode == 0 and json.loads(queued.stdout)["number"] == 1
    early = run("execute", "1", key=key_of(founders[2]))
    eta = commons.governor.functions.proposalEta(pid).call()
    assert early.returncode == 1
    assert f"#1 can be executed from {when(eta)}, when its timelock delay ends" in early.stderr


def test_no_signing_key_on_a_local_node_mentions_dev_account(run, founders):
    result = run("delegate", founders[1].address)
    assert result.returncode == 1 and "--dev-account N" in result.stderr


def test_auditing_an_api_url_ending_in_api_hints_at_the_base_url(run, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = run("audit", "--api", f"http://127.0.0.1:{server.server_port}/api")
    finally:
        server.shutdown()
    assert result.returncode == 1 and "answered 404" in result.stderr and "without /api" in result.stderr


# ---- 8: irreversible acts ask first and default to no -------------------------------------------------


def answer_at_the_prompt(run, answer: bytes, *args: str, key: str):
    """Run the command with a terminal as its input, typing `answer` at its prompt."""
    terminal, its_end = pty.openpty()
    try:
        os.write(terminal, answer)
        return run(*args, key=key, stdin=its_end)
    finally:
        os.close(terminal)
        os.close(its_end)


def test_resign_asks_defaults_to_no_and_says_nothing_was_sent(run, commons, founders):
    member = founders[5]
    declined = answer_at_the_prompt(run, b"\n", "resign", key=key_of(member))
    assert declined.returncode == 0, declined.stderr
    assert "[y/N]" in declined.stdout and "Nothing sent." in declined.stdout
    assert commons.membership.functions.isMember(member.address).call()

    accepted = answer_at_the_prompt(run, b"y\n", "resign", key=key_of(member))
    assert accepted.returncode == 0 and "Done in block" in accepted.stdout
    assert not commons.membership.functions.isMember(member.address).call()


# ---- 9: units a person reads -----------------------------------------------------------------------------


def test_settings_read_as_durations_and_the_deploy_dry_run_in_words(run):
    info = run("info").stdout
    assert "voting opens 1 minute after a proposal and lasts 1 hour" in info and "3600" not in info
    dry = run(
        "deploy",
        "--name",
        "Tool Library",
        "--founder",
        f"{BEEF}=ana",
        "--steward",
        BEEF,
        "--voting-period",
        "5d",
        "--dev-account",
        "0",
        "--dry-run",
    )
    assert dry.returncode == 0, dry.stderr
    assert "lasts 5 days" in dry.stdout and "CommonsSettings(" not in dry.stdout


@pytest.mark.parametrize(
    "wei, words",
    [(25 * 10**18, "25 ETH"), (9_999_864_128_987_363_997, "≈9.9999 ETH"), (5 * 10**15, "0.005 ETH"), (0, "0 ETH")],
)
def test_ether_is_rounded_for_people(wei, words):
    assert eth(wei) == words


# ---- 11: who voted and why; no wrapping into pipes -----------------------------------------------------------


def test_proposal_lists_who_voted_and_why(run, commons, stewards, founders):
    pid = pay_proposal(commons, stewards[0])
    to_voting(commons, pid)
    vote(commons, founders[2], pid, "for", "The beds are bare")
    vote(commons, founders[3], pid, "against")
    shown = run("proposal", "1").stdout
    assert "founder2: for — “The beds are bare”" in shown and "founder3: against" in shown
    votes = json.loads(run("proposal", "1", "--json").stdout)["votes"]
    assert [(v["handle"], v["support"], v["reason"]) for v in votes] == [
        ("founder2", "for", "The beds are bare"),
        ("founder3", "against", ""),
    ]


def test_output_into_a_pipe_is_not_wrapped_at_80_columns(run, commons, stewards):
    title = "Buy seeds, compost, canes, twine and a second wheelbarrow for the community beds by the river"
    pay_proposal(commons, stewards[0], title)
    listed = run("proposals").stdout
    assert any(title in line for line in listed.splitlines())


# ---- 12: moving a local chain's clock ----------------------------------------------------------------------------


def test_node_advance_moves_a_local_chain_clock(run, commons):
    before = now(commons.w3)
    moved = run("node", "advance", "2d")
    assert moved.returncode == 0 and "2 days forward" in moved.stdout
    assert now(commons.w3) >= before + 2 * 86400


class NotAnvil(BaseHTTPRequestHandler):
    """A JSON-RPC node that calls itself Geth: anvil's chain behind it, every other method passed through to it."""

    upstream = ""
    seen: list[str] = []

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append(request["method"])
        if request["method"] == "web3_clientVersion":
            answer = {"jsonrpc": "2.0", "id": request["id"], "result": "Geth/v1.14.12-stable/linux-amd64/go1.23.4"}
        else:
            answer = requests.post(self.upstream, json=request, timeout=30).json()
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # quiet
        pass


def test_node_advance_is_refused_in_words_on_a_chain_that_is_not_a_local_anvil(run, commons):
    handler = type("Geth", (NotAnvil,), {"upstream": commons.w3.provider.endpoint_uri, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    before = now(commons.w3)
    try:
        refused = run("node", "advance", "2d", "--rpc", f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
    assert refused.returncode == 1, refused.stdout
    assert "Only a local anvil node's clock can be moved; this node is not one." in refused.stderr
    assert "Traceback" not in refused.stderr
    assert "web3_clientVersion" in handler.seen and not [m for m in handler.seen if m.startswith(("evm_", "anvil_"))]
    assert now(commons.w3) == before


def test_dev_account_is_refused_past_the_nodes_accounts(run, commons):
    result = run("delegate", "founder1", "--dev-account", str(len(commons.w3.eth.accounts)))
    assert result.returncode == 1 and "development accounts 0 to" in result.stderr
