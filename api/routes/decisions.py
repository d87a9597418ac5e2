"""The decision log: pages, and exports as CSV and JSON lines (each entry with its hash chain), whole or filtered.

A page also says, beside its entries and outside what is hashed, what each timelock entry on it does in words, and
whether a vote decided it (`calls`, from api/cache/decision_words.py)."""

from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.engine import Connection

from api.answer_cache import AnswerCache, json_body, request_key
from api.cache import queries
from api.cache.decision_words import calls_of_rows
from api.cache.queries import LogFilter
from api.deps import MAX_PAGE, ApiError, answers, connection, indexed_cursor, parse_address
from api.exports import csv_chunks, line_chunks
from api.notify.words import Names, entry_words
from api.schemas import DecisionEntryPublic, DecisionPagePublic
from governance.decision_log import canonical_json
from governance.vocabulary import GOVERNANCE_EVENTS

router = APIRouter(prefix="/api/decisions", tags=["decision log"])
CSV_COLUMNS = list(DecisionEntryPublic.model_fields)  # the hashed columns, then `hash`
# After the hashed columns, the entry in words (as the page, the feeds and the webhooks say it): not hashed.
WORDS_COLUMN = "in_words"
MAX_SUBJECTS = 20
Kind = Enum("Kind", {name: name for name in sorted(set().union(*GOVERNANCE_EVENTS.values()))}, type=str)
KIND_HELP = "Only entries of these kinds (the contracts' event names); repeat for several"
SUBJECT_HELP = (
    "Only entries about these subjects; repeat for several. A subject is a member's or steward's address, "
    "a proposal id (decimal) for proposal and vote entries, or a timelock operation id (0x + 64 hex digits)"
)
MEMBER_HELP = (
    "Only entries that concern this address: its membership, stewardship and delegations, its votes and "
    "proposals, and delegations to it"
)


def parse_subject(text: str) -> str:
    """A subject as the log stores it (checksummed address, decimal proposal id, lower-case operation id); ApiError
    400 else."""
    if len(text) == 42:
        return parse_address(text, "subject")
    if len(text) == 66 and text[:2] in ("0x", "0X") and all(c in "0123456789abcdefABCDEF" for c in text[2:]):
        return text.lower()
    if text.isascii() and text.isdigit() and len(text) <= 78 and int(text) < 2**256:
        return str(int(text))
    raise ApiError(
        400,
        "invalid_subject",
        f"A subject must be an address, a decimal proposal id or a 0x-prefixed 32-byte operation id, not {text[:80]!r}.",
    )


def log_filter(
    kind: Annotated[list[Kind] | None, Query(description=KIND_HELP)] = None,
    subject: Annotated[list[str] | None, Query(description=SUBJECT_HELP)] = None,
    member: Annotated[str | None, Query(description=MEMBER_HELP)] = None,
) -> LogFilter:
    """The filters a request gives; ApiError 400 for a malformed subject or member, or too many subjects."""
    if subject and len(subject) > MAX_SUBJECTS:
        raise ApiError(400, "too_many_subjects", f"Ask for at most {MAX_SUBJECTS} subjects at once, not {len(subject)}.")
    return LogFilter(
        tuple(sorted({k.value for k in kind or ()})),
        tuple(sorted({parse_subject(s) for s in subject or ()})),
        parse_address(member, "member") if member is not None else None,
    )


@router.get("", response_model=DecisionPagePublic)
def list_decisions(
    request: Request,
    conn: Annotated[Connection, Depends(connection)],
    cache: Annotated[AnswerCache, Depends(answers)],
    wanted: Annotated[LogFilter, Depends(log_filter)],
    after: Annotated[int | None, Query(ge=0, le=2**62, description="Keyset cursor: entries after this sequence number")] = None,
    before: Annotated[
        int | None,
        Query(
            ge=1,
            le=2**62,
            description="Keyset cursor: the last `limit` entries before this sequence number (to read from the newest back)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
):
    """Entries in chain order, all or those of some kinds, about some subjects or concerning a member (filters combine:
    an entry must pass each one given); `count` is how many match in the whole log, and `head_hash`, the hash of the
    newest entry of the whole log, pins it. `calls` reads each timelock entry of the page in words, with the proposal
    #N that decided it or `outside_the_vote` when none did."""
    if after is not None and before is not None:
        raise ApiError(400, "conflicting_cursors", "Give `after` or `before`, not both.")
    cursor = indexed_cursor(conn)

    def page() -> bytes:  # shaped as DecisionPagePublic dumps it, each entry's data written as stored
        rows = []

        def entry(row) -> dict:
            rows.append(row)
            return queries.entry_answer(row)

        shaped = queries.decisions_page(conn, cursor, wanted, after, before, limit, entry)
        return json_body({**shaped, "calls": calls_of_rows(conn, rows)})

    return cache.answer(request_key(request.scope, cursor["block_hash"]), page)


def _file_name(wanted: LogFilter, suffix: str) -> str:
    return f'attachment; filename="decision-log{"-filtered" if wanted.active else ""}.{suffix}"'


@router.get(
    "/export.jsonl",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "One entry per line, canonical JSON"}},
)
def export_jsonl(
    request: Request, conn: Annotated[Connection, Depends(connection)], wanted: Annotated[LogFilter, Depends(log_filter)]
):
    """The log, one canonical-JSON entry per line (each line's hash can be checked with SHA-256). Unfiltered, it is
    the whole hash chain; filtered, each entry still carries the hash of the entry before it in the whole log."""
    indexed_cursor(conn)
    lines = (canonical_json(entry) + "\n" for entry in queries.exported_entries(request.app.state.engine, wanted))
    return StreamingResponse(
        line_chunks(lines), media_type="application/x-ndjson", headers={"Content-Disposition": _file_name(wanted, "jsonl")}
    )


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "One entry per row; data as canonical JSON"}},
)
def export_csv(
    request: Request, conn: Annotated[Connection, Depends(connection)], wanted: Annotated[LogFilter, Depends(log_filter)]
):
    """The log as CSV, whole or filtered as the page is; the `data` column holds the entry's data as canonical JSON,
    and the last column, `in_words`, the entry in words (not hashed): a timelock entry's call, with the proposal #N
    that decided it or "outside the vote" when none did."""
    indexed_cursor(conn)
    names = Names.read(conn, request.app.state.engine)
    entries = queries.exported_entries(request.app.state.engine, wanted)
    rows = (
        [canonical_json(entry["data"]) if c == "data" else entry[c] for c in CSV_COLUMNS]
        + [entry_words(entry["kind"], entry["data"], names, entry["tx_hash"], entry["seq"])]
        for entry in entries
    )
    return StreamingResponse(
        csv_chunks([*CSV_COLUMNS, WORDS_COLUMN], rows),
        media_type="text/csv",
        headers={"Content-Disposition": _file_name(wanted, "csv")},
    )
