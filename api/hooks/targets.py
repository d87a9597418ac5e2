"""Which webhook URLs may be called, and a POST that connects to the very address that was checked.

A name is resolved when the endpoint is added and again for every delivery; the connection goes to an address from
that second answer (the Host header and TLS name stay the URL's), so a name that resolves to a public address when
checked and to a private one later (DNS rebinding) is refused, not followed. Redirects are never followed.
"""

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from governance.errors import InvalidInput

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]
# Cloud metadata services that are not in a private range everywhere (AWS/GCP/Azure use 169.254.169.254, link-local).
METADATA = {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}
MAX_URL = 2000
MAX_ANSWER = 64 * 1024


class TargetRefused(InvalidInput):
    """A webhook URL that may not be called: its sentence says why."""


def parse_networks(text: str) -> tuple[Network, ...]:
    """The allowed networks from COMMONS_WEBHOOK_ALLOWED_NETWORKS (comma-separated CIDR)."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def forbidden_reason(address: Address) -> str | None:
    """Why a webhook may not go to `address` ('a loopback address', …), or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address in METADATA:
        return "a cloud metadata address"
    for reason, flag in (
        ("a loopback address", address.is_loopback),
        ("a link-local address (cloud metadata lives there)", address.is_link_local),
        ("a private address", address.is_private),
        ("a multicast address", address.is_multicast),
        ("an unspecified address", address.is_unspecified),
        ("a reserved address", address.is_reserved),
        ("a shared (carrier-grade NAT) address", address in ipaddress.ip_network("100.64.0.0/10")),
    ):
        if flag:
            return reason
    return None


def system_resolver(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`, pinned) and what to ask for there."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def check_target(url: str, allowed: tuple[Network, ...] = (), resolve: Resolver = system_resolver) -> Target:
    """The URL checked and resolved: http(s) only, no user info, every address it resolves to public (or inside
    `allowed`). Raises TargetRefused with the reason."""
    if len(url) > MAX_URL or any(c in url for c in "\r\n\t\x00 "):
        raise TargetRefused("A webhook URL must be one line without spaces, at most 2,000 characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TargetRefused(f"A webhook URL must start with https:// (or http://) and name a host, not {url[:80]!r}.")
    if parts.username or parts.password:
        raise TargetRefused("A webhook URL may not carry a user name or password; put a token in its path instead.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused(f"The port of {url[:80]!r} is not a number between 0 and 65535.") from None
    host = parts.hostname
    try:
        addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host, port)]
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"The webhook host {host!r} cannot be resolved ({exc}).") from None
    if not addresses:
        raise TargetRefused(f"The webhook host {host!r} resolves to no address.")
    for address in addresses:
        reason = forbidden_reason(address)
        if reason and not any(address in network for network in allowed):
            raise TargetRefused(
                f"The webhook host {host!r} resolves to {address}, {reason}; webhooks go to public addresses only."
            )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, str(addresses[0]))


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a fixed address, with the certificate checked against the URL's host name."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Answer:
    """What an endpoint answered: its HTTP status, and where a redirect pointed (never followed)."""

    status: int
    location: str | None = None

    def redirect_words(self) -> str | None:
        """For a 3xx answer, the sentence the delivery log keeps: that it was not followed, and to which origin it
        pointed (scheme, host and port only: a path may hold the other side's token); None for any other answer."""
        if not 300 <= self.status < 400:
            return None
        parts = urlsplit(self.location or "")
        try:
            port = f":{parts.port}" if parts.port else ""
        except ValueError:
            port = ""
        if parts.scheme in ("http", "https") and parts.hostname:
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            where = f"a redirect to {parts.scheme}://{host}{port}"
        elif self.location and not parts.scheme and not parts.netloc:
            where = "a redirect elsewhere on the same host"
        elif self.location:
            where = "a redirect to an address that is not http(s)"
        else:
            where = "a redirect with no Location"
        return (
            f"answered {self.status}, {where}, which is not followed: webhooks go only to the URL registered "
            "(if the endpoint moved, add its new URL and remove this one)"
        )[:300]


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float = 10.0) -> Answer:
    """POST `body` to the checked target, connecting to its pinned address; its answer, redirects not followed.
    Raises OSError (including timeouts) and http.client.HTTPException when there is no answer."""
    if target.scheme == "https":
        connection: http.client.HTTPConnection = _PinnedHTTPS(target, timeout)
    else:
        connection = http.client.HTTPConnection(target.address, target.port, timeout=timeout)
    try:
        host = target.host if ":" not in target.host else f"[{target.host}]"
        default_port = target.port == (443 if target.scheme == "https" else 80)
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": host if default_port else f"{host}:{target.port}", "Content-Type": "application/json"},
        )
        answer = connection.getresponse()
        answer.read(MAX_ANSWER)
        return Answer(answer.status, answer.getheader("Location"))
    finally:
        connection.close()
