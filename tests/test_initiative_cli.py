"""`commons initiative …` as members run it: real processes against anvil; refusals in words."""

import json

from governance.initiatives import Initiatives
from tests.helpers import carry_through, key_of
from tests.test_initiatives import draft, submit, support

pytest_plugins = ["tests.cli_support"]  # `run`

ACTIONS = """
[[action]]
kind = "pay"
recipient = "0x000000000000000000000000000000000000bEEF"
eth = "0.001"
"""


def test_members_draft_sign_and_submit_an_initiative_that_passes(run, commons, founders, tmp_path):
    actions = tmp_path / "actions.toml"
    actions.write_text(ACTIONS)
    drafted = run("initiative", "draft", str(actions), "--text", str(run.text), "--json", key=key_of(founders[2]))
    assert drafted.returncode == 0, drafted.stderr
    assert json.loads(drafted.stdout)["initiative"] == 1
    short = run("initiative", "submit", "1", key=key_of(founders[5]))
    assert short.returncode != 0 and "1 of 3 supporters" in short.stderr and "needs 2 more" in short.stderr
    dry = run("initiative", "sign", "1", "--dry-run", key=key_of(founders[3]))
    assert dry.returncode == 0 and "Simulation succeeded" in dry.stdout, dry.stderr
    for supporter in founders[3:5]:
        signed = run("initiative", "sign", "1", key=key_of(supporter), extra_env={"COLUMNS": "200"})
        assert signed.returncode == 0, signed.stderr
    again = run("initiative", "sign", "1", key=key_of(founders[2]))
    assert again.returncode != 0 and "author of initiative 1" in again.stderr
    shown = json.loads(run("initiative", "show", "1", "--json").stdout)
    assert shown["progress"] == "3 of 3 supporters" and shown["status"] == "open"
    assert shown["actions_in_words"] == ["Pay 0.001 ETH from the treasury to 0x000000000000000000000000000000000000bEEF"]
    submitted = run("initiative", "submit", "1", "--json", key=key_of(founders[5]))
    assert submitted.returncode == 0, submitted.stderr
    number = json.loads(submitted.stdout)["number"]
    listed = run("initiative", "list", extra_env={"COLUMNS": "200"})
    assert f"proposed as #{number}" in listed.stdout, listed.stdout
    carry_through(commons, int(json.loads(submitted.stdout)["proposal_id"]), founders)


def test_an_outsider_cannot_draft(run, commons, tmp_path):
    from tests.helpers import fund, test_key_signer

    outsider = test_key_signer("initiative-cli-outsider")
    fund(commons.w3, outsider.address)
    actions = tmp_path / "actions.toml"
    actions.write_text(ACTIONS)
    result = run("initiative", "draft", str(actions), "--text", str(run.text), key=key_of(outsider))
    assert result.returncode != 0 and "only members draft" in result.stderr, result.stderr


def test_a_proposal_from_an_initiative_names_its_author_and_supporters(run, commons, founders):
    initiatives = Initiatives(commons)
    initiative_id = draft(initiatives, founders[2])
    for supporter in founders[3:5]:
        support(initiatives, initiative_id, supporter)
    proposal_id = submit(initiatives, initiative_id)
    contract = commons.manifest.initiatives
    supporters = [(s.address, f"founder{founders.index(s)}") for s in sorted(founders[3:5], key=lambda s: int(s.address, 16))]
    through = (
        f"through initiative {initiative_id}, supported by 2 members, put to a vote by the Initiatives contract ({contract})"
    )
    shown = run("proposal", str(proposal_id), extra_env={"COLUMNS": "300"})
    assert shown.returncode == 0, shown.stderr
    assert f"proposed by founder2 ({founders[2].address}) {through}" in shown.stdout, shown.stdout
    assert "supported by " + ", ".join(f"{handle} ({address})" for address, handle in supporters) in shown.stdout
    answer = json.loads(run("proposal", str(proposal_id), "--json").stdout)
    assert answer["proposer"] == contract  # on-chain, the contract proposed it
    assert answer["proposed_by"] == f"@founder2 ({founders[2].address}) {through}"  # the API's words
    assert answer["initiative"] == {
        "id": initiative_id,
        "revision": 0,
        "author": founders[2].address,
        "author_handle": "founder2",
        "supporters": [{"address": address, "handle": handle} for address, handle in supporters],
    }
