"""The decision log: pages, and exports as CSV and JSON lines (each entry with its hash chain), whole or filtered."""

import csv
import io
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Iterator

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.engine import Connection

from api.answer_cache import request_key
from api.deps import LOG, MAX_PAGE, AnswerCache, ApiError, answers, connection, entry_public, indexed_cursor, parse_address
from api.models import DecisionsPublic, Proposal, Vote
from governance.decision_log import canonical_json
from governance.events import GOVERNANCE_EVENTS

router = APIRouter(prefix="/api/decisions", tags=["decision log"])
CSV_COLUMNS = ["seq", "block_number", "block_hash", "tx_hash", "log_index", "timestamp", "contract", "kind", "subject",
               "data", "prev_hash", "hash"]
EXPORT_CHUNK = 2_000
MAX_SUBJECTS = 20
Kind = Enum("Kind", {name: name for name in sorted(set().union(*GOVERNANCE_EVENTS.values()))}, type=str)
KIND_HELP = "Only entries of these kinds (the contracts' event names); repeat for several"
SUBJECT_HELP = ("Only entries about these subjects; repeat for several. A subject is a member's or steward's address, "
                "a proposal id (decimal) for proposal and vote entries, or a timelock operation id (0x + 64 hex digits)")
MEMBER_HELP = ("Only entries that concern this address: its membership, stewardship and delegations, its votes and "
               "proposals, and delegations to it")
P, V = Proposal.__table__, Vote.__table__


def parse_subject(text: str) -> str:
    """A subject as the log stores it (checksummed address, decimal proposal id, lower-case operation id); 400 else."""
    if len(text) == 42:
        return parse_address(text, "subject")
    if len(text) == 66 and text[:2] in ("0x", "0X") and all(c in "0123456789abcdefABCDEF" for c in text[2:]):
        return text.lower()
    if text.isascii() and text.isdigit() and len(text) <= 78 and int(text) < 2**256:
        return str(int(text))
    raise ApiError(400, "invalid_subject", f"A subject must be an address, a decimal proposal id or a 0x-prefixed 32-byte "
                                           f"operation id, not {text[:80]!r}.")


@dataclass(frozen=True)
class LogFilter:
    """Which entries a request asks for (no filter: all of them)."""

    kinds: tuple[str, ...]
    subjects: tuple[str, ...]
    member: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.kinds or self.subjects or self.member)

    def conditions(self) -> list:
        found = []
        if self.kinds:
            found.append(LOG.c.kind.in_(self.kinds))
        if self.subjects:
            found.append(LOG.c.subject.in_(self.subjects))
        if self.member:
            found.append(concerning(self.member))
        return found


def concerning(member: str):
    """Entries about `member` (checksummed) or made by them, as a set of sequence numbers each found by an index: their
    votes through the vote table's voter index, their proposals through the proposal table's proposer index. Only
    delegations to them are found by content (DelegateChanged entries, few, whose canonical JSON names the delegatee)."""
    log = LOG.alias("concerned")
    return LOG.c.seq.in_(sa.union_all(
        sa.select(log.c.seq).where(log.c.subject == member),
        sa.select(log.c.seq).join(V, sa.and_(V.c.block_number == log.c.block_number, V.c.log_index == log.c.log_index))
        .where(V.c.voter == member),
        sa.select(log.c.seq).join(P, P.c.proposal_id == log.c.subject)
        .where(P.c.proposer == member, log.c.kind == "ProposalCreated"),
        sa.select(log.c.seq).where(log.c.kind == "DelegateChanged", log.c.data.contains(f'"toDelegate":"{member}"')),
    ))


def log_filter(kind: Annotated[list[Kind] | None, Query(description=KIND_HELP)] = None,
               subject: Annotated[list[str] | None, Query(description=SUBJECT_HELP)] = None,
               member: Annotated[str | None, Query(description=MEMBER_HELP)] = None) -> LogFilter:
    if subject and len(subject) > MAX_SUBJECTS:
        raise ApiError(400, "too_many_subjects", f"Ask for at most {MAX_SUBJECTS} subjects at once, not {len(subject)}.")
    return LogFilter(tuple(sorted({k.value for k in kind or ()})), tuple(sorted({parse_subject(s) for s in subject or ()})),
                     parse_address(member, "member") if member is not None else None)


@router.get("", response_model=DecisionsPublic)
def list_decisions(
    request: Request,
    conn: Annotated[Connection, Depends(connection)],
    cache: Annotated[AnswerCache, Depends(answers)],
    wanted: Annotated[LogFilter, Depends(log_filter)],
    after: Annotated[int | None, Query(ge=0, le=2**62, description="Keyset cursor: entries after this sequence number")] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="Keyset cursor: the last `limit` entries before this "
                                                                    "sequence number (to read from the newest back)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
):
    """Entries in chain order, all or those of some kinds, about some subjects or concerning a member (filters combine:
    an entry must pass each one given); `count` is how many match in the whole log, and `head_hash`, the hash of the
    newest entry of the whole log, pins it."""
    if after is not None and before is not None:
        raise ApiError(400, "conflicting_cursors", "Give `after` or `before`, not both.")
    cursor = indexed_cursor(conn)

    def page() -> DecisionsPublic:
        conditions = wanted.conditions()
        count = (conn.execute(sa.select(sa.func.count()).select_from(LOG).where(*conditions)).scalar()
                 if conditions else cursor["log_seq"])
        query = sa.select(LOG).where(*conditions).limit(limit)
        if before is not None:
            rows = conn.execute(query.where(LOG.c.seq < before).order_by(LOG.c.seq.desc())).all()[::-1]
        else:
            rows = conn.execute(query.where(LOG.c.seq > (after or 0)).order_by(LOG.c.seq)).all()
        more = len(rows) == limit
        return DecisionsPublic.model_validate({
            "data": [entry_public(r) for r in rows], "count": count, "head_hash": cursor["log_head_hash"],
            "next_after": rows[-1].seq if more and before is None else None,
            "next_before": rows[0].seq if more and before is not None else None})

    return cache.answer(request_key(request.scope, cursor["block_hash"]), page)


def _entries(request: Request, wanted: LogFilter) -> Iterator[dict]:
    # A fresh connection per chunk keeps a long export from holding one transaction open.
    after = 0
    while True:
        with request.app.state.engine.connect() as conn:
            rows = conn.execute(sa.select(LOG).where(LOG.c.seq > after, *wanted.conditions())
                                .order_by(LOG.c.seq).limit(EXPORT_CHUNK)).all()
        if not rows:
            return
        for row in rows:
            yield entry_public(row)
        after = rows[-1].seq


def _file_name(wanted: LogFilter, suffix: str) -> str:
    return f'attachment; filename="decision-log{"-filtered" if wanted.active else ""}.{suffix}"'


@router.get("/export.jsonl", response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}}, "description": "One entry per line, canonical JSON"}})
def export_jsonl(request: Request, conn: Annotated[Connection, Depends(connection)],
                 wanted: Annotated[LogFilter, Depends(log_filter)]):
    """The log, one canonical-JSON entry per line (each line's hash can be checked with SHA-256). Unfiltered, it is
    the whole hash chain; filtered, each entry still carries the hash of the entry before it in the whole log."""
    indexed_cursor(conn)
    lines = (canonical_json(entry) + "\n" for entry in _entries(request, wanted))
    return StreamingResponse(lines, media_type="application/x-ndjson",
                             headers={"Content-Disposition": _file_name(wanted, "jsonl")})


@router.get("/export.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "One entry per row; data as canonical JSON"}})
def export_csv(request: Request, conn: Annotated[Connection, Depends(connection)],
               wanted: Annotated[LogFilter, Depends(log_filter)]):
    """The log as CSV, whole or filtered as the page is; the `data` column holds the entry's data as canonical JSON."""
    indexed_cursor(conn)

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for entry in _entries(request, wanted):
            writer.writerow([canonical_json(entry["data"]) if c == "data" else entry[c] for c in CSV_COLUMNS])
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(rows(), media_type="text/csv", headers={"Content-Disposition": _file_name(wanted, "csv")})
