"""Webhook endpoints as stewards manage them (`commons hooks`), and the delivery log. Endpoint URLs stay here: no
public route shows them (a chat service's webhook URL is its password)."""

import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api.cache.tables import CURSOR
from api.hooks.outbox import KNOWN_TYPES
from api.hooks.tables import ATTEMPTS, DELIVERIES, ENDPOINTS, EVENTS
from api.hooks.targets import Network, Resolver, check_target, system_resolver
from governance.errors import InvalidInput


def parse_events(text: str) -> str:
    """Event types as stored (space-separated, sorted), from a comma- or space-separated list; InvalidInput for a type
    that does not exist."""
    given = sorted({part.strip() for part in text.replace(",", " ").split() if part.strip()})
    unknown = [t for t in given if t != "*" and t not in KNOWN_TYPES]
    if not given or unknown:
        raise InvalidInput(
            f"Unknown event type {', '.join(unknown) or '(none given)'}; choose from {', '.join(sorted(KNOWN_TYPES))} or '*'."
        )
    return " ".join(given)


def add_endpoint(
    engine: Engine, url: str, events: str, allowed: tuple[Network, ...] = (), resolve: Resolver = system_resolver
) -> dict:
    """Register `url` for `events` after checking where it points (TargetRefused if it may not be called); it gets
    the events of decision-log entries indexed from now on. Returns the endpoint as `list_endpoints` shows it."""
    check_target(url, allowed, resolve)
    types = parse_events(events)
    with engine.begin() as conn:
        after = conn.execute(sa.select(CURSOR.c.log_seq).where(CURSOR.c.id == 1)).scalar() or 0
        endpoint_id = conn.execute(
            sa.insert(ENDPOINTS).values(url=url, events=types, enabled=True, after_seq=after, created_at=time.time())
        ).inserted_primary_key[0]
    return next(e for e in list_endpoints(engine) if e["id"] == endpoint_id)


def list_endpoints(engine: Engine) -> list[dict]:
    """Every endpoint with its delivery counts by status."""
    with engine.connect() as conn:
        endpoints = conn.execute(sa.select(ENDPOINTS).order_by(ENDPOINTS.c.id)).mappings().all()
        counts = conn.execute(
            sa.select(DELIVERIES.c.endpoint_id, DELIVERIES.c.status, sa.func.count()).group_by(
                DELIVERIES.c.endpoint_id, DELIVERIES.c.status
            )
        ).all()
    by_endpoint: dict[int, dict[str, int]] = {}
    for endpoint_id, status, number in counts:
        by_endpoint.setdefault(endpoint_id, {})[status] = number
    return [
        {
            "id": e["id"],
            "url": e["url"],
            "events": e["events"].split(),
            "enabled": e["enabled"],
            "disabled_reason": e["disabled_reason"],
            "deliveries": by_endpoint.get(e["id"], {}),
        }
        for e in endpoints
    ]


def remove_endpoint(engine: Engine, endpoint_id: int) -> bool:
    """Forget an endpoint and its queued deliveries (the log of past attempts stays); False if there was none."""
    with engine.begin() as conn:
        conn.execute(sa.delete(DELIVERIES).where(DELIVERIES.c.endpoint_id == endpoint_id))
        return conn.execute(sa.delete(ENDPOINTS).where(ENDPOINTS.c.id == endpoint_id)).rowcount > 0


def delivery_log(engine: Engine, endpoint_id: int | None = None, limit: int = 50) -> list[dict]:
    """The newest `limit` attempts (of one endpoint when given), newest first, with the event's type."""
    query = (
        sa.select(ATTEMPTS, EVENTS.c.type)
        .join(EVENTS, EVENTS.c.id == ATTEMPTS.c.event_id)
        .order_by(ATTEMPTS.c.id.desc())
        .limit(limit)
    )
    if endpoint_id is not None:
        query = query.where(ATTEMPTS.c.endpoint_id == endpoint_id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
