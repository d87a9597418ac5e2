"""Every refusal the API makes, as JSON `{"detail": <a sentence>, "code": <which check>}`.

One place turns errors into HTTP answers: the API's own (`ApiError`), the request's shape, and the domain
library's (`governance.errors`), whichever route or middleware meets them. Messages pass through
`governance.redaction`, so a node's URL never reaches a client with its key.
"""

import logging

import requests
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import ApiError
from governance.errors import BallotRefused, CommonsError, ConfigurationError, InvalidInput, RateLimited, RelayUnavailable
from governance.redaction import redact

log = logging.getLogger("commons.api")

# Which HTTP status each ballot refusal gets: the signature is wrong (400), the voter cannot vote (403),
# the state does not allow it now (409), or the governor would refuse for another reason (422).
REFUSAL_STATUS = {
    "bad_signature": 400,
    "not_member": 403,
    "wallet_contract": 403,
    "unknown_proposal": 404,
    "voting_not_open": 409,
    "already_voted": 409,
    "already_pending": 409,
    "already_posted": 409,
    "stale_nonce": 409,
    "revised_since_read": 409,
    "too_large": 413,
    "would_revert": 422,
}


def error_response(status: int, code: str, detail: str, headers: dict | None = None) -> JSONResponse:
    """The JSON body every refusal has."""
    return JSONResponse({"detail": redact(detail), "code": code}, status_code=status, headers=headers)


def commons_error_response(exc: CommonsError) -> JSONResponse:
    """A domain error in words, with the status that tells the caller what they can do: 4xx for what the caller
    can change, 429 with Retry-After, 503 when the relay cannot pay or is not set up, 502 when the chain refused."""
    if isinstance(exc, BallotRefused):
        return error_response(REFUSAL_STATUS.get(exc.code, 422), exc.code, str(exc))
    if isinstance(exc, RateLimited):
        return error_response(429, "rate_limited", str(exc), {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, ConfigurationError):
        return error_response(503, "relay_unavailable", f"The relay is not set up: {exc}")
    if isinstance(exc, RelayUnavailable):
        return error_response(503, "relay_unavailable", str(exc))
    if isinstance(exc, InvalidInput):
        return error_response(400, "invalid_input", str(exc))
    return error_response(502, "chain_error", str(exc))


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
        return error_response(exc.status, exc.code, exc.detail)

    @app.exception_handler(CommonsError)
    async def commons_error(_request: Request, exc: CommonsError):
        return commons_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError):
        return error_response(422, "invalid_request", _validation_sentence(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(sa.exc.OperationalError)
    async def database_down(_request: Request, _exc: sa.exc.OperationalError):
        return error_response(503, "cache_unavailable", "The cache database cannot be reached right now; try again shortly.")

    @app.exception_handler(requests.RequestException)
    async def node_unreachable(_request: Request, exc: requests.RequestException):
        # web3 lets the transport's errors through (their text names the node's URL, logged here redacted).
        log.warning("node: %s", redact(str(exc)))
        return error_response(502, "chain_error", "The chain node did not answer; try again shortly.")
