"""Observer commands: `sync` (index the chain into the cache), `serve` (the API with the indexer inside), `audit`."""

import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from governance.config import get_settings
from governance.errors import CommonsError
from scripts.console import err, out
from scripts.options import ManifestOption, RpcOption

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        metavar="URL",
        help="The cache: sqlite:///path or postgresql://… [env COMMONS_DATABASE_URL, default .state/commons.db].",
    ),
]


def _manifest(rpc: str, manifest: Path | None):
    from governance.manifest import load
    from governance.rpc import Rpc

    return load(Rpc(rpc).chain_id(), manifest)


def sync(
    rpc: RpcOption = None,
    manifest: ManifestOption = None,
    database_url: DatabaseOption = None,
    follow: Annotated[bool, typer.Option("--follow", help="Keep following new blocks until Ctrl-C.")] = False,
    confirmations: Annotated[
        int | None, typer.Option(help="Blocks to wait before indexing one [env COMMONS_CONFIRMATIONS].")
    ] = None,
    to_block: Annotated[int | None, typer.Option("--to-block", metavar="N", help="Index no further than block N.")] = None,
):
    """Index the commons' history into the cache (once, or --follow); safe to kill and rerun at any moment."""
    from api.db import make_engine
    from api.indexing import build_indexer

    rpc = rpc or get_settings().rpc_url
    indexer = build_indexer(_manifest(rpc, manifest), rpc, make_engine(database_url), confirmations)
    indexer.to_block = to_block
    cursor = indexer.sink.cursor()
    start = cursor.number if cursor else indexer.start_block - 1
    with Progress(
        TextColumn("[bold]indexing[/] block"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[events]:,} events"),
        console=err,
        transient=False,
    ) as bar:
        task = bar.add_task("sync", total=None, events=0)

        def progress(block: int, target: int) -> None:
            bar.update(task, total=max(1, target - start), completed=block - start, events=bar.tasks[0].fields["events"])

        applied = indexer.sync(lambda block, target: progress(block, target))
        bar.update(task, events=applied)
    cursor = indexer.sink.cursor()
    out.print(f"Indexed {applied:,} events; the cache is at block {cursor.number if cursor else '-'}.")
    if follow:
        from api.app import error_in_words

        out.print("Following new blocks (Ctrl-C to stop).")
        stop = threading.Event()
        try:  # an error never stops it: said in words (no SQL, no key in a URL), then retried after a back-off
            indexer.follow(stop, on_error=lambda exc: err.print(f"[yellow]retrying:[/] {escape(error_in_words(exc))}"))
        except KeyboardInterrupt:
            stop.set()


def serve(
    rpc: RpcOption = None,
    manifest: ManifestOption = None,
    database_url: DatabaseOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    index: Annotated[bool, typer.Option("--index/--no-index", help="Run the indexer in this process.")] = True,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes (read-only replicas need --no-index).")] = 1,
):
    """Serve the public API, the relay and the web client; the indexer follows the chain in the background."""
    import uvicorn

    from api.app import create_app

    rpc = rpc or get_settings().rpc_url
    commons_manifest = _manifest(rpc, manifest) if index or manifest else None  # the relay's too
    app = create_app(database_url, commons_manifest, rpc, run_indexer=index)
    out.print(f"Serving on http://{host}:{port} (API docs at /docs).")
    # uvloop and httptools (dependencies) are picked up automatically; no access log: it costs more than a cached answer.
    # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1; the app trusts COMMONS_TRUSTED_PROXIES only.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        workers=workers if not index else 1,
        proxy_headers=False,
    )


def audit(
    rpc: RpcOption = None,
    manifest: ManifestOption = None,
    database_url: DatabaseOption = None,
    api: Annotated[str | None, typer.Option("--api", help="Audit a running API at this URL instead of the local cache.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    accept_power_outside_the_vote: Annotated[
        bool,
        typer.Option(
            "--accept-power-outside-the-vote",
            help="Exit 0 even if someone besides the governor can act on the treasury or membership without a vote.",
        ),
    ] = False,
):
    """Re-derive everything from the chain alone and compare it with the cache (or an API); exit 1 on any difference,
    or on power outside the vote unless --accept-power-outside-the-vote."""
    import json

    from governance.audit import ApiSource
    from governance.audit import audit as run_audit
    from governance.chain import connect

    rpc = rpc or get_settings().rpc_url
    commons_manifest = _manifest(rpc, manifest)
    if api:
        source = ApiSource(api)
    else:
        from api.audit_source import CacheSource

        source = CacheSource(database_url)
    try:
        report = run_audit(connect(rpc), rpc, commons_manifest, source)
    except CommonsError as exc:
        if api and "answered 404" in str(exc):
            raise CommonsError(f"{exc} Give the API's base URL, without /api (e.g. http://127.0.0.1:8000).") from exc
        raise
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "ok": report.ok,
                    "block": report.block,
                    "block_hash": report.block_hash,
                    "checked": report.checked,
                    "log_head_hash": report.log_head_hash,
                    "findings": [{"area": f.area, "what": f.what} for f in report.findings],
                    "timelock_roles": report.timelock_roles,
                    "power_outside_the_vote": report.power_outside_the_vote,
                }
            )
        )
    else:
        what = f"the API at {api}" if api else "the cache"
        out.print(f"Audited {what} against the chain at block {report.block} ({report.block_hash}).")
        for name, number in report.checked.items():
            out.print(f"  checked {number:,} {name}")
        out.print(f"  decision-log head hash: {report.log_head_hash or '-'}")
        out.print("Timelock roles now:")
        for role, holders in report.timelock_roles.items():
            out.print(f"  {role}: {', '.join(holders) or 'nobody'}")
        if report.power_outside_the_vote:
            accepted = " (accepted with --accept-power-outside-the-vote)" if accept_power_outside_the_vote else ""
            out.print(f"[bold red]Power outside the vote{accepted}:[/]")
            for finding in report.power_outside_the_vote:
                out.print(f"  [red]⚠[/] {escape(finding)}")
        else:
            out.print("No power outside the vote: only the governor schedules and cancels; anyone may execute.")
        if report.ok:
            out.print("[bold green]No differences:[/] everything the cache says, the chain says.")
        else:
            out.print(f"[bold red]{len(report.findings)} difference(s):[/]")
            for finding in report.findings:
                out.print(f"  [red]{finding.area}[/]: {escape(finding.what)}")
    if not report.ok or (report.power_outside_the_vote and not accept_power_outside_the_vote):
        sys.exit(1)


def register(app: typer.Typer) -> None:
    """Add the observer commands to the `commons` command (its entry point turns CommonsError into a message)."""
    app.command("sync")(sync)
    app.command("serve")(serve)
    app.command("audit")(audit)
