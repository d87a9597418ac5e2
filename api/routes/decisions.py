"""The decision log: pages, and whole exports as CSV and JSON lines (each entry with its hash chain)."""

import csv
import io
from typing import Annotated, Iterator

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.engine import Connection

from api.answer_cache import request_key
from api.deps import LOG, MAX_PAGE, AnswerCache, answers, connection, entry_public, indexed_cursor
from api.models import DecisionsPublic
from governance.decision_log import canonical_json

router = APIRouter(prefix="/api/decisions", tags=["decision log"])
CSV_COLUMNS = ["seq", "block_number", "block_hash", "tx_hash", "log_index", "timestamp", "contract", "kind", "subject",
               "data", "prev_hash", "hash"]
EXPORT_CHUNK = 2_000


@router.get("", response_model=DecisionsPublic)
def list_decisions(
    request: Request,
    conn: Annotated[Connection, Depends(connection)],
    cache: Annotated[AnswerCache, Depends(answers)],
    after: Annotated[int | None, Query(ge=0, le=2**62, description="Keyset cursor: entries after this sequence number")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
):
    """Entries in chain order; `head_hash` is the hash of the newest entry, which pins the whole log."""
    cursor = indexed_cursor(conn)

    def page() -> DecisionsPublic:
        rows = conn.execute(sa.select(LOG).where(LOG.c.seq > (after or 0)).order_by(LOG.c.seq).limit(limit)).all()
        return DecisionsPublic.model_validate({"data": [entry_public(r) for r in rows], "count": cursor["log_seq"],
                                               "head_hash": cursor["log_head_hash"],
                                               "next_after": rows[-1].seq if len(rows) == limit else None})

    return cache.answer(request_key(request.scope, cursor["block_hash"]), page)


def _entries(request: Request) -> Iterator[dict]:
    # A fresh connection per chunk keeps a long export from holding one transaction open.
    after = 0
    while True:
        with request.app.state.engine.connect() as conn:
            rows = conn.execute(sa.select(LOG).where(LOG.c.seq > after).order_by(LOG.c.seq).limit(EXPORT_CHUNK)).all()
        if not rows:
            return
        for row in rows:
            yield entry_public(row)
        after = rows[-1].seq


@router.get("/export.jsonl", response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}}, "description": "One entry per line, canonical JSON"}})
def export_jsonl(request: Request, conn: Annotated[Connection, Depends(connection)]):
    """The whole log, one canonical-JSON entry per line (each line's hash can be checked with SHA-256)."""
    indexed_cursor(conn)
    lines = (canonical_json(entry) + "\n" for entry in _entries(request))
    return StreamingResponse(lines, media_type="application/x-ndjson",
                             headers={"Content-Disposition": 'attachment; filename="decision-log.jsonl"'})


@router.get("/export.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "One entry per row; data as canonical JSON"}})
def export_csv(request: Request, conn: Annotated[Connection, Depends(connection)]):
    """The whole log as CSV; the `data` column holds the entry's data as canonical JSON."""
    indexed_cursor(conn)

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for entry in _entries(request):
            writer.writerow([canonical_json(entry["data"]) if c == "data" else entry[c] for c in CSV_COLUMNS])
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(rows(), media_type="text/csv", headers={"Content-Disposition": 'attachment; filename="decision-log.csv"'})

