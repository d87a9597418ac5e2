"""Things routes get injected: a database connection, the indexed block, and parsers that turn bad input into 4xx."""

import json
from typing import Iterator

import sqlalchemy as sa
from eth_utils import to_checksum_address
from fastapi import Request
from sqlalchemy.engine import Connection

from api.answer_cache import AnswerCache
from api.models import DecisionEntry, SyncCursor

MAX_PAGE = 500


class ApiError(Exception):
    """A request the API cannot answer as asked: becomes `{"detail": sentence, "code": code}` with `status`."""

    def __init__(self, status: int, code: str, detail: str):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def connection(request: Request) -> Iterator[Connection]:
    """A read-only use of the cache for one request (the API never writes)."""
    with request.app.state.engine.connect() as conn:
        yield conn


def indexed_cursor(conn: Connection):
    """The sync cursor row; 503 while nothing has been indexed yet."""
    row = conn.execute(sa.select(SyncCursor.__table__).where(SyncCursor.__table__.c.id == 1)).mappings().first()
    if row is None:
        raise ApiError(503, "not_indexed", "The cache has not indexed this commons yet; run `commons sync` or wait for the indexer.")
    return row


def parse_address(text: str, what: str = "address") -> str:
    """A checksummed address from 0x + 40 hex digits; 400 otherwise."""
    if not (isinstance(text, str) and len(text) == 42 and text[:2] in ("0x", "0X")):
        raise ApiError(400, "invalid_address", f"The {what} must be 0x followed by 40 hex digits, not {text[:60]!r}.")
    try:
        int(text[2:], 16)
    except ValueError:
        raise ApiError(400, "invalid_address", f"The {what} must be 0x followed by 40 hex digits, not {text[:60]!r}.") from None
    return to_checksum_address(text.lower())


def parse_uint256(text: str, what: str) -> int:
    """A uint256 from decimal or 0x-hex text; 400 for anything else or out of range."""
    stripped = text.strip()
    try:
        value = int(stripped, 16) if stripped.lower().startswith("0x") else int(stripped, 10)
    except ValueError:
        raise ApiError(400, f"invalid_{what.replace(' ', '_')}", f"The {what} must be a whole number (decimal or 0x-hex), not {text[:80]!r}.") from None
    if not 0 <= value < 2**256:
        raise ApiError(400, f"invalid_{what.replace(' ', '_')}", f"The {what} must be between 0 and 2**256 - 1.")
    return value


def entry_public(row) -> dict:
    """A decision-log row as exported: the hashed body (with `data` parsed back) and its hash."""
    return {"seq": row.seq, "block_number": row.block_number, "block_hash": row.block_hash, "tx_hash": row.tx_hash,
            "log_index": row.log_index, "timestamp": row.timestamp, "contract": row.contract, "kind": row.kind,
            "subject": row.subject, "data": json.loads(row.data), "prev_hash": row.prev_hash, "hash": row.hash}


LOG = DecisionEntry.__table__


def answers(request: Request) -> AnswerCache:
    """The app's own answer cache (one per app, so two caches in one process never share answers)."""
    return request.app.state.answers
