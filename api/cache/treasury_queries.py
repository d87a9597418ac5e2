"""Every read the treasury's API makes (api/routes/treasury.py), shaped for api/treasury_schemas.py: balances per
asset at the indexed block, flows in and out with who and why, totals by contributor and by month."""

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, RowMapping

from api.cache.tables import MEMBERS, NAMED_TOKENS, PROPOSALS
from api.cache.treasury_tables import ASSETS, FLOWS
from api.exports import EXPORT_CHUNK
from governance.treasury import ETH, ETHER, NOT_A_TOKEN, Asset, KnownTokens, format_units

# Recent flows the overview lists (the rest page through /api/treasury/flows).
RECENT = 50


def assets(conn: Connection) -> dict[str, dict]:
    """{address: {address, symbol, name, decimals, tracked}} for ether and every token the commons tracks or tracked."""
    known = {ETH: {"address": ETH, "symbol": ETHER.symbol, "name": ETHER.name, "decimals": ETHER.decimals, "tracked": True}}
    for row in conn.execute(sa.select(ASSETS).order_by(ASSETS.c.tracked_block, ASSETS.c.address)).mappings():
        known[row["address"]] = {k: row[k] for k in ("address", "symbol", "name", "decimals", "tracked")}
    return known


def known_tokens(conn: Connection) -> KnownTokens:
    """The tokens the cache knows, so that proposals read token payments in the token's units and name a token to track
    as it names itself: those the commons tracks or tracked, and those proposals' and initiatives' actions named (the
    indexer read them then). An address that is no token, and any other token, are named by their address."""
    rows = [r for r in conn.execute(sa.select(ASSETS)).mappings() if r["name"] != NOT_A_TOKEN]
    named = conn.execute(sa.select(NAMED_TOKENS).where(NAMED_TOKENS.c.name != NOT_A_TOKEN)).mappings()
    known = [Asset(r["address"], r["symbol"], r["name"], r["decimals"]) for r in [*named, *rows]]  # tracked ones last: they win
    return KnownTokens.of(known, [r["address"] for r in rows if r["tracked"]])


def _amount(asset: dict, units: int) -> dict:
    return {"amount": str(units), "amount_text": f"{format_units(units, asset['decimals'])} {asset['symbol']}"}


def balances(conn: Connection, at: RowMapping) -> list[dict]:
    """Each asset's balance in the treasury at the indexed block (ether from the cursor, tokens from their transfers)."""
    known = assets(conn)
    held = {ETH: int(at["treasury_wei"])} | {r.address: int(r.balance) for r in conn.execute(sa.select(ASSETS))}
    result = []
    for address, asset in known.items():
        units = held.get(address, 0)
        result.append(
            {**asset, "balance": str(units), "balance_text": f"{format_units(units, asset['decimals'])} {asset['symbol']}"}
        )
    return result


def _handles(conn: Connection) -> dict[str, str]:
    return dict(conn.execute(sa.select(MEMBERS.c.address, MEMBERS.c.handle)).all())


def _proposals_by_operation(conn: Connection) -> dict[str, tuple]:
    rows = conn.execute(
        sa.select(PROPOSALS.c.timelock_id, PROPOSALS.c.proposal_id, PROPOSALS.c.number, PROPOSALS.c.title).where(
            PROPOSALS.c.timelock_id.is_not(None)
        )
    )
    return {r.timelock_id: (r.proposal_id, r.number, r.title) for r in rows}


class FlowReader:
    """Turns flow rows into TreasuryFlowPublic dicts, with assets, handles and proposals looked up once."""

    def __init__(self, conn: Connection):
        self.assets = assets(conn)
        self.handles = _handles(conn)
        self.proposals = _proposals_by_operation(conn)

    def public(self, row: RowMapping) -> dict:
        asset = self.assets.get(row["asset"]) or {"symbol": row["asset"][:10], "decimals": 0}
        proposal = self.proposals.get(row["operation_id"] or "")
        return {
            "id": row["id"],
            "block_number": row["block_number"],
            "log_index": row["log_index"],
            "tx_hash": row["tx_hash"],
            "timestamp": row["timestamp"],
            "direction": row["direction"],
            "kind": row["kind"],
            "asset": row["asset"],
            "symbol": asset["symbol"],
            "decimals": asset["decimals"],
            **_amount(asset, int(row["amount"])),
            "counterparty": row["counterparty"],
            "handle": self.handles.get(row["counterparty"]),
            "note": row["note"],
            "operation_id": row["operation_id"],
            "proposal_id": proposal[0] if proposal else None,
            "proposal_number": proposal[1] if proposal else None,
            "proposal_title": proposal[2] if proposal else None,
        }


def flows_page(
    conn: Connection,
    direction: str | None = None,
    kind: str | None = None,
    asset: str | None = None,
    counterparty: str | None = None,
    after: int | None = None,
    limit: int = 100,
    newest_first: bool = False,
) -> dict:
    """TreasuryFlowsPublic: flows in chain order (or newest first), filtered; keyset-paged by `id` (`next_after`)."""
    query = sa.select(FLOWS)
    for column, value in (
        (FLOWS.c.direction, direction),
        (FLOWS.c.kind, kind),
        (FLOWS.c.asset, asset),
        (FLOWS.c.counterparty, counterparty),
    ):
        if value is not None:
            query = query.where(column == value)
    order = (FLOWS.c.block_number, FLOWS.c.log_index)
    if after is not None:  # the flow with id `after` was the last one shown: those after it in chain order
        position = conn.execute(sa.select(*order).where(FLOWS.c.id == after)).first()
        if position is not None:
            query = query.where(sa.tuple_(*order) > sa.tuple_(*position))
    if newest_first:
        query = query.order_by(*(c.desc() for c in order))
    else:
        query = query.order_by(*order)
    rows = conn.execute(query.limit(limit + 1)).mappings().all()
    reader = FlowReader(conn)
    data = [reader.public(r) for r in rows[:limit]]
    return {"data": data, "count": len(data), "next_after": data[-1]["id"] if len(rows) > limit and not newest_first else None}


def exported_flows(engine: Engine) -> Iterator[dict]:
    """Every flow in chain order, for the exports, read EXPORT_CHUNK rows at a time (keyset on the chain position)."""
    with engine.connect() as conn:
        reader = FlowReader(conn)
    position = sa.tuple_(FLOWS.c.block_number, FLOWS.c.log_index)
    last: tuple[int, int] | None = None
    while True:
        # A fresh connection per chunk keeps a long export from holding one transaction open.
        with engine.connect() as conn:
            query = sa.select(FLOWS).order_by(FLOWS.c.block_number, FLOWS.c.log_index).limit(EXPORT_CHUNK)
            rows = conn.execute(query if last is None else query.where(position > last)).mappings().all()
        if not rows:
            return
        yield from (reader.public(r) for r in rows)
        last = (rows[-1]["block_number"], rows[-1]["log_index"])


def contributors(conn: Connection) -> list[dict]:
    """Who contributed what (attributed inflows only), largest number of contributions first, with every note."""
    reader = FlowReader(conn)
    by: dict[str, dict] = {}
    rows = conn.execute(sa.select(FLOWS).where(FLOWS.c.kind == "contribution").order_by(FLOWS.c.block_number, FLOWS.c.log_index))
    for row in rows.mappings():
        who = row["counterparty"]
        entry = by.setdefault(
            who, {"contributor": who, "handle": reader.handles.get(who), "count": 0, "totals": defaultdict(int), "notes": []}
        )
        entry["count"] += 1
        entry["totals"][row["asset"]] += int(row["amount"])
        if row["note"]:
            entry["notes"].append(
                {"note": row["note"], "timestamp": row["timestamp"], **_amount(reader.assets[row["asset"]], int(row["amount"]))}
            )
    result = []
    for entry in sorted(by.values(), key=lambda e: (-e["count"], e["contributor"])):
        totals = [
            {"asset": a, "symbol": reader.assets[a]["symbol"], **_amount(reader.assets[a], u)} for a, u in entry["totals"].items()
        ]
        result.append({**entry, "is_member": entry["handle"] is not None, "totals": totals})
    return result


def monthly(conn: Connection) -> list[dict]:
    """In and out per asset per calendar month (UTC), oldest first."""
    known = assets(conn)
    months: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in conn.execute(sa.select(FLOWS.c.timestamp, FLOWS.c.asset, FLOWS.c.direction, FLOWS.c.amount)):
        month = datetime.fromtimestamp(row.timestamp, UTC).strftime("%Y-%m")
        months[(month, row.asset)][0 if row.direction == "in" else 1] += int(row.amount)
    result = []
    for (month, asset), (inflow, outflow) in sorted(months.items()):
        a = known.get(asset) or {"symbol": asset[:10], "decimals": 0}
        result.append(
            {
                "month": month,
                "asset": asset,
                "symbol": a["symbol"],
                "inflow": str(inflow),
                "outflow": str(outflow),
                "inflow_text": f"{format_units(inflow, a['decimals'])} {a['symbol']}",
                "outflow_text": f"{format_units(outflow, a['decimals'])} {a['symbol']}",
            }
        )
    return result


def treasury_overview(conn: Connection, at: RowMapping) -> dict:
    """TreasuryPublic: balances at the indexed block, recent inflows and outflows, contributors and monthly totals."""
    return {
        "indexed_block": {"number": at["block_number"], "hash": at["block_hash"], "timestamp": at["block_timestamp"]},
        "balances": balances(conn, at),
        "inflows": flows_page(conn, direction="in", limit=RECENT, newest_first=True)["data"],
        "outflows": flows_page(conn, direction="out", limit=RECENT, newest_first=True)["data"],
        "contributors": contributors(conn),
        "monthly": monthly(conn),
    }


def contributions_of(conn: Connection, address: str) -> list[dict]:
    """Every contribution `address` made, in chain order (for a member's answer)."""
    return flows_page(conn, kind="contribution", counterparty=address, limit=10_000)["data"]


def funders(conn: Connection) -> dict:
    """Who funds: how many contributed (members and others), and how many per month."""
    rows = conn.execute(sa.select(FLOWS.c.counterparty, FLOWS.c.timestamp).where(FLOWS.c.kind == "contribution")).all()
    members = set(conn.execute(sa.select(MEMBERS.c.address)).scalars())
    everyone = {r.counterparty for r in rows}
    months: dict[str, set] = defaultdict(set)
    for r in rows:
        months[datetime.fromtimestamp(r.timestamp, UTC).strftime("%Y-%m")].add(r.counterparty)
    return {
        "funders": len(everyone),
        "member_funders": len(everyone & members),
        "other_funders": len(everyone - members),
        "contributions": len(rows),
        "per_month": [{"period": m, "funders": len(who)} for m, who in sorted(months.items())],
    }
