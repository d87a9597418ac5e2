"""Events → cache rows: what each governance event makes of the members, stewards, settings, proposals and votes.

A `Projection` reads the rows a run of events changes through a `RowSource` (the sink's SQL, or a dictionary in a
test), changes them in memory, and hands them to the sink to write. Rows are named: a dataclass per table whose
rows change, a NamedTuple for the append-only ones (inserted as plain tuples at driver speed).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Generic, NamedTuple, Protocol, TypeVar

from governance import actions as act
from governance.decision_log import Entry
from governance.events import Event
from governance.vocabulary import (
    LIFECYCLE_EVENTS,
    MEMBER_EVENTS,
    STEWARD_EVENTS,
    SUPPORT_NAMES,
    TIMELOCK_EVENTS,
    VOTE_EVENTS,
    Addresses,
)

# Event → (setting name, argument holding the new value).
SETTING_EVENTS = {
    "VotingDelaySet": ("voting_delay", "newVotingDelay"),
    "VotingPeriodSet": ("voting_period", "newVotingPeriod"),
    "ProposalThresholdSet": ("proposal_threshold", "newProposalThreshold"),
    "QuorumNumeratorUpdated": ("quorum_numerator", "newQuorumNumerator"),
    "LateQuorumVoteExtensionSet": ("late_quorum_extension", "newVoteExtension"),
    "MinDelayChange": ("timelock_delay", "newDuration"),
}
# A vote's support (its index) → the proposal column its weight adds to.
TALLY_COLUMNS = tuple(f"votes_{name}" for name in SUPPORT_NAMES)
# The steps after creation a proposal can take; each is recorded as <step>_block, <step>_tx and <step>_time.
STEPS = ("queued", "executed", "canceled")
# A proposal's lifecycle fields as they are when it is created (and again after a rollback of its later steps).
JUST_CREATED = {"eta": 0, "timelock_id": None} | {f"{s}_{part}": None for s in STEPS for part in ("block", "tx", "time")}


class LogRow(NamedTuple):
    """One decision-log entry, in the column order of the decision_entry table."""

    seq: int
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    timestamp: int
    contract: str
    kind: str
    subject: str | None
    data: str
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, entry: Entry) -> "LogRow":
        e = entry.event
        return cls(
            entry.seq,
            e.block_number,
            e.block_hash,
            e.tx_hash,
            e.log_index,
            e.timestamp,
            e.contract,
            e.name,
            entry.subject,
            entry.data_json,
            entry.prev_hash,
            entry.hash,
        )


class VoteRow(NamedTuple):
    """One cast vote, in the column order of the vote table (without its id, which the database gives)."""

    proposal_id: str
    voter: str
    support: int
    weight: int
    reason: str
    params: str
    block_number: int
    tx_hash: str
    log_index: int
    timestamp: int


@dataclass
class MemberRow:
    address: str
    member_number: int
    handle: str
    is_member: bool
    delegate: str | None
    first_admitted_block: int
    first_admitted_time: int
    admitted_block: int
    admitted_time: int
    left_how: str | None = None
    left_block: int | None = None
    left_time: int | None = None


@dataclass
class StewardRow:
    address: str
    active: bool
    appointed_block: int
    appointed_tx: str
    appointed_time: int
    recalled_block: int | None = None
    recalled_tx: str | None = None
    recalled_time: int | None = None


@dataclass
class SettingRow:
    name: str
    value: int
    block_number: int
    timestamp: int


@dataclass
class ProposalRow:
    proposal_id: str
    number: int
    proposer: str
    title: str
    description: str
    targets: list
    values: list  # wei as decimal strings
    calldatas: list
    signatures: list
    actions_in_words: list
    snapshot: int
    vote_end: int
    deadline: int
    created_block: int
    created_tx: str
    created_time: int
    eta: int = 0
    votes_for: int = 0
    votes_against: int = 0
    votes_abstain: int = 0
    voter_count: int = 0
    quorum: int | None = None
    electorate: int | None = None
    timelock_id: str | None = None
    queued_block: int | None = None
    queued_tx: str | None = None
    queued_time: int | None = None
    executed_block: int | None = None
    executed_tx: str | None = None
    executed_time: int | None = None
    canceled_block: int | None = None
    canceled_tx: str | None = None
    canceled_time: int | None = None
    initiative_id: int | None = None


@dataclass
class Tally:
    """Votes to add to a proposal that is not held in memory (the sink adds them in SQL, without reading it)."""

    votes_against: int = 0
    votes_for: int = 0
    votes_abstain: int = 0
    voter_count: int = 0


R = TypeVar("R")


@dataclass
class Held(Generic[R]):
    """A row in memory: whether the cache has it yet, and which fields changed since it was read."""

    row: R
    is_new: bool
    changed: set[str] = field(default_factory=set)

    def set(self, **fields) -> None:
        for name, value in fields.items():
            setattr(self.row, name, value)
        self.changed.update(fields)


class RowSource(Protocol):
    """Where a projection reads the rows an event changes (None: the cache has no such row)."""

    def member(self, address: str) -> MemberRow | None: ...

    def steward(self, address: str) -> StewardRow | None: ...

    def proposal(self, proposal_id: str) -> ProposalRow | None: ...

    def proposal_of_operation(self, operation_id: str) -> str | None:
        """The id of the proposal queued as this timelock operation."""
        ...

    def last_proposal_number(self) -> int:
        """The highest proposal number so far (0 before the first proposal)."""
        ...


def count_vote(target: ProposalRow | Tally, support: int, weight: int) -> None:
    column = TALLY_COLUMNS[support]
    setattr(target, column, getattr(target, column) + weight)
    target.voter_count += 1


def step_fields(step: str, e: Event) -> dict:
    """A lifecycle step's fields (`queued_block`, `queued_tx`, `queued_time`, …) as `e` records them."""
    return {f"{step}_block": e.block_number, f"{step}_tx": e.tx_hash, f"{step}_time": e.timestamp}


class Projection:
    """The rows a run of events changes, held in memory until the sink writes them.

    `members`, `stewards` and `proposals` map a key to the row held (None: looked up and absent); `tallies`
    are votes on proposals not held; `votes` are new rows to append.
    """

    def __init__(self, source: RowSource, addresses: Addresses):
        self.source = source
        self.addresses = addresses
        self.members: dict[str, Held[MemberRow] | None] = {}
        self.stewards: dict[str, Held[StewardRow] | None] = {}
        self.settings: dict[str, SettingRow] = {}
        self.proposals: dict[str, Held[ProposalRow]] = {}
        self.tallies: dict[str, Tally] = defaultdict(Tally)
        self.votes: list[VoteRow] = []
        self.scheduled: dict[str, list[str]] = defaultdict(list)  # tx hash → timelock operation ids it scheduled
        self.next_number: int | None = None

    def apply(self, e: Event) -> None:
        """Change the rows `e` affects (in memory)."""
        name = e.name
        if name in VOTE_EVENTS:
            self._vote(e)
        elif name in MEMBER_EVENTS:
            self._membership(e)
        elif name in STEWARD_EVENTS:
            self._stewardship(e)
        elif name in SETTING_EVENTS:
            setting, argument = SETTING_EVENTS[name]
            self.settings[setting] = SettingRow(setting, int(e.args[argument]), e.block_number, e.timestamp)
        elif name == "ProposalCreated":
            self._created(e)
        elif name == "InitiativeSubmitted":
            # Emitted right after the governor's ProposalCreated, in the same transaction: the proposal is held.
            held = self._proposal(str(e.args["proposalId"]))
            if held is not None:
                held.set(initiative_id=int(e.args["id"]))
        elif name == "CallScheduled":
            self.scheduled[e.tx_hash].append(e.args["id"])
            if int(e.args["index"]) == 0:  # an operation's first call: scheduled again, its proposal reads queued again
                self._lifecycle(e)
        elif name in LIFECYCLE_EVENTS or name in TIMELOCK_EVENTS:
            self._lifecycle(e)

    # ---- reading what an event changes ----

    def _member(self, address: str) -> Held[MemberRow] | None:
        if address not in self.members:
            row = self.source.member(address)
            self.members[address] = None if row is None else Held(row, is_new=False)
        return self.members[address]

    def _steward(self, address: str) -> Held[StewardRow] | None:
        if address not in self.stewards:
            row = self.source.steward(address)
            self.stewards[address] = None if row is None else Held(row, is_new=False)
        return self.stewards[address]

    def _proposal(self, proposal_id: str) -> Held[ProposalRow] | None:
        if proposal_id not in self.proposals:
            row = self.source.proposal(proposal_id)
            if row is None:
                return None
            self.proposals[proposal_id] = Held(row, is_new=False)
        return self.proposals[proposal_id]

    def _proposal_of_operation(self, operation_id: str) -> Held[ProposalRow] | None:
        for held in self.proposals.values():
            if held.row.timelock_id == operation_id:
                return held
        proposal_id = self.source.proposal_of_operation(operation_id)
        return self._proposal(proposal_id) if proposal_id is not None else None

    # ---- one method per group of events ----

    def _vote(self, e: Event) -> None:
        a = e.args
        vote = VoteRow(
            str(a["proposalId"]),
            a["voter"],
            int(a["support"]),
            int(a["weight"]),
            a["reason"],
            a.get("params", "0x"),
            e.block_number,
            e.tx_hash,
            e.log_index,
            e.timestamp,
        )
        self.votes.append(vote)
        held = self.proposals.get(vote.proposal_id)
        # A proposal created in this run is counted straight into its new row; any other through a tally.
        target = held.row if held is not None and held.is_new else self.tallies[vote.proposal_id]
        count_vote(target, vote.support, vote.weight)

    def _membership(self, e: Event) -> None:
        a = e.args
        if e.name == "DelegateChanged":
            held = self._member(a["delegator"])
            if held is not None:  # a new member's self-delegation comes before MemberAdmitted, which sets it
                held.set(delegate=a["toDelegate"])
        elif e.name == "MemberAdmitted":
            self._admit(a["member"], a["handle"], int(a["tokenId"]), e)
        else:
            held = self._member(a["member"])
            if held is not None:
                how = "removed" if e.name == "MemberRemoved" else "resigned"
                held.set(is_member=False, left_how=how, left_block=e.block_number, left_time=e.timestamp)

    def _admit(self, who: str, handle: str, member_number: int, e: Event) -> None:
        admission = {
            "handle": handle,
            "member_number": member_number,
            "is_member": True,
            "delegate": who,
            "admitted_block": e.block_number,
            "admitted_time": e.timestamp,
            "left_how": None,
            "left_block": None,
            "left_time": None,
        }
        held = self._member(who)
        if held is None:  # first admission; a member who left and comes back keeps their first admission
            row = MemberRow(address=who, first_admitted_block=e.block_number, first_admitted_time=e.timestamp, **admission)
            self.members[who] = Held(row, is_new=True)
        else:
            held.set(**admission)

    def _stewardship(self, e: Event) -> None:
        who = e.args["steward"]
        if who == self.addresses.initiatives:
            return  # members' route to a vote, not a person
        held = self._steward(who)
        if e.name == "StewardAppointed":
            appointment = StewardRow(who, True, e.block_number, e.tx_hash, e.timestamp)
            if held is None:
                self.stewards[who] = Held(appointment, is_new=True)
            else:
                held.set(**vars(appointment))
        elif held is not None:
            held.set(active=False, recalled_block=e.block_number, recalled_tx=e.tx_hash, recalled_time=e.timestamp)

    def _created(self, e: Event) -> None:
        a = e.args
        if self.next_number is None:
            self.next_number = self.source.last_proposal_number() + 1
        calldatas = list(a["calldatas"])
        values = [int(v) for v in a["values"]]
        actions = [act.Action(t, v, bytes.fromhex(c[2:])) for t, v, c in zip(a["targets"], values, calldatas)]
        row = ProposalRow(
            proposal_id=str(a["proposalId"]),
            number=self.next_number,
            proposer=a["proposer"],
            title=act.proposal_title(a["description"]),
            description=act.shown_text(a["description"]),
            targets=list(a["targets"]),
            values=[str(v) for v in values],
            calldatas=calldatas,
            signatures=list(a["signatures"]),
            actions_in_words=[act.describe(x, self.addresses) for x in actions],
            snapshot=int(a["voteStart"]),
            vote_end=int(a["voteEnd"]),
            deadline=int(a["voteEnd"]),
            created_block=e.block_number,
            created_tx=e.tx_hash,
            created_time=e.timestamp,
        )
        self.next_number += 1
        self.proposals[row.proposal_id] = Held(row, is_new=True)

    def _lifecycle(self, e: Event) -> None:
        a, name = e.args, e.name
        if name in TIMELOCK_EVENTS:
            held = self._proposal_of_operation(a["id"])
        else:
            held = self._proposal(str(a["proposalId"]))
        if held is None:
            return
        proposal = held.row
        done = proposal.executed_block is not None or proposal.canceled_block is not None
        if name == "ProposalExtended":
            held.set(deadline=max(proposal.vote_end, int(a["extendedDeadline"])))
        elif name == "ProposalQueued":
            ids = self.scheduled.get(e.tx_hash) or [None]
            held.set(eta=int(a["etaSeconds"]), timelock_id=ids[0], **step_fields("queued", e))
        elif name == "ProposalExecuted" and not done:
            held.set(**step_fields("executed", e))
        elif name == "ProposalCanceled" and not done:
            held.set(**step_fields("canceled", e))
        # Once queued, GovernorTimelockControl reads the proposal's state from its timelock operation's: done is
        # executed, pending is queued, neither is canceled. So the proposal follows the operation's latest step, also
        # when taken directly on the timelock: run, cancelled, or (once cancelled, by a proposer with the same calls
        # and salt) scheduled again. A canceled proposal found by its operation was cancelled on the timelock: the
        # governor cancels only Pending proposals, which have no operation yet.
        elif name == "CallExecuted" and not done and int(a["index"]) == len(proposal.targets) - 1:
            held.set(**step_fields("executed", e))
        elif name == "Cancelled" and not done:
            held.set(**step_fields("canceled", e))
        elif name == "CallScheduled" and proposal.canceled_block is not None and proposal.executed_block is None:
            held.set(**{f"canceled_{part}": None for part in ("block", "tx", "time")})
