"""What is checked before any work is done for a request: who the client is (forwarded headers are believed only
from the proxies in COMMONS_TRUSTED_PROXIES), how many writes it and everyone together may make, and how big its
body may be.

A plain ASGI middleware in front of routing: a refused request costs a few dictionary look-ups, and a body is
never read past its limit (a 200 MB POST is answered 413 after its headers and the connection closed, so the
process never holds more than the limit).
"""

import ipaddress
import threading
import time

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import commons_error_response, error_response
from governance.config import Settings
from governance.errors import ConfigurationError, RateLimited

# Requests that write (today: the relay's); reads are served from the answer cache and are not counted.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The relay takes ballots (a few hundred bytes); every other route takes no body at all.
RELAY_PREFIX = "/api/relay/"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> list[Network]:
    """Comma-separated IP addresses or CIDR networks; ConfigurationError naming one that is neither."""
    networks = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigurationError(f"COMMONS_TRUSTED_PROXIES: {item!r} is not an IP address or network.") from None
    return networks


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(peer: str, forwarded_for: str | None, proxies: list[Network]) -> str:
    """The client's address: the peer, unless the peer is a trusted proxy; then the last address in
    X-Forwarded-For that is not a trusted proxy (each proxy appends the one it saw; earlier entries are the
    client's own word and may be anything)."""
    address = _ip(peer)
    if not proxies or address is None or not any(address in net for net in proxies) or not forwarded_for:
        return peer
    hop = peer
    for text in reversed(forwarded_for.split(",")):
        address = _ip(text)
        if address is None:  # a trusted proxy would not write this: stop believing the header here
            return hop
        hop = str(address)
        if not any(address in net for net in proxies):
            return hop
    return hop


def rate_key(address: str) -> str:
    """The unit a client is counted by: its IPv4 address, or its IPv6 /64 (one host usually holds a whole /64)."""
    ip = _ip(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return address


class WindowCounter:
    """At most `limit` events per key in each `window`-second window; only the current window's keys are kept."""

    def __init__(self, limit: int, window: float = 60.0):
        self.limit, self.window = limit, window
        self._start = time.monotonic()
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int | None:
        """Count one event for `key`: None if allowed, else the whole seconds until the window ends."""
        now = time.monotonic()
        with self._lock:
            if now - self._start >= self.window:
                self._start, self._counts = now, {}
            count = self._counts.get(key, 0)
            if count >= self.limit:
                return int(self._start + self.window - now) + 1
            self._counts[key] = count + 1
        return None


class RequestLimits:
    """Resolves the client's address (scope["client"] is rewritten, so routes see the real client), counts writes
    per client and in total, and refuses bodies past their route's limit, all before the app sees the request."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.proxies = parse_networks(settings.trusted_proxies)
        self.per_client = WindowCounter(settings.write_client_rate_per_minute)
        self.everyone = WindowCounter(settings.write_global_rate_per_minute)
        self.relay_max_body, self.max_body = settings.relay_max_body_bytes, settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        if self.proxies and scope.get("client"):
            host, port = scope["client"]
            scope = {**scope, "client": (client_address(host, headers.get("x-forwarded-for"), self.proxies), port)}
        has_body = "content-length" in headers or "transfer-encoding" in headers
        if scope["method"] in WRITE_METHODS and (refusal := self._over_rate(scope)):
            return await self._refuse(refusal, has_body, scope, receive, send)
        if not has_body:
            return await self.app(scope, receive, send)
        limit = self.relay_max_body if scope["path"].startswith(RELAY_PREFIX) else self.max_body
        declared = headers.get("content-length", "0")
        if not declared.isdigit():
            response = error_response(400, "invalid_request", "The Content-Length header must be a whole number.")
            return await self._refuse(response, has_body, scope, receive, send)
        if int(declared) > limit:
            return await self._refuse(self._too_large(limit), has_body, scope, receive, send)
        body = await _read_body(receive, limit)
        if body is None:  # sent in chunks, past the limit: stop reading here
            return await self._refuse(self._too_large(limit), has_body, scope, receive, send)
        await self.app(scope, _replay(body, receive), send)

    def _over_rate(self, scope: Scope):
        """A 429 response if this client, or everyone together, made too many writes this minute; else None."""
        client = scope["client"][0] if scope.get("client") else "unknown"
        if wait := self.per_client.hit(rate_key(client)):
            limit = self.per_client.limit
            error = RateLimited(f"Too many requests from your address: at most {limit} a minute. Try again in {wait} s.", wait)
            return commons_error_response(error)
        if wait := self.everyone.hit("*"):
            limit = self.everyone.limit
            error = RateLimited(f"The relay is busy (at most {limit} requests a minute in all). Try again in {wait} s.", wait)
            return commons_error_response(error)
        return None

    @staticmethod
    def _too_large(limit: int):
        return error_response(413, "body_too_large", f"The request body may be at most {limit} bytes here.")

    @staticmethod
    async def _refuse(response, has_body: bool, scope: Scope, receive: Receive, send: Send) -> None:
        if has_body:  # the rest of the body is never read: close the connection rather than drain it
            response.headers["connection"] = "close"
        await response(scope, receive, send)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body if it is at most `limit` bytes; None as soon as it is longer (the rest is left unread)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)  # the client left; the app will see the disconnect too
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then whatever the server says next (a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed():
        return pending.pop() if pending else await receive()

    return replayed
