"""`commons compile`, `deploy` and `demo`: build the contracts and put a commons on a chain."""

import time
from dataclasses import asdict
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from governance import actions as act
from governance.chain import connect
from governance.client import Commons
from governance.compiler import compile_contracts
from governance.config import get_settings
from governance.errors import InvalidInput
from governance.manifest import CommonsSettings, default_path, save
from governance.node import mining_each_transaction
from scripts.console import duration, eth, out, print_json, settings_in_words
from scripts.options import DevAccountOption, DryRunOption, JsonOption, RpcOption
from scripts.sending import signer_for


def compile_command(force: Annotated[bool, typer.Option(help="Rebuild even if nothing changed.")] = False):
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


def deploy(
    name: Annotated[str, typer.Option(help="The commons' name, e.g. 'Riverside Community Garden'.")],
    founder: Annotated[list[str], typer.Option(metavar="ADDRESS=HANDLE", help="A founding member; repeat for each.")],
    steward: Annotated[list[str], typer.Option(metavar="ADDRESS", help="A founding steward; repeat for each.")],
    voting_delay: Annotated[str, typer.Option(help="Time from proposal to the vote opening (snapshot).")] = "1m",
    voting_period: Annotated[str, typer.Option(help="How long voting stays open.")] = "3d",
    quorum: Annotated[int, typer.Option(help="Quorum: percent of members at the snapshot who must vote For or Abstain.")] = 30,
    late_quorum_extension: Annotated[
        str, typer.Option(help="Voting stays open at least this long after quorum is reached.")
    ] = "1d",
    timelock_delay: Annotated[str, typer.Option(help="Time between a passed proposal being queued and executed.")] = "1d",
    rpc: RpcOption = None,
    dev_account: DevAccountOption = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
):
    """Deploy a commons (timelock treasury, membership, governor) and write its manifest."""
    from governance.deploy import deploy_commons, validate

    founders = [_parse_founder(f) for f in founder]
    stewards = [act.checked_address(s, "steward") for s in steward]
    settings = CommonsSettings(
        act.parse_duration(voting_delay),
        act.parse_duration(voting_period),
        quorum,
        act.parse_duration(late_quorum_extension),
        act.parse_duration(timelock_delay),
    )
    validate(name, founders, settings)
    w3 = connect(rpc or get_settings().rpc_url)
    signer = signer_for(w3, dev_account)
    if dry_run and as_json:
        return print_json({"sent": False, "name": name, "founders": founders, "stewards": stewards, "settings": asdict(settings)})
    if not as_json:
        out.print(f"[bold]Deploy “{escape(name)}”[/] on chain {w3.eth.chain_id} (from {signer.address})")
        out.print(f"  • {len(founders)} founding members: {escape(', '.join(h for _, h in founders))}")
        out.print(f"  • stewards: {', '.join(stewards) or 'none (members can appoint them later)'}")
        out.print(f"  • {settings_in_words(settings)}")
        out.print("  • afterwards the deployer keeps no role: the timelock owns membership and treasury")
    if dry_run:
        return
    manifest = deploy_commons(w3, signer, name, founders, stewards, settings)
    path = save(manifest)
    if as_json:
        print_json(asdict(manifest))
    else:
        out.print(
            f"Deployed “{escape(manifest.name)}” on chain {manifest.chain_id}: governor {manifest.governor}, "
            f"membership {manifest.membership}, treasury {manifest.timelock}. Manifest: {path}"
        )


def demo(rpc: RpcOption = None, as_json: JsonOption = False):
    """Seed the demo commons on the local node (once; later runs say it is there)."""
    from governance.demo import provision_relayer, seed_demo

    w3 = connect(rpc or get_settings().rpc_url)
    path = default_path(w3.eth.chain_id)
    existing = Commons.connect(rpc or get_settings().rpc_url).manifest if path.is_file() else None
    if existing and w3.eth.get_code(existing.governor):
        manifest = existing
        if not as_json:
            out.print(f"A commons is already deployed on this chain: “{escape(manifest.name)}” ({path}).")
    else:
        with mining_each_transaction(w3):
            manifest = seed_demo(w3, report=(lambda _: None) if as_json else out.print)
        save(manifest)
    state_dir = get_settings().state_dir
    keystore = state_dir / "relayer-keystore.json"
    new_relayer = not keystore.is_file()
    with mining_each_transaction(w3):
        relayer = provision_relayer(w3, keystore, state_dir / "relayer-password")
    if as_json:
        return print_json(asdict(manifest) | {"relayer": relayer})
    out.print(f"Demo commons “{escape(manifest.name)}” ready; governor {manifest.governor}.")
    out.print(
        f"Vote relayer {relayer} {'made and funded' if new_relayer else 'ready'}: it holds {eth(w3.eth.get_balance(relayer))}; "
        f"its key is encrypted in {keystore}."
    )
    ahead = Commons(w3, manifest).chain_time() - int(time.time())
    if ahead > 3600:
        out.print(
            f"The demo's history moved the local chain's clock {duration(ahead)} ahead of the wall clock "
            "(its proposals were voted on, queued and executed in simulated days)."
        )
