"""create_app(): the public read API, the relay, the web client, security headers, and the indexer in the background."""

import logging
import threading
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.answer_cache import AnswerCache, CachedAnswers, CursorProbe
from api.db import make_engine, migrate
from api.deps import ApiError
from api.routes import commons, decisions, members, proposals, relay, stats
from governance.errors import CommonsError
from governance.manifest import Manifest

STATIC_DIR = Path(__file__).with_name("static")
log = logging.getLogger("commons.api")

# The web client is same-origin scripts only (no inline script); the OpenAPI docs pages load Swagger UI / ReDoc
# from a CDN with an inline bootstrap, so they get their own, looser policy.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com "
            "https://cdn.redoc.ly; worker-src blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"), (b"cross-origin-opener-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()")]
DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    """Adds CSP and the usual hardening headers to every response (a plain ASGI middleware: no per-request task)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        csp = (DOCS_CSP if scope["path"].startswith(DOCS_PATHS) else CSP).encode()

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS + [(b"content-security-policy", csp)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _error(status: int, code: str, detail: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)


def _validation_sentence(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body"))
        parts.append(f"{where or 'request'}: {error.get('msg', 'is not valid')}")
    return "; ".join(parts) + "."


def add_error_handlers(app: FastAPI) -> None:
    """Every refusal is JSON `{"detail": sentence, "code": …}`; nothing a client sends makes a 5xx."""

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError):
        return _error(exc.status, exc.code, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError):
        return _error(422, "invalid_request", _validation_sentence(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(sa.exc.OperationalError)
    async def database_down(_request: Request, _exc: sa.exc.OperationalError):
        return _error(503, "cache_unavailable", "The cache database cannot be reached right now; try again shortly.")


class BackgroundIndexer:
    """The indexer following the chain in a thread of the API process (one writer; the routes only read)."""

    def __init__(self, manifest: Manifest, rpc_url: str, engine):
        from api.indexing import build_indexer

        self.indexer = build_indexer(manifest, rpc_url, engine, upgrade=False)
        self.stop_event = threading.Event()
        self.last_error: str | None = None
        self.thread = threading.Thread(target=self._run, name="commons-indexer", daemon=True)

    def _note(self, exc: Exception) -> None:
        self.last_error = str(exc)
        log.warning("indexer: %s", exc)

    def _run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.indexer.follow(self.stop_event, on_error=self._note)
            except CommonsError as exc:  # a refusal by the node: report, wait, try again; never silently
                self._note(exc)
                self.stop_event.wait(5)

    def start(self) -> "BackgroundIndexer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=10)


def create_app(database_url: str | None = None, manifest: Manifest | None = None, rpc_url: str | None = None,
               run_indexer: bool = False, upgrade_schema: bool = True) -> FastAPI:
    """The FastAPI app reading the cache at `database_url` (default from settings).

    With `run_indexer`, `manifest` and `rpc_url`, the indexer follows the chain in a background thread.
    """
    engine = make_engine(database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if upgrade_schema:
            migrate(engine)
        background = BackgroundIndexer(manifest, rpc_url, engine).start() if run_indexer and manifest and rpc_url else None
        app.state.indexer = background
        yield
        if background:
            background.stop()
        app.state.cursor_probe.close()
        engine.dispose()

    app = FastAPI(title="Commons Ledger", version="0.1.0", lifespan=lifespan,
                  description="The public record of a commons: members, stewards, proposals, votes with reasons, and a "
                              "hash-chained decision log, all derived from the chain (see `commons audit`).")
    app.state.engine = engine
    app.state.indexer = None
    app.state.answers = AnswerCache()  # one per app, so two apps in one process never share answers
    app.state.cursor_probe = CursorProbe(engine)
    add_error_handlers(app)
    for module in (commons, members, proposals, decisions, stats):
        app.include_router(module.router)
    app.include_router(relay.router)

    @app.get("/api/health", tags=["commons"])
    def health(request: Request) -> dict:
        """Whether the API answers, and the background indexer's last error (if it runs here)."""
        background = request.app.state.indexer
        return {"ok": True, "indexer": None if background is None else
                {"running": background.thread.is_alive(), "last_error": background.last_error}}

    app.add_middleware(CachedAnswers, state=app.state)  # innermost: cached answers still get CORS and security headers
    # Read-only data may be fetched from any origin; writes (the relay) stay same-origin.
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"], allow_headers=[])
    app.add_middleware(SecurityHeaders)
    if STATIC_DIR.is_dir():
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="web")
    return app
