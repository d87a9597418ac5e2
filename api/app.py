"""create_app(): the public read API, the relay, the web client, security headers, and the indexer in the background."""

import logging
import threading
import time
import traceback
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from sqlalchemy import exc as sa_exc

from api.answer_cache import AnswerCache, CachedAnswers, CursorProbe
from api.db import make_engine, migrate
from api.docs import router as docs_router
from api.errors import add_error_handlers
from api.hooks.delivery import start_worker
from api.limits import RequestLimits
from api.reminders.delivery import start_worker as start_reminders
from api.routes import calendar, commons, decisions, feeds, health, hooks, members, proposals, relay, reminders, stats, web
from api.routes import initiatives as initiative_routes
from api.routes import treasury as treasury_routes
from api.schemas import IndexerHealth
from governance.config import get_settings
from governance.errors import CommonsError
from governance.indexer import Backoff
from governance.manifest import Manifest
from governance.redaction import redact

STATIC_DIR = Path(__file__).with_name("static")
log = logging.getLogger("commons.api")

# One policy for every path: the web client and the docs page (api/docs.py) are same-origin files only, with no
# inline script, so no path can be dressed up to get a looser one.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"content-security-policy", CSP.encode()),
]


class SecurityHeaders:
    """Adds CSP and the usual hardening headers to every response (a plain ASGI middleware: no per-request task)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BackgroundIndexer:
    """The indexer following the chain in a thread of the API process (one writer; the routes only read).

    It never stops for good before `stop()`: `Indexer.follow` reports any error, backs off (1 s doubling to 60 s) and
    retries from the cursor. This keeps what /api/health tells (`health()`) and logs each distinct error once with its
    traceback, each retry in one line, and the recovery.
    """

    def __init__(self, manifest: Manifest, rpc_url: str, engine, unhealthy_after: float | None = None):
        from api.indexing import build_indexer

        self.indexer = build_indexer(manifest, rpc_url, engine, upgrade=False)
        self.unhealthy_after = get_settings().indexer_unhealthy_after_seconds if unhealthy_after is None else unhealthy_after
        self.backoff = Backoff()
        self.stop_event = threading.Event()
        self.lock = threading.Lock()  # the thread writes what follows; health() reads it
        self.state = "starting"
        self.since = time.time()
        self.failures = 0
        self.failing_since: float | None = None  # time.monotonic() of the first failure in a row
        self.retry_at: float | None = None  # time.monotonic()
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.logged: set[tuple[str, str]] = set()  # errors logged with their traceback since the last success
        self.thread = threading.Thread(target=self._run, name="commons-indexer", daemon=True)

    def _failed(self, exc: Exception) -> None:
        words = error_in_words(exc)  # shown by /api/health: no node URL with its key
        now = time.monotonic()
        with self.lock:
            if self.failures == 0:
                self.state, self.since, self.failing_since = "retrying", time.time(), now
            self.failures += 1
            self.last_error, self.last_error_at = words, time.time()
            self.retry_at = now + self.backoff.delay
        key = (type(exc).__qualname__, words)
        if key in self.logged:
            log.warning("indexer: failed again (%d in a row): %s; next try in %.0f s", self.failures, words, self.backoff.delay)
            return
        self.logged.add(key)
        if isinstance(exc, CommonsError):  # the node down or refusing: said in words, no code to debug
            log.error("indexer: %s; trying again from the cursor in %.0f s", words, self.backoff.delay)
            return
        trace = redact("".join(traceback.format_exception(exc)))
        log.error("indexer: %s; trying again from the cursor in %.0f s\n%s", words, self.backoff.delay, trace)

    def _followed(self) -> None:
        if self.state == "following":  # called after every poll: nothing to do unless it just recovered
            return
        with self.lock:
            failures, failing_since = self.failures, self.failing_since
            self.state, self.since, self.failures, self.failing_since, self.retry_at = "following", time.time(), 0, None, None
        self.logged.clear()
        if failures:
            log.warning("indexer: following again after %d failed tries over %.0f s", failures, time.monotonic() - failing_since)

    def _run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.indexer.follow(self.stop_event, on_error=self._failed, on_success=self._followed, backoff=self.backoff)
            except Exception as exc:  # only if reporting itself failed; still never stop following for good
                log.error("indexer: reporting an error failed\n%s", redact("".join(traceback.format_exception(exc))))
                self.stop_event.wait(self.backoff.failed(exc))
        with self.lock:
            self.state, self.since, self.retry_at = "stopped", time.time(), None

    def health(self) -> IndexerHealth:
        """What /api/health says of the indexer; unhealthy once it has failed for longer than `unhealthy_after`."""
        now = time.monotonic()
        with self.lock:
            running = self.thread.is_alive()
            state = self.state if running else "stopped"
            failing_for = now - self.failing_since if self.failing_since is not None else None
            retry_in = max(0.0, self.retry_at - now) if self.retry_at is not None and state == "retrying" else None
            failures, since, last_error, last_error_at = self.failures, self.since, self.last_error, self.last_error_at
        indexed, head = self._indexed_block(), self.indexer.head or None
        behind = max(0, head - indexed) if indexed is not None and head is not None else None
        healthy = running and (failing_for is None or failing_for <= self.unhealthy_after)
        if state == "retrying":
            summary = f"Retrying since {iso(since)} ({failures} failed tries; the next in {retry_in or 0:.0f} s): {last_error}"
        elif state == "following":
            summary = f"Following the chain since {iso(since)}" + (f", {behind} blocks behind its head." if behind else ".")
        else:
            summary = {"starting": "Catching up with the chain.", "stopped": "Stopped: the chain is not followed."}[state]
        return IndexerHealth(
            running=running,
            state=state,
            healthy=healthy,
            summary=summary,
            since=iso(since),
            failures=failures,
            failing_for_seconds=round(failing_for, 1) if failing_for is not None else None,
            next_try_in_seconds=round(retry_in, 1) if retry_in is not None else None,
            last_error=last_error,
            last_error_at=iso(last_error_at),
            indexed_block=indexed,
            head_block=head,
            blocks_behind=behind,
            unhealthy_after_seconds=self.unhealthy_after,
        )

    def _indexed_block(self) -> int | None:
        try:
            cursor = self.indexer.sink.cursor()
        except Exception:  # the database does not answer (the indexer's own error says why)
            return None
        return cursor.number if cursor else None

    def start(self) -> "BackgroundIndexer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=10)


def iso(timestamp: float | None) -> str | None:
    """`timestamp` (seconds since the epoch) as ISO 8601 in UTC, to the second."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_in_words(exc: Exception) -> str:
    """The indexer's error for an operator: the library's own sentence, or what the database or another part said
    (its first line, not the SQL), with every URL cut to scheme and host."""
    if isinstance(exc, CommonsError):
        return redact(str(exc))
    if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
        said = str(exc.orig).strip().splitlines()
        return redact(f"The cache's database failed ({type(exc.orig).__name__}): {said[0] if said else '(no message)'}")
    said = str(exc).strip().splitlines()
    return redact(f"{type(exc).__name__}: {said[0] if said else '(no message)'}")


def create_app(
    database_url: str | None = None,
    manifest: Manifest | None = None,
    rpc_url: str | None = None,
    run_indexer: bool = False,
    upgrade_schema: bool = True,
    run_hooks: bool | None = None,
    run_reminders: bool | None = None,
) -> FastAPI:
    """The FastAPI app reading the cache at `database_url` (default from settings).

    The chain is at `rpc_url` (default from settings) and the commons is `manifest` (default: found by the chain's
    id); the relay uses both. With `run_indexer` and a manifest, the indexer follows the chain in a background thread.
    """
    engine = make_engine(database_url)
    rpc_url = rpc_url or get_settings().rpc_url

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if upgrade_schema:
            migrate(engine)
        background = BackgroundIndexer(manifest, rpc_url, engine).start() if run_indexer and manifest and rpc_url else None
        app.state.indexer = background
        hooks_worker = (
            start_worker(engine, get_settings()) if run_hooks or (run_hooks is None and get_settings().webhooks) else None
        )
        reminder_worker = (
            start_reminders(engine, get_settings())
            if run_reminders or (run_reminders is None and get_settings().reminders)
            else None
        )
        yield
        if reminder_worker:
            reminder_worker.stop()
        if hooks_worker:
            hooks_worker.stop()
        if background:
            background.stop()
        app.state.cursor_probe.close()
        engine.dispose()

    app = FastAPI(
        title="Commons Ledger",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # api/docs.py serves /docs from the pinned npm package; no ReDoc (it would need a CDN)
        redoc_url=None,
        description="The public record of a commons: members, stewards, proposals, votes with reasons, and a "
        "hash-chained decision log, all derived from the chain (see `commons audit`).",
    )
    app.state.engine = engine
    app.state.indexer = None
    app.state.rpc_url, app.state.manifest = rpc_url, manifest  # the relay's chain and commons: the indexer's
    app.state.answers = AnswerCache()  # one per app, so two apps in one process never share answers
    app.state.cursor_probe = CursorProbe(engine)
    add_error_handlers(app)
    for module in (health, commons, members, proposals, decisions, stats, calendar, feeds, hooks, reminders):
        app.include_router(module.router)
    app.include_router(treasury_routes.router)
    app.include_router(initiative_routes.router)
    app.include_router(relay.router)
    app.include_router(docs_router)
    app.include_router(web.router)

    app.add_middleware(CachedAnswers, state=app.state)  # innermost: cached answers still get CORS and security headers
    # Read-only data may be fetched from any origin; writes (the relay) stay same-origin.
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"], allow_headers=[])
    app.add_middleware(RequestLimits, settings=get_settings())  # before any parsing; inside the security headers
    app.add_middleware(SecurityHeaders)
    if STATIC_DIR.is_dir():
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="web")
    return app
