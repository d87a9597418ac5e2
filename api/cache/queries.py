"""Every read the API makes of the cache, each returning rows shaped as the fields of a response schema
(api/schemas.py). Reads only; a value the cache does not hold comes back as None for the route to refuse.
"""

import json
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from threading import Lock

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, RowMapping

from api.cache import treasury_queries
from api.cache.action_words import cached_addresses, read_actions
from api.cache.initiative_queries import proposal_origin
from api.cache.tables import A_DELEGATION, CURSOR, DELEGATEE, LOG, MEMBERS, NOT_A_VOTE, PROPOSALS, SETTINGS, STEWARDS, VOTES
from api.exports import EXPORT_CHUNK
from api.schemas import DecisionEntryPublic, ProposalPublic
from governance.power import governor_operations, power_from_events
from governance.proposal_state import STATE_SQL, ProposalFacts, proposal_state_at
from governance.vocabulary import POWER_EVENTS, ROLES, SUPPORT_NAMES, Addresses

# Vote reasons in lists are cut to this many characters (a reason on-chain can be hundreds of kilobytes).
REASON_PREVIEW = 1_000
# Proposal ids are 256-bit hashes; a reference below this is a proposal's number in the commons (1, 2, …).
NUMBER_LIMIT = 2**64
MEMBER_KINDS = ("MemberAdmitted", "MemberRemoved", "MemberResigned", "DelegateChanged", "StewardAppointed", "StewardRecalled")
TIMELINE_KINDS = ("ProposalCreated", "ProposalExtended", "ProposalQueued", "ProposalExecuted", "ProposalCanceled")
TIMELOCK_KINDS = ("CallScheduled", "CallExecuted", "Cancelled")
# Event arguments a timeline step leaves out (the proposal's own text and actions, shown once beside it).
PROPOSAL_BODY = ("description", "calldatas", "signatures", "targets", "values")
SUMMARY_COLUMNS = [PROPOSALS.c[name] for name in ProposalPublic.model_fields if name != "state"] + [
    PROPOSALS.c.executed_block,
    PROPOSALS.c.canceled_block,
]
VOTES_IN_DETAIL = 100  # a proposal's answer carries its first votes; the votes route pages the rest
VOTER_HANDLE = sa.select(MEMBERS.c.handle).where(MEMBERS.c.address == VOTES.c.voter).scalar_subquery().label("handle")
# A vote row as `_votes` reads it, in the order `vote_public` unpacks it (ten times faster than by attribute).
VOTE_COLUMNS = [
    VOTES.c[name]
    for name in ("id", "proposal_id", "voter", "support", "weight", "reason", "block_number", "tx_hash", "log_index", "timestamp")
] + [VOTER_HANDLE]


def count(conn: Connection, table: sa.Table, *conditions) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(table).where(*conditions)).scalar()


# ---- the commons ----------------------------------------------------------------------------------------------


def cursor(conn: Connection) -> RowMapping | None:
    """The sync cursor (the indexed block, the chain head seen, the log's head), or None before the first batch."""
    return conn.execute(sa.select(CURSOR).where(CURSOR.c.id == 1)).mappings().first()


def commons_overview(conn: Connection, at: RowMapping) -> dict:
    """CommonsPublic at the cursor `at`: addresses, settings, counts, treasury and how far behind the head."""
    return {
        "name": at["name"],
        "chain_id": at["chain_id"],
        "deployment_block": at["deployment_block"],
        "addresses": {role: at[role] for role in ROLES},
        "settings": {r.name: r.value for r in conn.execute(sa.select(SETTINGS))},
        "member_count": count(conn, MEMBERS, MEMBERS.c.is_member.is_(True)),
        "former_member_count": count(conn, MEMBERS, MEMBERS.c.is_member.is_(False)),
        "steward_count": count(conn, STEWARDS, STEWARDS.c.active.is_(True)),
        "proposal_count": count(conn, PROPOSALS),
        "vote_count": count(conn, VOTES),
        "treasury_wei": at["treasury_wei"],
        "indexed_block": {"number": at["block_number"], "hash": at["block_hash"], "timestamp": at["block_timestamp"]},
        "head_block": max(at["head_block"], at["block_number"]),
        "blocks_behind": max(0, at["head_block"] - at["block_number"]),
        "decision_log_count": at["log_seq"],
        "decision_log_head_hash": at["log_head_hash"],
        **_power(conn, cached_addresses(at)),
    }


def _power(conn: Connection, addresses: Addresses) -> dict:
    """timelock_roles and power_outside_the_vote, derived from the decision log's role, ownership and scheduling entries."""
    kinds = ("ProposalCreated", "ProposalQueued", *POWER_EVENTS, "CallScheduled")
    rows = conn.execute(sa.select(LOG.c.kind, LOG.c.data, LOG.c.tx_hash).where(LOG.c.kind.in_(kinds)).order_by(LOG.c.seq))
    events = [(r.kind, json.loads(r.data), r.tx_hash) for r in rows]
    by_governor = governor_operations(events, addresses.governor)
    power = power_from_events(events, addresses, by_governor)
    return {"timelock_roles": power.holders, "power_outside_the_vote": power.outside_the_vote}


# ---- members and stewards -------------------------------------------------------------------------------------


def member_public(row, stewards: set[str]) -> dict:
    return {
        "address": row.address,
        "handle": row.handle,
        "member_number": row.member_number,
        "is_member": row.is_member,
        "steward": row.address in stewards,
        "delegate": row.delegate,
        "first_admitted_time": row.first_admitted_time,
        "admitted_block": row.admitted_block,
        "admitted_time": row.admitted_time,
        "left_how": row.left_how,
        "left_time": row.left_time,
    }


def active_stewards(conn: Connection) -> set[str]:
    return set(conn.execute(sa.select(STEWARDS.c.address).where(STEWARDS.c.active.is_(True))).scalars())


def members_page(conn: Connection, is_member: bool | None, after: int | None, limit: int) -> dict:
    """MembersPublic: members by member number after `after`; current (True), former (False) or all (None)."""
    conditions = [] if is_member is None else [MEMBERS.c.is_member.is_(is_member)]
    total = count(conn, MEMBERS, *conditions)
    if after is not None:
        conditions.append(MEMBERS.c.member_number > after)
    rows = conn.execute(sa.select(MEMBERS).where(*conditions).order_by(MEMBERS.c.member_number).limit(limit)).all()
    stewards = active_stewards(conn)
    return {
        "data": [member_public(r, stewards) for r in rows],
        "count": total,
        "next_after": rows[-1].member_number if len(rows) == limit else None,
    }


def member_detail(conn: Connection, address: str, timestamp: int) -> dict | None:
    """MemberDetail of a current or former member (None if `address` never was one): membership and steward
    history, every vote (reasons cut), every proposal they made, with states at `timestamp`."""
    row = conn.execute(sa.select(MEMBERS).where(MEMBERS.c.address == address)).first()
    if row is None:
        return None
    history = conn.execute(
        sa.select(*ENTRY_COLUMNS).where(LOG.c.subject == address, LOG.c.kind.in_(MEMBER_KINDS)).order_by(LOG.c.seq)
    )
    proposed = conn.execute(sa.select(*SUMMARY_COLUMNS).where(PROPOSALS.c.proposer == address).order_by(PROPOSALS.c.number))
    return {
        **member_public(row, active_stewards(conn)),
        "history": [entry_public(e) for e in history],
        "votes": [vote_public(v) for v in _votes(conn, VOTES.c.voter == address)],
        "proposed": [proposal_public(p, timestamp) for p in proposed],
        "contributions": treasury_queries.contributions_of(conn, address),
    }


def stewards_list(conn: Connection, active_only: bool) -> dict:
    """StewardsPublic: stewards (with their handle if they are members) in order of appointment."""
    query = (
        sa.select(STEWARDS, MEMBERS.c.handle)
        .select_from(STEWARDS.outerjoin(MEMBERS, MEMBERS.c.address == STEWARDS.c.address))
        .order_by(STEWARDS.c.appointed_block, STEWARDS.c.address)
    )
    if active_only:
        query = query.where(STEWARDS.c.active.is_(True))
    rows = conn.execute(query).mappings().all()
    return {"data": [dict(r) for r in rows], "count": len(rows)}


# ---- proposals and votes --------------------------------------------------------------------------------------


def state_of(row, timestamp: int) -> str:
    """The proposal's state at a block with this timestamp (see governance.proposal_state)."""
    facts = ProposalFacts(
        row.snapshot,
        row.deadline,
        row.eta,
        row.votes_for,
        row.votes_against,
        row.votes_abstain,
        row.quorum,
        row.executed_block is not None,
        row.canceled_block is not None,
    )
    return proposal_state_at(facts, timestamp)


def in_state(state: str, timestamp: int):
    """A condition on the proposal table: the proposal is in `state` at a block with this timestamp."""
    return sa.text(f"({STATE_SQL}) = :state").bindparams(timestamp=timestamp, state=state)


def proposal_public(row, timestamp: int) -> dict:
    """ProposalPublic, its fields in the schema's order (so the answer can be encoded as it is, see api.answer_cache)."""
    state = state_of(row, timestamp)
    return {name: state if name == "state" else getattr(row, name) for name in ProposalPublic.model_fields}


def vote_public(row, whole_reason: bool = False) -> dict:
    """VotePublic of a row of VOTE_COLUMNS; the reason cut to REASON_PREVIEW characters unless `whole_reason`."""
    _, proposal_id, voter, support, weight, reason, block_number, tx_hash, log_index, timestamp, handle = row
    cut = not whole_reason and len(reason) > REASON_PREVIEW
    return {
        "proposal_id": proposal_id,
        "voter": voter,
        "handle": handle,
        "support": SUPPORT_NAMES[support],
        "weight": weight,
        "reason": reason[:REASON_PREVIEW] if cut else reason,
        "reason_truncated": cut,
        "block_number": block_number,
        "tx_hash": tx_hash,
        "log_index": log_index,
        "timestamp": timestamp,
    }


def proposals_page(
    conn: Connection, timestamp: int, state: str | None, proposer: str | None, before: int | None, limit: int
) -> dict:
    """ProposalsPublic: proposals numbered below `before`, newest first, with their state at `timestamp`; only
    those in `state` and by `proposer` when given."""
    conditions = []
    if state is not None:
        conditions.append(in_state(state, timestamp))
    if proposer is not None:
        conditions.append(PROPOSALS.c.proposer == proposer)
    total = count(conn, PROPOSALS, *conditions)
    if before is not None:
        conditions.append(PROPOSALS.c.number < before)
    query = sa.select(*SUMMARY_COLUMNS).where(*conditions).order_by(PROPOSALS.c.number.desc()).limit(limit)
    rows = conn.execute(query).all()
    return {
        "data": [proposal_public(r, timestamp) for r in rows],
        "count": total,
        "next_before": rows[-1].number if len(rows) == limit else None,
    }


def proposal_row(conn: Connection, reference: int):
    """The proposal row for an id or, below NUMBER_LIMIT, a number in the commons; None if there is none."""
    if reference < NUMBER_LIMIT:
        condition = PROPOSALS.c.number == reference
    else:
        condition = PROPOSALS.c.proposal_id == str(reference)
    return conn.execute(sa.select(PROPOSALS).where(condition)).first()


def _actions(conn: Connection, row, at: RowMapping) -> list[dict]:
    """ActionPublic of each action: in words (members by handle), whether it was decoded, and any change of power."""
    readings = read_actions(conn, at, row.targets, row.values, row.calldatas)
    return [
        {"target": t, "value_wei": v, "calldata": c, "in_words": reading.words, "known": reading.known}
        | {"power_change": reading.power}
        for t, v, c, reading in zip(row.targets, row.values, row.calldatas, readings)
    ]


def proposal_detail(conn: Connection, row, at: RowMapping) -> dict:
    """ProposalDetail of the proposal `row` at the cursor `at`: text, actions in words, timeline, quorum progress, and
    the first VOTES_IN_DETAIL votes (`votes_next_after` continues them through the votes route)."""
    counted = row.votes_for + row.votes_abstain
    first_votes = votes_page(conn, row, None, VOTES_IN_DETAIL)
    return {
        **proposal_public(row, at["block_timestamp"]),
        **proposal_origin(conn, row),
        "description": row.description,
        "actions": _actions(conn, row, at),
        "timelock_id": row.timelock_id,
        "quorum_progress": {
            "quorum": row.quorum,
            "counted": counted,
            "reached": row.quorum is not None and counted >= row.quorum,
            "percent_of_quorum": round(100 * counted / row.quorum, 2) if row.quorum else None,
        },
        "timeline": _timeline(conn, row),
        "votes": first_votes["data"],
        "votes_next_after": first_votes["next_after"],
    }


def _timeline(conn: Connection, row) -> list[dict]:
    """The proposal's lifecycle entries, and its timelock operation's once queued, in chain order."""
    entries = _entries_about(conn, row.proposal_id, TIMELINE_KINDS)
    if row.timelock_id:
        entries = sorted(entries + _entries_about(conn, row.timelock_id, TIMELOCK_KINDS), key=lambda entry: entry.seq)
    return [
        {
            "step": entry.kind,
            "block_number": entry.block_number,
            "tx_hash": entry.tx_hash,
            "timestamp": entry.timestamp,
            "detail": {k: v for k, v in json.loads(entry.data).items() if k not in PROPOSAL_BODY},
        }
        for entry in entries
    ]


def _entries_about(conn: Connection, subject: str, kinds: tuple[str, ...]) -> list:
    """Entries of these kinds (none of them votes) about `subject`, in chain order, through the partial index of the
    entries other than votes: a proposal has thousands of votes about it and a handful of other entries."""
    # NOT_A_VOTE in the index's own words, and no ORDER BY, or SQLite reads the (subject, seq) index: every vote too.
    query = sa.select(LOG).where(sa.text(NOT_A_VOTE), LOG.c.subject == subject, LOG.c.kind.in_(kinds))
    return sorted(conn.execute(query).all(), key=lambda entry: entry.seq)


def _votes(conn: Connection, condition, after: int | None = None, limit: int | None = None) -> list:
    """Vote rows (with the voter's handle) in the order they were cast."""
    # The handle as a subquery per row returned, so only the page's voters are looked up, each by the member key.
    # Joined instead, PostgreSQL hashed the whole member table for a page of a hundred (1.7 ms of 10,000 members) or,
    # planning without statistics, joined every vote after the cursor before keeping the first hundred (14 ms).
    query = sa.select(*VOTE_COLUMNS).where(condition).order_by(VOTES.c.id)
    if after is not None:
        query = query.where(VOTES.c.id > after)
    if limit is not None:
        query = query.limit(limit)
    return conn.execute(query).all()


def votes_page(conn: Connection, proposal, after: int | None, limit: int) -> dict:
    """VotesPublic: the votes on the proposal row `proposal` cast after the vote `after`, reasons cut."""
    rows = _votes(conn, VOTES.c.proposal_id == proposal.proposal_id, after, limit + 1)  # one more: is there a next page?
    return {
        "data": [vote_public(v) for v in rows[:limit]],
        "count": proposal.voter_count,
        "next_after": rows[limit - 1].id if len(rows) > limit else None,
    }


def one_vote(conn: Connection, proposal_id: str, voter: str) -> dict | None:
    """VotePublic of `voter`'s vote on the proposal, with its whole reason; None if they did not vote on it."""
    rows = _votes(conn, sa.and_(VOTES.c.proposal_id == proposal_id, VOTES.c.voter == voter))
    return vote_public(rows[0], whole_reason=True) if rows else None


# ---- the decision log -----------------------------------------------------------------------------------------


ENTRY_FIELDS = tuple(DecisionEntryPublic.model_fields)
ENTRY_COLUMNS = [LOG.c[name] for name in ENTRY_FIELDS]  # an entry as the API reads it, in the order of its fields


def entry_public(row) -> dict:
    """A decision-log row as exported: the hashed body (with `data` parsed back) and its hash."""
    entry = entry_public_fields(row)
    entry["data"] = json.loads(row.data)
    return entry


def entry_answer(row) -> dict:
    """`entry_public` with `data` as its stored canonical JSON, for orjson to write as it is: the same bytes as parsing
    and writing it again (sorted keys, no whitespace, non-ASCII as UTF-8), without doing so 100 times a page."""
    entry = entry_public_fields(row)
    entry["data"] = orjson.Fragment(row.data)
    return entry


def entry_public_fields(row) -> dict:
    """The fields of a row of ENTRY_COLUMNS by name (its `data` as stored)."""
    return dict(zip(ENTRY_FIELDS, row))


@dataclass(frozen=True)
class LogFilter:
    """Which entries a request asks for (no filter: all of them); every filter given must pass."""

    kinds: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
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
    votes through the vote table's voter index, their proposals through the proposal table's proposer index, and
    delegations to them through the delegatee index (DelegateChanged entries' canonical JSON ends with it)."""
    log = LOG.alias("concerned")
    return LOG.c.seq.in_(
        sa.union_all(
            sa.select(log.c.seq).where(log.c.subject == member),
            sa.select(log.c.seq)
            .join(VOTES, sa.and_(VOTES.c.block_number == log.c.block_number, VOTES.c.log_index == log.c.log_index))
            .where(VOTES.c.voter == member),
            sa.select(log.c.seq)
            .join(PROPOSALS, PROPOSALS.c.proposal_id == log.c.subject)
            .where(PROPOSALS.c.proposer == member, log.c.kind == "ProposalCreated"),
            # Through the delegatee index (its words repeated); the content check keeps exactly what it matched before.
            sa.select(log.c.seq).where(
                sa.text(A_DELEGATION),
                sa.text(f"{DELEGATEE} = :delegatee").bindparams(delegatee=member),
                log.c.data.contains(f'"toDelegate":"{member}"'),
            ),
        )
    )


def decisions_page(
    conn: Connection,
    at: RowMapping,
    wanted: LogFilter,
    after: int | None,
    before: int | None,
    limit: int,
    entry: Callable[..., dict] = entry_public,
) -> dict:
    """DecisionsPublic: the `limit` entries `wanted` after the entry `after` (or, reading back, before `before`), in
    chain order, each shaped by `entry`; `count` is how many match in the log up to the cursor `at`, whose
    `head_hash` (the newest entry's) pins it."""
    conditions = wanted.conditions()
    total = matching_entries(conn, at, wanted) if conditions else at["log_seq"]
    query = sa.select(*ENTRY_COLUMNS).where(*conditions).limit(limit)
    if before is not None:
        rows = conn.execute(query.where(LOG.c.seq < before).order_by(LOG.c.seq.desc())).all()[::-1]
    else:
        rows = conn.execute(query.where(LOG.c.seq > (after or 0)).order_by(LOG.c.seq)).all()
    more = len(rows) == limit
    return {
        "data": [entry(r) for r in rows],
        "count": total,
        "head_hash": at["log_head_hash"],
        "next_after": rows[-1].seq if more and before is None else None,
        "next_before": rows[0].seq if more and before is not None else None,
    }


class CountsByHead:
    """How many entries match a filter, kept by the log's head (its newest entry's hash and sequence number).

    The head hash pins every entry before it (the hash chain), so a count kept under it stays true for every page
    read at that head; counting anew cost each page of a filtered log a scan of every match (all 350,000 VoteCast
    entries of a large history for `kind=VoteCast`). The least recently used counts are dropped beyond `size`.
    """

    def __init__(self, size: int = 4_096):
        self.size = size
        self.kept: OrderedDict[tuple, int] = OrderedDict()
        self.lock = Lock()

    def get(self, key: tuple) -> int | None:
        with self.lock:
            found = self.kept.get(key)
            if found is not None:
                self.kept.move_to_end(key)
            return found

    def put(self, key: tuple, value: int) -> None:
        with self.lock:
            self.kept[key] = value
            while len(self.kept) > self.size:
                self.kept.popitem(last=False)


LOG_COUNTS = CountsByHead()


def matching_entries(conn: Connection, at: RowMapping, wanted: LogFilter) -> int:
    """How many entries up to the cursor `at` pass `wanted` (counted once per head of the log, see CountsByHead)."""
    key = (at["log_head_hash"], at["log_seq"], wanted)
    found = LOG_COUNTS.get(key)
    if found is None:
        # Only entries up to the cursor's: the count then belongs to the head it is kept under, even if the indexer
        # commits more between reading the cursor and counting (PostgreSQL reads each statement afresh).
        found = count(conn, LOG, LOG.c.seq <= at["log_seq"], *wanted.conditions())
        LOG_COUNTS.put(key, found)
    return found


def exported_entries(engine: Engine, wanted: LogFilter) -> Iterator[dict]:
    """Every entry `wanted`, in chain order, as `entry_public` shapes it (for the exports)."""
    # A fresh connection per chunk keeps a long export from holding one transaction open.
    after = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(*ENTRY_COLUMNS).where(LOG.c.seq > after, *wanted.conditions()).order_by(LOG.c.seq).limit(EXPORT_CHUNK)
            ).all()
        if not rows:
            return
        for row in rows:
            yield entry_public(row)
        after = rows[-1].seq


# ---- participation --------------------------------------------------------------------------------------------


def ratio(part: int, whole: int | None) -> float | None:
    return round(part / whole, 4) if whole else None


def participation(conn: Connection, timestamp: int) -> dict:
    """ParticipationPublic: turnout (voters ÷ members at the snapshot) per proposal whose voting had opened by
    `timestamp`, per member, and per month."""
    opened = conn.execute(
        sa.select(
            PROPOSALS.c.proposal_id,
            PROPOSALS.c.number,
            PROPOSALS.c.title,
            PROPOSALS.c.voter_count,
            PROPOSALS.c.electorate,
            PROPOSALS.c.snapshot,
            PROPOSALS.c.created_time,
        )
        .where(PROPOSALS.c.snapshot < timestamp)
        .order_by(PROPOSALS.c.number)
    ).all()
    return {
        "per_proposal": [
            {
                "proposal_id": p.proposal_id,
                "number": p.number,
                "title": p.title,
                "voters": p.voter_count,
                "electorate": p.electorate,
                "turnout": ratio(p.voter_count, p.electorate),
            }
            for p in opened
        ],
        "per_member": _turnout_per_member(conn, sorted(p.snapshot for p in opened)),
        "over_time": _turnout_per_month(opened),
        "funders": treasury_queries.funders(conn),
    }


def _turnout_per_member(conn: Connection, snapshots: list[int]) -> list[dict]:
    votes_by = dict(conn.execute(sa.select(VOTES.c.voter, sa.func.count()).group_by(VOTES.c.voter)).all())
    per_member = []
    for m in conn.execute(sa.select(MEMBERS).order_by(MEMBERS.c.member_number)):
        # Proposals whose snapshot fell within the member's current or past membership.
        end = m.left_time if m.left_time is not None else float("inf")
        eligible = sum(1 for s in snapshots if m.first_admitted_time <= s < end)
        cast = votes_by.get(m.address, 0)
        per_member.append(
            {
                "address": m.address,
                "handle": m.handle,
                "votes_cast": cast,
                "proposals_open_to_them": eligible,
                "rate": ratio(cast, eligible),
            }
        )
    return per_member


def _turnout_per_month(opened: list) -> list[dict]:
    months: dict[str, list] = defaultdict(lambda: [0, 0, []])  # month → proposals, votes, turnouts
    for p in opened:
        month = datetime.fromtimestamp(p.created_time, UTC).strftime("%Y-%m")
        months[month][0] += 1
        months[month][1] += p.voter_count
        if p.electorate:
            months[month][2].append(p.voter_count / p.electorate)
    return [
        {"period": k, "proposals": n, "votes": v, "average_turnout": round(sum(t) / len(t), 4) if t else None}
        for k, (n, v, t) in sorted(months.items())
    ]
