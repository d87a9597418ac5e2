"""Things routes get injected: a database connection, the indexed block, the answer cache, and parsers that turn
bad input into 4xx."""

from collections.abc import Iterator
from string import hexdigits

from eth_utils import to_checksum_address
from fastapi import Request
from sqlalchemy.engine import Connection, RowMapping

from api.answer_cache import AnswerCache
from api.cache import queries

MAX_PAGE = 500
HEX_DIGITS = frozenset(hexdigits)


class ApiError(Exception):
    """A request the API cannot answer as asked: becomes `{"detail": sentence, "code": code}` with `status`."""

    def __init__(self, status: int, code: str, detail: str):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def connection(request: Request) -> Iterator[Connection]:
    """A read-only use of the cache for one request (the API never writes)."""
    with request.app.state.engine.connect() as conn:
        yield conn


def answers(request: Request) -> AnswerCache:
    """The app's own answer cache (one per app, so two caches in one process never share answers)."""
    return request.app.state.answers


def indexed_cursor(conn: Connection) -> RowMapping:
    """The sync cursor row; ApiError 503 while nothing has been indexed yet."""
    row = queries.cursor(conn)
    if row is None:
        raise ApiError(
            503, "not_indexed", "The cache has not indexed this commons yet; run `commons sync` or wait for the indexer."
        )
    return row


def page_url(request: Request, fragment: str) -> str:
    """A link to the web page served by this API (`fragment` is the page's route, e.g. 'proposal/5')."""
    return f"{str(request.base_url).rstrip('/')}/#/{fragment}"


def parse_address(text: str, what: str = "address") -> str:
    """A checksummed address from 0x + 40 hex digits; ApiError 400 otherwise."""
    # Only hex digits: int(…, 16) would also take '_', '+' and spaces, which the checksum then refuses.
    if not (isinstance(text, str) and len(text) == 42 and text[:2] in ("0x", "0X") and HEX_DIGITS.issuperset(text[2:])):
        raise ApiError(400, "invalid_address", f"The {what} must be 0x followed by 40 hex digits, not {text[:60]!r}.")
    return to_checksum_address(text.lower())


def parse_uint256(text: str, what: str) -> int:
    """A uint256 from decimal or 0x-hex text; ApiError 400 for anything else or out of range."""
    stripped = text.strip()
    try:
        value = int(stripped, 16) if stripped.lower().startswith("0x") else int(stripped, 10)
    except ValueError:
        raise ApiError(
            400, f"invalid_{what.replace(' ', '_')}", f"The {what} must be a whole number (decimal or 0x-hex), not {text[:80]!r}."
        ) from None
    if not 0 <= value < 2**256:
        raise ApiError(400, f"invalid_{what.replace(' ', '_')}", f"The {what} must be between 0 and 2**256 - 1.")
    return value
