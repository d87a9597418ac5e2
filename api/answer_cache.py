"""Answers kept per indexed block, and a fast path that serves them without routing, dependencies or validation.

The cache only changes when the indexer moves its cursor, so a popular page (a proposal with a thousand votes, a
decision-log page) is built once per block, not once per request. Keys are the request's path, the query parameters
its route reads (anything else in the query string is left out, so junk parameters cannot add entries) and the
cursor's block hash, so a rollback or a new block never serves a stale answer. The cache holds at most a budget of
bytes, least recently used answers dropped first. A repeated request then costs one dictionary look-up and one tiny
query for the indexed block's hash (a plain driver call on a connection kept for it), instead of a trip through
FastAPI's dependency machinery and thread pool.
"""

import json
import re
from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from urllib.parse import parse_qsl

import orjson
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.engine import Engine

# The routes that keep their answers here, by the paths they serve (the whole path must match), with
# the query parameters each reads: only those make one answer differ from another, so anything else in a query string
# never makes a new entry. tests/test_api.py checks them against the routes' own parameters. Every other request
# goes straight through.
CACHED_ROUTES = (
    (re.compile(r"/api/proposals/[^/]+"), frozenset()),  # one proposal, by id or number
    (re.compile(r"/api/proposals/[^/]+/votes"), frozenset({"after", "limit"})),  # its votes, page by page
    (re.compile(r"/api/decisions"), frozenset({"kind", "subject", "member", "after", "before", "limit"})),
)
CURSOR_HASH_SQL = "SELECT block_hash FROM sync_cursor WHERE id = 1"
# What one process keeps: about 200 answers the size of a proposal with a thousand votes, or a few thousand pages.
MAX_BYTES = 64 * 2**20
# An answer larger than this share of the budget is built each time rather than kept (it would evict too many).
LARGEST_SHARE = 8


class AnswerCache:
    """Serialised JSON answers by request key, the least recently used dropped first beyond `max_bytes`."""

    def __init__(self, max_bytes: int = MAX_BYTES):
        self.max_bytes = max_bytes
        self.bytes = 0  # held now: bodies and keys
        self.items: OrderedDict[tuple, bytes] = OrderedDict()
        self.lock = Lock()

    def get(self, key: tuple) -> bytes | None:
        """The stored body for `key`, or None."""
        with self.lock:
            body = self.items.get(key)
            if body is not None:
                self.items.move_to_end(key)
        return body

    def answer(self, key: tuple, build: Callable[[], object]) -> Response:
        """A JSON response for `key`, from memory or from `build()` (whose result is serialised once; bytes are taken
        as the JSON body already written, see json_body)."""
        body = self.get(key)
        if body is None:
            value = build()
            if isinstance(value, bytes):
                body = value
            else:
                # A response model dumps itself in JSON mode in a fraction of jsonable_encoder's walk (same bytes).
                data = value.model_dump(mode="json") if isinstance(value, BaseModel) else jsonable_encoder(value)
                body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
            self.put(key, body)
        return Response(body, media_type="application/json")

    def put(self, key: tuple, body: bytes) -> None:
        """Keep `body` for `key` (unless it is too large to keep), dropping the least recently used beyond the budget."""
        cost = _cost(key, body)
        if cost * LARGEST_SHARE > self.max_bytes:
            return
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.bytes -= _cost(key, old)
            self.items[key] = body
            self.bytes += cost
            while self.bytes > self.max_bytes:
                dropped, dropped_body = self.items.popitem(last=False)
                self.bytes -= _cost(dropped, dropped_body)


def json_body(shaped: dict) -> bytes:
    """An answer already shaped as its response model dumps it (every field, in the schema's order, JSON types) as
    the bytes `answer` would write for the model: compact, non-ASCII as UTF-8. orjson writes them without the model's
    validation and dump (a proposal's answer with 100 votes: 1.1 ms down to 0.03 ms); tests/test_api_misses.py holds them
    equal."""
    return orjson.dumps(shaped)


def _cost(key: tuple, body: bytes) -> int:
    path, query, block_hash = key
    return len(body) + len(path) + sum(len(name) + len(value) for name, value in query) + len(block_hash)


def keyed_parameters(path: str) -> frozenset[str] | None:
    """The query parameters that key the answers of the route serving `path`; None if it keeps no answers here."""
    for route, names in CACHED_ROUTES:
        if route.fullmatch(path):
            return names
    return None


def request_key(scope: dict, block_hash: str) -> tuple:
    """The cache key of a request (its ASGI scope) answered at the block with `block_hash`: the path, the query
    parameters its route reads (sorted by name; a repeated one keeps its order), and the block hash."""
    names = keyed_parameters(scope["path"]) or frozenset()
    pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    return (scope["path"], tuple(sorted((p for p in pairs if p[0] in names), key=lambda p: p[0])), block_hash)


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
        if scope["type"] == "http" and scope["method"] == "GET" and keyed_parameters(scope["path"]) is not None:
            block_hash = self.state.cursor_probe.block_hash()
            body = self.state.answers.get(request_key(scope, block_hash)) if block_hash else None
            if body is not None:
                return await Response(body, media_type="application/json")(scope, receive, send)
        await self.app(scope, receive, send)
