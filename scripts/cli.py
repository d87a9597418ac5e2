"""The `commons` command for stewards (and members who like a terminal): parse, call `governance`, print."""

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from governance import actions as act
from governance.audit import ApiSource
from governance.ballots import parse_support
from governance.chain import NodeSigner, Signer, connect, load_key_signer
from governance.client import Commons, Plan, ProposalView, when
from governance.compiler import compile_contracts
from governance.config import get_settings
from governance.errors import CommonsError, InvalidInput, Reverted
from governance.manifest import CommonsSettings, save
from scripts import observe
from scripts.action_file import read_actions
from scripts.console import JsonOption, ManifestOption, RpcOption, fail, out

app = typer.Typer(help="Govern a commons on an EVM chain: deploy, propose, vote, queue, execute, read.",
                  no_args_is_help=True, add_completion=False)
node_app = typer.Typer(help="The local anvil node (state kept in .state/anvil-state.json).", no_args_is_help=True)
propose_app = typer.Typer(help="Submit a proposal (stewards only). The text is Markdown from --text FILE, first line '# Title'.",
                          no_args_is_help=True)
relay_app = typer.Typer(help="The vote relay, which pays the gas of members' signed ballots so voting costs them nothing.",
                        no_args_is_help=True)
app.add_typer(node_app, name="node")
app.add_typer(propose_app, name="propose")
app.add_typer(relay_app, name="relay")
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show and simulate, but send nothing.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
DevAccountOption = Annotated[Optional[int], typer.Option(
    "--dev-account", help="Act as the local node's unlocked development account N (anvil only; no key involved).")]
def rpc_url(rpc: Optional[str]) -> str:
    return rpc or get_settings().rpc_url


def open_commons(rpc: Optional[str], manifest: Optional[Path]) -> Commons:
    return Commons.connect(rpc_url(rpc), manifest)


def signer_for(commons_w3, dev_account: Optional[int]) -> Signer:
    """The key from the keystore or environment; or, on anvil only, an unlocked development account."""
    if dev_account is not None:
        if "anvil" not in commons_w3.client_version.lower():
            raise InvalidInput("--dev-account works only on a local anvil node; use a keystore or COMMONS_PRIVATE_KEY.")
        accounts = commons_w3.eth.accounts
        if not 0 <= dev_account < len(accounts):
            raise InvalidInput(f"The node has development accounts 0 to {len(accounts) - 1}, not {dev_account}.")
        return NodeSigner(accounts[dev_account])
    settings = get_settings()
    password = settings.keystore_password.get_secret_value() if settings.keystore_password else None
    if settings.keystore and password is None and sys.stdin.isatty():
        password = typer.prompt(f"Password for {settings.keystore}", hide_input=True)
    key = settings.private_key.get_secret_value() if settings.private_key else None
    return load_key_signer(str(settings.keystore) if settings.keystore else None, password, key)


def carry_out(commons: Commons, plan: Plan, dev_account: Optional[int], dry_run: bool, yes: bool, as_json: bool) -> dict:
    """Show the plan in words, simulate it, and (unless --dry-run) confirm, sign and send it."""
    signer = signer_for(commons.w3, dev_account)
    if not as_json:
        out.print(f"[bold]{escape(plan.summary)}[/]  (from {signer.address})")
        for line in plan.details:
            out.print(f"  • {escape(line)}")
    commons.simulate(plan, signer.address)
    if not as_json:
        out.print("[green]Simulation succeeded.[/]")
    if dry_run:
        return {"sent": False, "simulated": True, "summary": plan.summary, "actions": plan.details}
    if not yes and not as_json and sys.stdin.isatty() and not typer.confirm("Send it?", default=True):
        raise typer.Exit(1)
    receipt = commons.submit(plan, signer)
    result = {"sent": True, "summary": plan.summary, "actions": plan.details, "transaction": receipt["transactionHash"].to_0x_hex(),
              "block": receipt["blockNumber"], "gasUsed": receipt["gasUsed"]}
    if not as_json:
        out.print(f"[green]Done[/] in block {result['block']}: {result['transaction']} (gas {result['gasUsed']:,})")
    return result


def print_json(data) -> None:
    out.print_json(json.dumps(data, default=str))


# ---- node -----------------------------------------------------------------------------------

@node_app.command("start")
def node_start(port: int = typer.Option(8545, help="Port on 127.0.0.1."),
               block_time: Optional[float] = typer.Option(None, help="Mine a block every N seconds (default: on each transaction).")):
    """Start the local anvil node in the background; its state survives restarts."""
    from governance.node import background_node, start_background_node

    running = background_node()
    if running:
        out.print(f"The local node already runs at {running['url']} (pid {running['pid']}).")
        return
    url, pid = start_background_node(port, block_time)
    out.print(f"Local node listening at [bold]{url}[/] (pid {pid}); state in {get_settings().state_dir / 'anvil-state.json'}.")


@node_app.command("stop")
def node_stop():
    """Stop the local node; it saves its state first."""
    from governance.node import stop_background_node

    out.print("Local node stopped; state saved." if stop_background_node() else "No local node was running.")


@node_app.command("status")
def node_status():
    """Say whether the local node runs and where."""
    from governance.node import background_node

    running = background_node()
    out.print(f"Running at {running['url']} (pid {running['pid']})." if running else "Not running.")


# ---- build and deploy -----------------------------------------------------------------------

@app.command("compile")
def compile_command(force: bool = typer.Option(False, help="Rebuild even if nothing changed.")):
    """Compile the contracts (artifacts in build/, reused until a source or setting changes)."""
    artifacts = compile_contracts(force=force)
    table = Table("contract", "deployed size (bytes)", "limit")
    for name, artifact in artifacts.items():
        if artifact.deployed_size:
            table.add_row(name, f"{artifact.deployed_size:,}", "24,576")
    out.print(table)


def _parse_founder(text: str) -> tuple[str, str]:
    address, sep, handle = text.partition("=")
    if not sep or not handle.strip():
        raise InvalidInput(f"A founder is ADDRESS=handle, not {text!r}.")
    return act.checked_address(address.strip(), "founder"), handle.strip()


@app.command()
def deploy(
    name: Annotated[str, typer.Option(help="The commons' name, e.g. 'Riverside Community Garden'.")],
    founder: Annotated[list[str], typer.Option(help="A founding member as ADDRESS=handle; repeat for each.")],
    steward: Annotated[list[str], typer.Option(help="A founding steward's address; repeat for each.")],
    voting_delay: str = typer.Option("1m", help="Time from proposal to the vote opening (snapshot)."),
    voting_period: str = typer.Option("3d", help="How long voting stays open."),
    quorum: int = typer.Option(30, help="Quorum: percent of members at the snapshot who must vote For or Abstain."),
    late_quorum_extension: str = typer.Option("1d", help="Voting stays open at least this long after quorum is reached."),
    timelock_delay: str = typer.Option("1d", help="Time between a passed proposal being queued and executed."),
    rpc: RpcOption = None, dev_account: DevAccountOption = None, dry_run: DryRunOption = False, as_json: JsonOption = False,
):
    """Deploy a commons (timelock treasury, membership, governor) and write its manifest."""
    from governance.deploy import deploy_commons, validate

    founders = [_parse_founder(f) for f in founder]
    stewards = [act.checked_address(s, "steward") for s in steward]
    settings = CommonsSettings(act.parse_duration(voting_delay), act.parse_duration(voting_period), quorum,
                               act.parse_duration(late_quorum_extension), act.parse_duration(timelock_delay))
    validate(name, founders, settings)
    w3 = connect(rpc_url(rpc))
    signer = signer_for(w3, dev_account)
    if not as_json:
        out.print(f"[bold]Deploy “{escape(name)}”[/] on chain {w3.eth.chain_id} (from {signer.address})")
        out.print(f"  • {len(founders)} founding members: {escape(', '.join(h for _, h in founders))}")
        out.print(f"  • stewards: {', '.join(stewards) or 'none (members can appoint them later)'}")
        out.print(f"  • {settings}")
        out.print("  • afterwards the deployer keeps no role: the timelock owns membership and treasury")
    if dry_run:
        return
    manifest = deploy_commons(w3, signer, name, founders, stewards, settings)
    path = save(manifest)
    if as_json:
        print_json(asdict(manifest))
    else:
        out.print(f"Deployed “{escape(manifest.name)}” on chain {manifest.chain_id}: governor {manifest.governor}, "
                  f"membership {manifest.membership}, treasury {manifest.timelock}. Manifest: {path}")


@app.command()
def demo(rpc: RpcOption = None, as_json: JsonOption = False):
    """Seed the demo commons on the local node (once; later runs say it is there)."""
    from governance.demo import RELAYER_ETH, provision_relayer, seed_demo
    from governance.manifest import default_path

    w3 = connect(rpc_url(rpc))
    path = default_path(w3.eth.chain_id)
    existing = Commons.connect(rpc_url(rpc)).manifest if path.is_file() else None
    if existing and w3.eth.get_code(existing.governor):
        manifest = existing
        if not as_json:
            out.print(f"A commons is already deployed on this chain: “{escape(manifest.name)}” ({path}).")
    else:
        manifest = seed_demo(w3, report=(lambda _: None) if as_json else out.print)
        save(manifest)
    state_dir = get_settings().state_dir
    relayer = provision_relayer(w3, state_dir / "relayer-keystore.json", state_dir / "relayer-password")
    if as_json:
        print_json(asdict(manifest) | {"relayer": relayer})
    else:
        out.print(f"Demo commons “{escape(manifest.name)}” ready; governor {manifest.governor}.")
        out.print(f"Vote relayer {relayer} funded with {RELAYER_ETH} ETH; its key is encrypted in {state_dir / 'relayer-keystore.json'}.")


# ---- proposing --------------------------------------------------------------------------------

TextOption = Annotated[Path, typer.Option("--text", help="Markdown file with the proposal text; first line '# Title'.")]


def _propose(commons: Commons, proposal_actions: list, text: Path, dev_account, dry_run, yes, as_json):
    if not text.is_file():
        raise InvalidInput(f"The proposal text file {text} does not exist.")
    description = text.read_text()
    result = carry_out(commons, commons.plan_propose(proposal_actions, description), dev_account, dry_run, yes, as_json)
    result["proposalId"] = str(commons.proposal_id_of(proposal_actions, description))
    if as_json:
        print_json(result)
    elif result["sent"]:
        out.print(f"Proposal id: [bold]{result['proposalId']}[/]")


@propose_app.command("admit")
def propose_admit(address: str, handle: str, text: TextOption, rpc: RpcOption = None, manifest: ManifestOption = None,
                  dev_account: DevAccountOption = None, dry_run: DryRunOption = False, yes: YesOption = False, as_json: JsonOption = False):
    """Propose admitting ADDRESS as a member with HANDLE."""
    commons = open_commons(rpc, manifest)
    _propose(commons, [act.admit(commons.addresses, address, handle)], text, dev_account, dry_run, yes, as_json)


@propose_app.command("remove")
def propose_remove(address: str, text: TextOption, rpc: RpcOption = None, manifest: ManifestOption = None,
                   dev_account: DevAccountOption = None, dry_run: DryRunOption = False, yes: YesOption = False, as_json: JsonOption = False):
    """Propose removing member ADDRESS."""
    commons = open_commons(rpc, manifest)
    _propose(commons, [act.remove(commons.addresses, address)], text, dev_account, dry_run, yes, as_json)


@propose_app.command("appoint")
def propose_appoint(address: str, text: TextOption, rpc: RpcOption = None, manifest: ManifestOption = None,
                    dev_account: DevAccountOption = None, dry_run: DryRunOption = False, yes: YesOption = False, as_json: JsonOption = False):
    """Propose appointing ADDRESS as a steward."""
    commons = open_commons(rpc, manifest)
    _propose(commons, [act.appoint_steward(commons.addresses, address)], text, dev_account, dry_run, yes, as_json)


@propose_app.command("recall")
def propose_recall(address: str, text: TextOption, rpc: RpcOption = None, manifest: ManifestOption = None,
                   dev_account: DevAccountOption = None, dry_run: DryRunOption = False, yes: YesOption = False, as_json: JsonOption = False):
    """Propose recalling steward ADDRESS."""
    commons = open_commons(rpc, manifest)
    _propose(commons, [act.recall_steward(commons.addresses, address)], text, dev_account, dry_run, yes, as_json)


@propose_app.command("pay")
def propose_pay(recipient: str, amount_eth: str, text: TextOption, rpc: RpcOption = None, manifest: ManifestOption = None,
                dev_account: DevAccountOption = None, dry_run: DryRunOption = False, yes: YesOption = False, as_json: JsonOption = False):
    """Propose paying AMOUNT_ETH (e.g. 1.5) from the treasury to RECIPIENT."""
    commons = open_commons(rpc, manifest)
    _propose(commons, [act.pay(recipient, act.parse_eth(amount_eth))], text, dev_account, dry_run, yes, as_json)


@propose_app.command("setting")
def propose_setting(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(act.SETTINGS)}.")],
    value: Annotated[str, typer.Argument(help="Seconds or a duration (90s, 2h, 3d); the quorum in percent.")],
    text: TextOption, rpc: RpcOption = None, manifest: ManifestOption = None,
    dev_account: DevAccountOption = None, dry_run: DryRunOption = False, yes: YesOption = False, as_json: JsonOption = False,
):
    """Propose changing a governance setting."""
    commons = open_commons(rpc, manifest)
    _propose(commons, [act.change_setting(commons.addresses, name, act.setting_value(name, value))], text, dev_account,
             dry_run, yes, as_json)


@propose_app.command("call")
def propose_call(
    target: str,
    signature: Annotated[str, typer.Argument(help="Function signature, e.g. 'transfer(address,uint256)'.")],
    args: Annotated[str, typer.Argument(help="Arguments as a JSON list, e.g. '[\"0xabc…\", 5]'.")] = "[]",
    text: TextOption = Path("proposal.md"), value_eth: str = typer.Option("0", "--value", help="ETH sent with the call."),
    rpc: RpcOption = None, manifest: ManifestOption = None,
    dev_account: DevAccountOption = None, dry_run: DryRunOption = False, yes: YesOption = False, as_json: JsonOption = False,
):
    """Propose any contract call from the treasury."""
    try:
        parsed = json.loads(args)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"The arguments are not a JSON list: {exc.msg}.") from exc
    if not isinstance(parsed, list):
        raise InvalidInput("The arguments must be a JSON list.")
    value = act.parse_call_value(value_eth)
    commons = open_commons(rpc, manifest)
    _propose(commons, [act.contract_call(target, signature, parsed, value)], text, dev_account, dry_run, yes, as_json)


@propose_app.command("several")
def propose_several(
    actions_file: Annotated[Path, typer.Argument(help="TOML file with one [[action]] table per action, carried out in order.")],
    text: TextOption, rpc: RpcOption = None, manifest: ManifestOption = None,
    dev_account: DevAccountOption = None, dry_run: DryRunOption = False, yes: YesOption = False, as_json: JsonOption = False,
):
    """Propose several actions at once, decided by one vote and carried out together (all or none).

    Each [[action]] has a `kind` and the arguments of the single-action command of that name: admit (address, handle),
    remove (address), appoint (address), recall (address), pay (recipient, eth), setting (name, value),
    call (target, signature, args, value_eth).
    """
    commons = open_commons(rpc, manifest)
    _propose(commons, read_actions(actions_file, commons.addresses), text, dev_account, dry_run, yes, as_json)


# ---- the vote relay -----------------------------------------------------------------------------

ApiOption = Annotated[str, typer.Option("--api", help="The commons' API, which runs the relay.")]
LOCAL_API = "http://127.0.0.1:8000"  # where `commons serve` listens by default
# Gas per relayed vote in a batch of ten (benchmarks/bench_relay.py measures 58.3k), for "votes left".
RELAYED_VOTE_GAS = 60_000


@relay_app.command("status")
def relay_status(api: ApiOption = LOCAL_API, rpc: RpcOption = None, as_json: JsonOption = False):
    """The relay's account, its balance and about how many votes it can still pay for, and ballots under way."""
    status = ApiSource(api).get("/api/relay/status")
    balance, gas_price = int(status["balance_wei"]), connect(rpc_url(rpc)).eth.gas_price
    status["votes_left_at_current_gas_price"] = balance // (gas_price * RELAYED_VOTE_GAS) if gas_price else None
    if as_json:
        return print_json(status)
    votes_left = status["votes_left_at_current_gas_price"]
    out.print(f"Vote relay {status['address']} holds {act.format_eth(balance)}"
              + (f", enough for about {votes_left:,} votes at {gas_price / 10**9:.2f} gwei." if votes_left is not None else "."))
    if status["available"]:
        out.print(f"It accepts ballots; {status['queued']} queued, {status['in_flight']} in flight.")
    else:
        out.print(f"[bold red]It refuses ballots[/] until it holds at least {act.format_eth(int(status['min_balance_wei']))}: "
                  "`commons relay fund AMOUNT` tops it up.")


@relay_app.command("fund")
def relay_fund(amount_eth: str, api: ApiOption = LOCAL_API, rpc: RpcOption = None,
               manifest: ManifestOption = None, dev_account: DevAccountOption = None, dry_run: DryRunOption = False,
               yes: YesOption = False, as_json: JsonOption = False):
    """Send AMOUNT_ETH (e.g. 0.5) from your account to the relay of this commons, so members keep voting for free."""
    source = ApiSource(api)
    config = source.get("/api/relay/config")
    commons = open_commons(rpc, manifest)
    m = commons.manifest
    if (config["chain_id"], config["governor"]) != (m.chain_id, m.governor):
        raise InvalidInput(f"The API at {api} relays for the commons {config['governor']} on chain {config['chain_id']}, "
                           f"not for “{m.name}” ({m.governor} on chain {m.chain_id}).")
    wei = act.parse_eth(amount_eth)
    balance = int(source.get("/api/relay/status")["balance_wei"])
    plan = Plan("fund", f"Send {act.format_eth(wei)} to the vote relay {config['relayer']}",
                [f"It holds {act.format_eth(balance)} and pays the gas of members' signed ballots for “{m.name}”."],
                config["relayer"], b"", wei)
    result = carry_out(commons, plan, dev_account, dry_run, yes, as_json)
    if as_json:
        print_json(result)


# ---- voting and the proposal lifecycle --------------------------------------------------------

def parse_proposal_id(commons: Commons, text: str) -> int:
    """The proposal id from its full id or its number in the commons (#3 or 3)."""
    try:
        value = int(text.lstrip("#"), 0)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a proposal id or number.") from None
    if value <= 0:
        raise InvalidInput(f"{text!r} is not a proposal id or number (a positive number).")
    return commons.resolve_proposal_id(value)


@app.command()
def vote(proposal_id: str, support: Annotated[str, typer.Argument(help="for, against or abstain")],
         reason: str = typer.Option("", help="Why you vote so; kept on-chain with the vote."),
         rpc: RpcOption = None, manifest: ManifestOption = None, dev_account: DevAccountOption = None,
         dry_run: DryRunOption = False, yes: YesOption = False, as_json: JsonOption = False):
    """Vote on a proposal from the terminal (members; the web page offers gasless voting)."""
    commons = open_commons(rpc, manifest)
    result = carry_out(commons, commons.plan_vote(parse_proposal_id(commons, proposal_id), parse_support(support), reason),
                       dev_account, dry_run, yes, as_json)
    if as_json:
        print_json(result)


def _lifecycle(step: str, proposal_id: str, rpc, manifest, dev_account, dry_run, yes, as_json):
    commons = open_commons(rpc, manifest)
    result = carry_out(commons, commons.plan_lifecycle(step, parse_proposal_id(commons, proposal_id)), dev_account, dry_run, yes, as_json)
    if as_json:
        print_json(result)


@app.command()
def queue(proposal_id: str, rpc: RpcOption = None, manifest: ManifestOption = None, dev_account: DevAccountOption = None,
          dry_run: DryRunOption = False, yes: YesOption = False, as_json: JsonOption = False):
    """Queue a passed proposal in the timelock."""
    _lifecycle("queue", proposal_id, rpc, manifest, dev_account, dry_run, yes, as_json)


@app.command()
def execute(proposal_id: str, rpc: RpcOption = None, manifest: ManifestOption = None, dev_account: DevAccountOption = None,
            dry_run: DryRunOption = False, yes: YesOption = False, as_json: JsonOption = False):
    """Execute a queued proposal once the timelock delay has passed."""
    _lifecycle("execute", proposal_id, rpc, manifest, dev_account, dry_run, yes, as_json)


@app.command()
def cancel(proposal_id: str, rpc: RpcOption = None, manifest: ManifestOption = None, dev_account: DevAccountOption = None,
           dry_run: DryRunOption = False, yes: YesOption = False, as_json: JsonOption = False):
    """Cancel your own proposal before voting starts."""
    _lifecycle("cancel", proposal_id, rpc, manifest, dev_account, dry_run, yes, as_json)


@app.command()
def delegate(to: Annotated[str, typer.Argument(help="A member's address; your own to take your vote back.")],
             rpc: RpcOption = None, manifest: ManifestOption = None, dev_account: DevAccountOption = None,
             dry_run: DryRunOption = False, yes: YesOption = False, as_json: JsonOption = False):
    """Delegate your vote to another member, or back to yourself."""
    commons = open_commons(rpc, manifest)
    result = carry_out(commons, commons.plan_delegate(to), dev_account, dry_run, yes, as_json)
    if as_json:
        print_json(result)


@app.command()
def resign(rpc: RpcOption = None, manifest: ManifestOption = None, dev_account: DevAccountOption = None,
           dry_run: DryRunOption = False, yes: YesOption = False, as_json: JsonOption = False):
    """Leave the commons (anyone may, at any time)."""
    commons = open_commons(rpc, manifest)
    result = carry_out(commons, commons.plan_resign(), dev_account, dry_run, yes, as_json)
    if as_json:
        print_json(result)


# ---- reading ----------------------------------------------------------------------------------

def _proposal_json(view: ProposalView) -> dict:
    data = asdict(view)
    data["id"] = str(view.id)
    data["actions"] = [{"target": a.target, "value": str(a.value), "calldata": "0x" + a.calldata.hex()} for a in view.actions]
    data["quorumReached"] = view.quorum_votes >= view.quorum
    return data


@app.command()
def info(rpc: RpcOption = None, manifest: ManifestOption = None, as_json: JsonOption = False):
    """The commons: name, addresses, settings, counts, treasury."""
    view = open_commons(rpc, manifest).overview()
    if as_json:
        data = asdict(view)
        data["treasury_wei"] = str(view.treasury_wei)
        return print_json(data)
    out.print(f"[bold]{escape(view.name)}[/] on chain {view.chain_id}")
    for role, address in view.addresses.items():
        out.print(f"  {role:<11} {address}")
    s = view.settings
    out.print(f"  members {view.member_count}, proposals {view.proposal_count}, treasury {act.format_eth(view.treasury_wei)}")
    out.print(f"  voting delay {s.voting_delay}s, period {s.voting_period}s, quorum {s.quorum_percent}%, "
              f"late-quorum extension {s.late_quorum_extension}s, timelock delay {s.timelock_delay}s")


@app.command()
def members(rpc: RpcOption = None, manifest: ManifestOption = None, as_json: JsonOption = False):
    """Current members with handle, delegate and votes."""
    views = open_commons(rpc, manifest).members()
    if as_json:
        return print_json([asdict(v) for v in views])
    table = Table("#", "handle", "address", "votes", "delegates to", "steward")
    for v in views:
        table.add_row(str(v.token_id), escape(v.handle), v.address, str(v.votes), "self" if v.delegate == v.address else v.delegate,
                      "yes" if v.steward else "")
    out.print(table)


@app.command()
def stewards(rpc: RpcOption = None, manifest: ManifestOption = None, as_json: JsonOption = False):
    """Current stewards."""
    addresses = open_commons(rpc, manifest).stewards()
    if as_json:
        return print_json(addresses)
    for address in addresses:
        out.print(address)


@app.command()
def proposals(state: Optional[str] = typer.Option(None, help="Only proposals in this state (active, executed, …)."),
              rpc: RpcOption = None, manifest: ManifestOption = None, as_json: JsonOption = False):
    """All proposals with state and tallies."""
    from governance.reverts import PROPOSAL_STATES

    if state and state not in PROPOSAL_STATES:
        raise InvalidInput(f"Unknown state {state!r}; choose one of {', '.join(PROPOSAL_STATES)}.")
    commons = open_commons(rpc, manifest)
    views = [v for v in commons.proposals() if not state or v.state == state]
    if as_json:
        return print_json([_proposal_json(v) for v in views])
    table = Table("#", "title", "state", "for", "against", "abstain", "quorum", "deadline")
    numbers = {pid: n for n, pid in enumerate(commons.proposal_ids(), start=1)}
    for v in views:
        table.add_row(str(numbers[v.id]), escape(v.title), v.state, str(v.votes_for), str(v.votes_against), str(v.votes_abstain),
                      f"{v.quorum_votes}/{v.quorum}", when(v.deadline))
    out.print(table)


@app.command()
def proposal(proposal_id: str, rpc: RpcOption = None, manifest: ManifestOption = None, as_json: JsonOption = False):
    """One proposal: text, actions in words, tallies, quorum progress and state."""
    commons = open_commons(rpc, manifest)
    view = commons.proposal(parse_proposal_id(commons, proposal_id))
    if as_json:
        return print_json(_proposal_json(view))
    out.print(f"[bold]{escape(view.title)}[/]  ({view.state})")
    out.print(f"id {view.id}\nproposed by {view.proposer}")
    out.print(f"voting {when(view.snapshot)} → {when(view.deadline)}" + (f"; executable after {when(view.eta)}" if view.eta else ""))
    out.print("Actions:")
    for line in view.actions_in_words:
        out.print(f"  • {escape(line)}")
    out.print(f"For {view.votes_for} · Against {view.votes_against} · Abstain {view.votes_abstain}; "
              f"quorum {view.quorum_votes}/{view.quorum} {'reached' if view.quorum_votes >= view.quorum else 'not reached'}")
    out.print("\n" + escape(view.description))


observe.register(app)


def main() -> None:
    """Entry point: every library error reaches the user as a sentence and a non-zero exit."""
    try:
        app()
    except Reverted as exc:
        fail(f"the chain refused: {exc.reason}.")
    except CommonsError as exc:
        fail(str(exc))


if __name__ == "__main__":
    main()
