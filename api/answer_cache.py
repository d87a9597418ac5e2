"""Answers kept per indexed block, and a fast path that serves them without routing, dependencies or validation.

The cache only changes when the indexer moves its cursor, so a popular page (a proposal with a thousand votes, a
decision-log page) is built once per block, not once per request. Keys are the request's path and query string
plus the cursor's block hash, so a rollback or a new block never serves a stale answer. A repeated request then
costs one dictionary look-up and one tiny query for the indexed block's hash (a plain driver call on a connection
kept for it), instead of a trip through FastAPI's dependency machinery and thread pool.
"""

import json
from collections import OrderedDict
from threading import Lock
from typing import Callable

from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.engine import Engine

# Only routes that store their answers here; everything else goes straight through.
CACHED_PATHS = ("/api/proposals/", "/api/decisions")
CURSOR_HASH_SQL = "SELECT block_hash FROM sync_cursor WHERE id = 1"


class AnswerCache:
    """Serialised JSON answers by (path, query string, indexed block hash), the least recently used dropped first."""

    def __init__(self, size: int = 512):
        self.size = size
        self.items: "OrderedDict[tuple, bytes]" = OrderedDict()
        self.lock = Lock()

    def get(self, key: tuple) -> bytes | None:
        """The stored body for `key`, or None."""
        with self.lock:
            body = self.items.get(key)
            if body is not None:
                self.items.move_to_end(key)
        return body

    def answer(self, key: tuple, build: Callable[[], object]) -> Response:
        """A JSON response for `key`, from memory or from `build()` (whose result is serialised once)."""
        body = self.get(key)
        if body is None:
            value = build()
            # A response model dumps itself in JSON mode in a fraction of what jsonable_encoder's walk costs (same bytes).
            data = value.model_dump(mode="json") if isinstance(value, BaseModel) else jsonable_encoder(value)
            body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
            with self.lock:
                self.items[key] = body
                while len(self.items) > self.size:
                    self.items.popitem(last=False)
        return Response(body, media_type="application/json")


def request_key(scope: dict, block_hash: str) -> tuple:
    """The cache key of a request (its ASGI scope) answered at the block with `block_hash`."""
    return (scope["path"], scope["query_string"], block_hash)


class CursorProbe:
    """The indexed block's hash, read with one plain driver query on a connection kept for it (the event loop's).

    Never raises: on any database trouble it answers None and the request takes the ordinary path, which reports it.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self.raw = None

    def block_hash(self) -> str | None:
        try:
            if self.raw is None:
                raw = self.engine.raw_connection()
                if self.engine.dialect.name == "postgresql":
                    raw.driver_connection.rollback()
                    raw.driver_connection.autocommit = True  # no transaction left open between requests
                self.raw = raw
            row = self.raw.driver_connection.execute(CURSOR_HASH_SQL).fetchone()
            return row[0] if row else None
        except Exception:  # the ordinary path meets the same trouble and answers it in words (503)
            self.close()
            return None

    def close(self) -> None:
        if self.raw is not None:
            raw, self.raw = self.raw, None
            try:
                raw.invalidate()
            except Exception:
                pass


class CachedAnswers:
    """ASGI middleware: a GET whose answer is cached for the current indexed block is answered here."""

    def __init__(self, app, state):
        self.app = app
        self.state = state  # the FastAPI app's state: `answers` (AnswerCache) and `cursor_probe` (CursorProbe)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith(CACHED_PATHS):
            block_hash = self.state.cursor_probe.block_hash()
            body = self.state.answers.get(request_key(scope, block_hash)) if block_hash else None
            if body is not None:
                return await Response(body, media_type="application/json")(scope, receive, send)
        await self.app(scope, receive, send)
