"""The SQL sink: applies the indexer's happenings to the cache, each in one database transaction.

A batch writes its decision-log entries, the rows they change and the cursor together, so a killed
indexer resumes from the cursor with nothing lost or doubled; a batch at or below the cursor changes
nothing. A rollback deletes everything after the common ancestor and recomputes the rows it touched
by replaying the decision-log entries that remain (the log is the append-only record; the other
tables are views of it kept ready for reading).
"""

import bisect
import json
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from api.models import DecisionEntry, IndexedBlock, Member, Proposal, Setting, Steward, SyncCursor, Vote
from governance import actions as act
from governance.decision_log import GENESIS_HASH, Entry, chain
from governance.errors import ConfigurationError
from governance.events import Event
from governance.indexer import Batch, Happening, Rollback
from governance.manifest import Manifest
from governance.rpc import BlockRef

CURSOR, BLOCKS, LOG = SyncCursor.__table__, IndexedBlock.__table__, DecisionEntry.__table__
MEMBERS, STEWARDS, SETTINGS, PROPOSALS, VOTES = (Member.__table__, Steward.__table__, Setting.__table__,
                                                 Proposal.__table__, Vote.__table__)

# Event → (setting name, argument holding the new value).
SETTING_EVENTS = {
    "VotingDelaySet": ("voting_delay", "newVotingDelay"),
    "VotingPeriodSet": ("voting_period", "newVotingPeriod"),
    "ProposalThresholdSet": ("proposal_threshold", "newProposalThreshold"),
    "QuorumNumeratorUpdated": ("quorum_numerator", "newQuorumNumerator"),
    "LateQuorumVoteExtensionSet": ("late_quorum_extension", "newVoteExtension"),
    "MinDelayChange": ("timelock_delay", "newDuration"),
}
MEMBER_EVENTS = ("MemberAdmitted", "MemberRemoved", "MemberResigned", "DelegateChanged")
STEWARD_EVENTS = ("StewardAppointed", "StewardRecalled")
VOTE_EVENTS = ("VoteCast", "VoteCastWithParams")
LIFECYCLE_EVENTS = ("ProposalExtended", "ProposalQueued", "ProposalExecuted", "ProposalCanceled")
TIMELOCK_EVENTS = ("CallScheduled", "CallExecuted", "Cancelled")
LIFECYCLE_RESET = {"eta": 0, "timelock_id": None, "queued_block": None, "queued_tx": None, "queued_time": None,
                   "executed_block": None, "executed_tx": None, "executed_time": None,
                   "canceled_block": None, "canceled_tx": None, "canceled_time": None}
# support (0 against, 1 for, 2 abstain) → position in a [for, against, abstain, voters] tally.
TALLY_INDEX = {1: 0, 0: 1, 2: 2}
# Reorgs deeper than this many blocks fall back to a full re-index.
KEEP_BLOCKS = 1024


class SqlSink:
    """Applies happenings to the cache behind `engine` for the commons of `manifest`."""

    def __init__(self, engine: Engine, manifest: Manifest, keep_blocks: int = KEEP_BLOCKS):
        self.engine = engine
        self.manifest = manifest
        self.chain_id = manifest.chain_id
        self.addresses = manifest.addresses
        self.keep_blocks = keep_blocks

    def cursor(self) -> BlockRef | None:
        """The last indexed block; ConfigurationError if the cache belongs to another commons."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(CURSOR).where(CURSOR.c.id == 1)).mappings().first()
        if row is None:
            return None
        if row["governor"] != self.addresses.governor or row["chain_id"] != self.chain_id:
            raise ConfigurationError(f"The cache holds the commons {row['governor']} on chain {row['chain_id']}, not "
                                     f"{self.addresses.governor} on chain {self.chain_id}; use another database.")
        return BlockRef(row["block_number"], row["block_hash"], row["block_timestamp"])

    def log_head(self) -> tuple[int, str]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(CURSOR.c.log_seq, CURSOR.c.log_head_hash).where(CURSOR.c.id == 1)).first()
        return (row[0], row[1]) if row is not None else (0, GENESIS_HASH)

    def recent_blocks(self) -> list[BlockRef]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(BLOCKS).order_by(BLOCKS.c.number.desc())).all()
        return [BlockRef(r.number, r.hash, r.timestamp) for r in rows]

    def apply(self, happening: Happening) -> None:
        """Apply a batch or a rollback atomically."""
        with self.engine.begin() as conn:
            if isinstance(happening, Rollback):
                _rollback(conn, happening, self.addresses)
            else:
                self._apply_batch(conn, happening)

    def _apply_batch(self, conn: Connection, batch: Batch) -> None:
        query = sa.select(CURSOR).where(CURSOR.c.id == 1)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()  # one writer at a time, even if two indexers were started
        row = conn.execute(query).mappings().first()
        if row is not None and batch.last.number <= row["block_number"]:
            return  # already applied: re-reading a range changes nothing
        done = row["block_number"] if row is not None else -1
        events = [e for e in batch.events if e.block_number > done]
        seq, head = (row["log_seq"], row["log_head_hash"]) if row is not None else (0, GENESIS_HASH)
        fresh = batch.entries
        if fresh is not None and len(events) == len(batch.events) and (
                not fresh or (fresh[0].seq == seq + 1 and fresh[0].prev_hash == head)):
            entries = fresh  # chained by the indexer from this very head
        else:
            entries = list(chain(events, seq, head))
        if entries:
            bulk_insert(conn, LOG, LOG_COLUMNS, [_entry_row(e) for e in entries])
            seq, head = entries[-1].seq, entries[-1].hash
        changes = Changes(conn, self.addresses)
        for event in events:
            changes.apply(event)
        changes.flush()
        _fill_quorums(conn, batch.last.timestamp)
        self._remember(conn, batch)
        m = self.manifest
        values = {"chain_id": m.chain_id, "name": m.name, "membership": m.membership, "governor": m.governor,
                  "timelock": m.timelock, "deployment_block": m.deployment_block, "block_number": batch.last.number,
                  "block_hash": batch.last.hash, "block_timestamp": batch.last.timestamp, "head_block": batch.head,
                  "log_seq": seq, "log_head_hash": head}
        if batch.treasury_wei is not None:  # else the last known balance stands until a batch near the head
            values["treasury_wei"] = str(batch.treasury_wei)
        if row is None:
            conn.execute(CURSOR.insert().values(id=1, **values))
        else:
            conn.execute(CURSOR.update().where(CURSOR.c.id == 1).values(**values))

    def _remember(self, conn: Connection, batch: Batch) -> None:
        oldest = batch.last.number - self.keep_blocks  # older blocks are forgotten anyway
        conn.execute(BLOCKS.delete().where(sa.or_(BLOCKS.c.number < oldest, BLOCKS.c.number >= batch.first_block)))
        conn.execute(BLOCKS.insert(), [{"number": b.number, "hash": b.hash, "timestamp": b.timestamp}
                                       for b in batch.blocks if b.number >= oldest])


LOG_COLUMNS = ("seq", "block_number", "block_hash", "tx_hash", "log_index", "timestamp", "contract", "kind", "subject",
               "data", "prev_hash", "hash")
VOTE_COLUMNS = ("proposal_id", "voter", "support", "weight", "reason", "params", "block_number", "tx_hash", "log_index",
                "timestamp")


def _entry_row(entry: Entry) -> tuple:
    e = entry.event
    return (entry.seq, e.block_number, e.block_hash, e.tx_hash, e.log_index, e.timestamp, e.contract, e.name,
            entry.subject, entry.data_json, entry.prev_hash, entry.hash)


def bulk_insert(conn: Connection, table: sa.Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert many plain rows (ints and strings only) at driver speed, inside the current transaction.

    SQLAlchemy's per-row parameter processing costs more than the insert itself in a backfill, so the two
    big tables go straight to the driver: COPY on PostgreSQL, executemany on SQLite.
    """
    if not rows:
        return
    names = ", ".join(f'"{c}"' for c in columns)
    driver = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})", rows)


def event_of_row(row) -> Event:
    """An Event back from a stored decision-log row (integer arguments come back as decimal strings)."""
    return Event(row.block_number, row.block_hash, row.tx_hash, row.log_index, row.timestamp, row.contract, row.kind,
                 json.loads(row.data))


class Changes:
    """Rows changed by a run of events, held in memory and written in bulk by `flush`."""

    def __init__(self, conn: Connection, addresses: act.Addresses):
        self.conn = conn
        self.addresses = addresses
        self.members: dict[str, tuple[dict | None, bool]] = {}
        self.stewards: dict[str, tuple[dict | None, bool]] = {}
        self.settings: dict[str, dict] = {}
        self.proposals: dict[str, list] = {}  # id → [row, is_new, changed fields]
        self.tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # for, against, abstain, voters
        self.votes: list[tuple] = []
        self.scheduled: dict[str, list[str]] = defaultdict(list)  # tx hash → timelock operation ids
        self.next_number: int | None = None

    # ---- loading ----

    def _load(self, cache: dict, table: sa.Table, key_column, key: str) -> dict | None:
        if key not in cache:
            row = self.conn.execute(sa.select(table).where(key_column == key)).mappings().first()
            cache[key] = (dict(row) if row else None, row is None)
        return cache[key][0]

    def _proposal(self, proposal_id: str) -> dict | None:
        if proposal_id not in self.proposals:
            row = self.conn.execute(sa.select(PROPOSALS).where(PROPOSALS.c.proposal_id == proposal_id)).mappings().first()
            if row is None:
                return None
            self.proposals[proposal_id] = [dict(row), False, set()]
        return self.proposals[proposal_id][0]

    def _proposal_of_operation(self, operation_id: str) -> dict | None:
        for row, _, _ in self.proposals.values():
            if row["timelock_id"] == operation_id:
                return row
        found = self.conn.execute(sa.select(PROPOSALS.c.proposal_id).where(PROPOSALS.c.timelock_id == operation_id)).first()
        return self._proposal(found[0]) if found else None

    def _set(self, proposal: dict, **fields) -> None:
        proposal.update(fields)
        self.proposals[proposal["proposal_id"]][2].update(fields)

    # ---- applying ----

    def apply(self, e: Event) -> None:
        """Change the rows `e` affects (in memory until `flush`)."""
        a, name = e.args, e.name
        if name in VOTE_EVENTS:
            self._vote(e)
        elif name in MEMBER_EVENTS:
            self._membership(e)
        elif name in STEWARD_EVENTS:
            self._steward(e)
        elif name in SETTING_EVENTS:
            setting, arg = SETTING_EVENTS[name]
            self.settings[setting] = {"name": setting, "value": int(a[arg]), "block_number": e.block_number, "timestamp": e.timestamp}
        elif name == "ProposalCreated":
            self._created(e)
        elif name == "CallScheduled":
            self.scheduled[e.tx_hash].append(a["id"])
        elif name in LIFECYCLE_EVENTS or name in TIMELOCK_EVENTS:
            self._lifecycle(e)

    def _vote(self, e: Event) -> None:
        a = e.args
        proposal_id, support, weight = str(a["proposalId"]), int(a["support"]), int(a["weight"])
        self.votes.append((proposal_id, a["voter"], support, weight, a["reason"], a.get("params", "0x"), e.block_number,
                           e.tx_hash, e.log_index, e.timestamp))
        slot = self.proposals.get(proposal_id)
        if slot is not None and slot[1]:  # created in this run: count straight into the new row
            row = slot[0]
            column = ("votes_against", "votes_for", "votes_abstain")[support]
            row[column] += weight
            row["voter_count"] += 1
        else:
            tally = self.tallies[proposal_id]
            tally[TALLY_INDEX[support]] += weight
            tally[3] += 1

    def _membership(self, e: Event) -> None:
        a = e.args
        who = a["delegator"] if e.name == "DelegateChanged" else a["member"]
        row = self._load(self.members, MEMBERS, MEMBERS.c.address, who)
        if e.name == "DelegateChanged":
            if row is not None:  # a new member's self-delegation comes before MemberAdmitted, which sets it
                row["delegate"] = a["toDelegate"]
            return
        if e.name == "MemberAdmitted":
            fresh = {"handle": a["handle"], "member_number": int(a["tokenId"]), "is_member": True, "delegate": who,
                     "admitted_block": e.block_number, "admitted_time": e.timestamp,
                     "left_how": None, "left_block": None, "left_time": None}
            if row is None:
                row = {"address": who, "first_admitted_block": e.block_number, "first_admitted_time": e.timestamp}
                self.members[who] = (row, True)
            row.update(fresh)
        elif row is not None:
            row.update(is_member=False, left_how="removed" if e.name == "MemberRemoved" else "resigned",
                       left_block=e.block_number, left_time=e.timestamp)

    def _steward(self, e: Event) -> None:
        who = e.args["steward"]
        row = self._load(self.stewards, STEWARDS, STEWARDS.c.address, who)
        if e.name == "StewardAppointed":
            fresh = {"address": who, "active": True, "appointed_block": e.block_number, "appointed_tx": e.tx_hash,
                     "appointed_time": e.timestamp, "recalled_block": None, "recalled_tx": None, "recalled_time": None}
            if row is None:
                self.stewards[who] = (fresh, True)
            else:
                row.update(fresh)
        elif row is not None:
            row.update(active=False, recalled_block=e.block_number, recalled_tx=e.tx_hash, recalled_time=e.timestamp)

    def _created(self, e: Event) -> None:
        a = e.args
        if self.next_number is None:
            self.next_number = (self.conn.execute(sa.select(sa.func.max(PROPOSALS.c.number))).scalar() or 0) + 1
        calldatas = list(a["calldatas"])
        values = [int(v) for v in a["values"]]
        actions = [act.Action(t, v, bytes.fromhex(c[2:])) for t, v, c in zip(a["targets"], values, calldatas)]
        row = {"proposal_id": str(a["proposalId"]), "number": self.next_number, "proposer": a["proposer"],
               "title": act.proposal_title(a["description"]), "description": a["description"],
               "targets": list(a["targets"]), "values": [str(v) for v in values], "calldatas": calldatas,
               "signatures": list(a["signatures"]), "actions_in_words": [act.describe(x, self.addresses) for x in actions],
               "snapshot": int(a["voteStart"]), "vote_end": int(a["voteEnd"]), "deadline": int(a["voteEnd"]),
               "votes_for": 0, "votes_against": 0, "votes_abstain": 0, "voter_count": 0, "quorum": None,
               "created_block": e.block_number, "created_tx": e.tx_hash, "created_time": e.timestamp, **LIFECYCLE_RESET}
        self.next_number += 1
        self.proposals[row["proposal_id"]] = [row, True, set()]

    def _lifecycle(self, e: Event) -> None:
        a, name = e.args, e.name
        if name in TIMELOCK_EVENTS:
            proposal = self._proposal_of_operation(a["id"])
        else:
            proposal = self._proposal(str(a["proposalId"]))
        if proposal is None:
            return
        when = {"block": e.block_number, "tx": e.tx_hash, "time": e.timestamp}
        done = proposal["executed_block"] is not None or proposal["canceled_block"] is not None
        if name == "ProposalExtended":
            self._set(proposal, deadline=max(proposal["vote_end"], int(a["extendedDeadline"])))
        elif name == "ProposalQueued":
            ids = self.scheduled.get(e.tx_hash) or [None]
            self._set(proposal, eta=int(a["etaSeconds"]), timelock_id=ids[0], **_step("queued", when))
        elif name == "ProposalExecuted" and not done:
            self._set(proposal, **_step("executed", when))
        elif name == "ProposalCanceled" and not done:
            self._set(proposal, **_step("canceled", when))
        # Run or cancelled directly on the timelock: GovernorTimelockControl then reads executed / canceled.
        elif name == "CallExecuted" and not done and int(a["index"]) == len(proposal["targets"]) - 1:
            self._set(proposal, **_step("executed", when))
        elif name == "Cancelled" and not done:
            self._set(proposal, **_step("canceled", when))

    # ---- writing ----

    def flush(self) -> None:
        """Write every change held in memory."""
        conn = self.conn
        for cache, table, key in ((self.members, MEMBERS, "address"), (self.stewards, STEWARDS, "address")):
            new = [row for row, is_new in cache.values() if row is not None and is_new]
            if new:
                conn.execute(table.insert(), new)
            for row, is_new in cache.values():
                if row is not None and not is_new:
                    conn.execute(table.update().where(table.c[key] == row[key]).values(**row))
        if self.settings:
            conn.execute(SETTINGS.delete().where(SETTINGS.c.name.in_(list(self.settings))))
            conn.execute(SETTINGS.insert(), list(self.settings.values()))
        new_proposals = [row for row, is_new, _ in self.proposals.values() if is_new]
        if new_proposals:
            conn.execute(PROPOSALS.insert(), new_proposals)
        for row, is_new, changed in self.proposals.values():
            if not is_new and changed:
                conn.execute(PROPOSALS.update().where(PROPOSALS.c.proposal_id == row["proposal_id"])
                             .values(**{k: row[k] for k in changed}))
        bulk_insert(conn, VOTES, VOTE_COLUMNS, self.votes)
        for proposal_id, (for_, against, abstain, voters) in self.tallies.items():
            conn.execute(PROPOSALS.update().where(PROPOSALS.c.proposal_id == proposal_id).values(
                votes_for=PROPOSALS.c.votes_for + for_, votes_against=PROPOSALS.c.votes_against + against,
                votes_abstain=PROPOSALS.c.votes_abstain + abstain, voter_count=PROPOSALS.c.voter_count + voters))


def _step(step: str, when: dict) -> dict:
    return {f"{step}_block": when["block"], f"{step}_tx": when["tx"], f"{step}_time": when["time"]}


def _fill_quorums(conn: Connection, timestamp: int) -> None:
    """Set the quorum of proposals whose snapshot has passed: members at the snapshot × percentage ÷ 100.

    Both come from the decision log, read once for all such proposals: the members counted as the membership's
    checkpointed total supply counts them (changes at or before the snapshot), the percentage last set by then.
    """
    pending = conn.execute(sa.select(PROPOSALS.c.proposal_id, PROPOSALS.c.snapshot)
                           .where(PROPOSALS.c.quorum.is_(None), PROPOSALS.c.snapshot < timestamp)).all()
    if not pending:
        return
    member_times, member_counts, numerator_times, numerators = [], [], [], []
    for kind, at, data in conn.execute(
            sa.select(LOG.c.kind, LOG.c.timestamp, LOG.c.data)
            .where(LOG.c.kind.in_(MEMBER_EVENTS[:3] + ("QuorumNumeratorUpdated",)),
                   LOG.c.timestamp <= max(snapshot for _, snapshot in pending))
            .order_by(LOG.c.seq)):
        if kind == "QuorumNumeratorUpdated":
            numerator_times.append(at)
            numerators.append(int(json.loads(data)["newQuorumNumerator"]))
        else:
            member_times.append(at)
            member_counts.append((member_counts[-1] if member_counts else 0) + (1 if kind == "MemberAdmitted" else -1))
    for proposal_id, snapshot in pending:
        changes = bisect.bisect_right(member_times, snapshot)
        electorate = member_counts[changes - 1] if changes else 0
        settings = bisect.bisect_right(numerator_times, snapshot)
        quorum = electorate * (numerators[settings - 1] if settings else 0) // 100
        conn.execute(PROPOSALS.update().where(PROPOSALS.c.proposal_id == proposal_id)
                     .values(quorum=quorum, electorate=electorate))


def _rollback(conn: Connection, rollback: Rollback, addresses: act.Addresses) -> None:
    """Delete everything after the ancestor, then recompute what those rows had changed."""
    ancestor = rollback.ancestor
    last = ancestor.number if ancestor else -1
    removed = conn.execute(sa.select(LOG.c.kind, LOG.c.subject).where(LOG.c.block_number > last)).all()
    members = {s for k, s in removed if k in MEMBER_EVENTS}
    stewards = {s for k, s in removed if k in STEWARD_EVENTS}
    proposal_ids = {s for k, s in removed if k in VOTE_EVENTS + LIFECYCLE_EVENTS}
    operations = [s for k, s in removed if k in TIMELOCK_EVENTS]
    if operations:
        proposal_ids |= {r[0] for r in conn.execute(sa.select(PROPOSALS.c.proposal_id).where(PROPOSALS.c.timelock_id.in_(operations)))}
    settings_changed = any(k in SETTING_EVENTS for k, _ in removed)

    for table in (LOG, VOTES, BLOCKS):
        column = table.c.number if table is BLOCKS else table.c.block_number
        conn.execute(table.delete().where(column > last))
    conn.execute(PROPOSALS.delete().where(PROPOSALS.c.created_block > last))
    conn.execute(MEMBERS.delete().where(MEMBERS.c.address.in_(members)))
    conn.execute(STEWARDS.delete().where(STEWARDS.c.address.in_(stewards)))
    if settings_changed:
        conn.execute(SETTINGS.delete())
    _reset_proposals(conn, proposal_ids)
    conn.execute(PROPOSALS.update().where(PROPOSALS.c.snapshot >= (ancestor.timestamp if ancestor else 0)).values(quorum=None, electorate=None))

    replay = sa.or_(
        sa.and_(LOG.c.kind.in_(MEMBER_EVENTS), LOG.c.subject.in_(members)),
        sa.and_(LOG.c.kind.in_(STEWARD_EVENTS), LOG.c.subject.in_(stewards)),
        sa.and_(LOG.c.kind.in_(LIFECYCLE_EVENTS), LOG.c.subject.in_(proposal_ids)),
        LOG.c.kind.in_(TIMELOCK_EVENTS) if proposal_ids else sa.false(),
        LOG.c.kind.in_(list(SETTING_EVENTS)) if settings_changed else sa.false(),
    )
    changes = Changes(conn, addresses)
    for row in conn.execute(sa.select(LOG).where(replay).order_by(LOG.c.seq)):
        changes.apply(event_of_row(row))
    changes.flush()

    if ancestor is None:
        conn.execute(CURSOR.delete())
        return
    tail = conn.execute(sa.select(LOG.c.seq, LOG.c.hash).order_by(LOG.c.seq.desc()).limit(1)).first()
    treasury = {} if rollback.treasury_wei is None else {"treasury_wei": str(rollback.treasury_wei)}
    conn.execute(CURSOR.update().where(CURSOR.c.id == 1).values(
        block_number=ancestor.number, block_hash=ancestor.hash, block_timestamp=ancestor.timestamp,
        log_seq=tail[0] if tail else 0, log_head_hash=tail[1] if tail else GENESIS_HASH, **treasury))
    _fill_quorums(conn, ancestor.timestamp)


def _reset_proposals(conn: Connection, proposal_ids: set[str]) -> None:
    """Lifecycle fields back to 'just created' and tallies recounted from the remaining votes."""
    if not proposal_ids:
        return
    conn.execute(PROPOSALS.update().where(PROPOSALS.c.proposal_id.in_(proposal_ids))
                 .values(deadline=PROPOSALS.c.vote_end, **LIFECYCLE_RESET))
    for proposal_id in proposal_ids:
        sums = dict.fromkeys(range(3), 0)
        voters = 0
        for support, weight, count in conn.execute(
                sa.select(VOTES.c.support, sa.func.sum(VOTES.c.weight), sa.func.count())
                .where(VOTES.c.proposal_id == proposal_id).group_by(VOTES.c.support)):
            sums[support] = int(weight)
            voters += count
        conn.execute(PROPOSALS.update().where(PROPOSALS.c.proposal_id == proposal_id).values(
            votes_against=sums[0], votes_for=sums[1], votes_abstain=sums[2], voter_count=voters))
