"""The treasury: balances per asset at the indexed block, where the money came from (contributions with notes,
unattributed inflows) and where it went (payments by proposal #N), monthly totals, and exports of every flow."""

import json
from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.engine import Connection

from api.cache import treasury_queries as queries
from api.deps import MAX_PAGE, connection, indexed_cursor, parse_address
from api.exports import csv_chunks, line_chunks
from api.treasury_schemas import Contributor, FundersPublic, TreasuryFlowPublic, TreasuryFlowsPublic, TreasuryPublic

router = APIRouter(prefix="/api/treasury", tags=["treasury"])
CSV_COLUMNS = list(TreasuryFlowPublic.model_fields)


class Direction(str, Enum):
    inflow = "in"
    outflow = "out"


class Kind(str, Enum):
    contribution = "contribution"
    unattributed = "unattributed"
    payment = "payment"
    other = "other"


@router.get("", response_model=TreasuryPublic)
def treasury(request: Request, conn: Annotated[Connection, Depends(connection)]):
    """Balances per asset at the indexed block; the latest inflows (contributor and note) and outflows (proposal
    #N and recipient), newest first; every contributor with totals per asset and notes; in and out per month; and
    the Contributions contract that takes contributions (null when this API serves without a manifest)."""
    manifest = request.app.state.manifest
    contributions = manifest.contributions or None if manifest is not None else None
    return queries.treasury_overview(conn, indexed_cursor(conn)) | {"contributions": contributions}


@router.get("/flows", response_model=TreasuryFlowsPublic)
def flows(
    conn: Annotated[Connection, Depends(connection)],
    direction: Annotated[Direction | None, Query(description="in or out")] = None,
    kind: Annotated[Kind | None, Query(description="contribution, unattributed, payment or other")] = None,
    asset: Annotated[str | None, Query(description="a token's address, or the zero address for ETH")] = None,
    counterparty: Annotated[str | None, Query(description="a contributor, sender or recipient")] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="Keyset cursor (from next_after)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
):
    """Every flow in and out of the treasury in chain order, filtered and paged."""
    indexed_cursor(conn)
    return queries.flows_page(
        conn,
        direction.value if direction else None,
        kind.value if kind else None,
        parse_address(asset) if asset else None,
        parse_address(counterparty) if counterparty else None,
        after,
        limit,
    )


@router.get("/contributors", response_model=list[Contributor])
def contributors(conn: Annotated[Connection, Depends(connection)]):
    """Everyone who contributed (members and others), with totals per asset and their notes."""
    indexed_cursor(conn)
    return queries.contributors(conn)


@router.get("/funders", response_model=FundersPublic)
def funders(conn: Annotated[Connection, Depends(connection)]):
    """Who funds the commons: how many contributed, members and others, and per month."""
    indexed_cursor(conn)
    return queries.funders(conn)


def _attachment(name: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/export.jsonl", responses={200: {"content": {"application/x-ndjson": {}}, "description": "One flow per line"}})
def export_jsonl(request: Request, conn: Annotated[Connection, Depends(connection)]):
    """Every flow in chain order, one JSON object per line (as /api/treasury/flows shapes them), streamed."""
    indexed_cursor(conn)
    flows = queries.exported_flows(request.app.state.engine)
    lines = (json.dumps(f, sort_keys=True, ensure_ascii=False) + "\n" for f in flows)
    return StreamingResponse(line_chunks(lines), media_type="application/x-ndjson", headers=_attachment("treasury-flows.jsonl"))


@router.get("/export.csv", responses={200: {"content": {"text/csv": {}}, "description": "One flow per row"}})
def export_csv(request: Request, conn: Annotated[Connection, Depends(connection)]):
    """Every flow in chain order as CSV, one row per flow, the columns of /api/treasury/flows, streamed."""
    indexed_cursor(conn)
    flows = queries.exported_flows(request.app.state.engine)
    rows = (["" if flow[c] is None else flow[c] for c in CSV_COLUMNS] for flow in flows)
    return StreamingResponse(csv_chunks(CSV_COLUMNS, rows), media_type="text/csv", headers=_attachment("treasury-flows.csv"))
