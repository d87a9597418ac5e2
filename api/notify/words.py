"""Decision-log entries as sentences, as the page says them (api/static/words.js `decisionWords`), for feeds and
webhooks. Members are named by handle, proposals by number and title; text from the chain is flattened to one line.
The timelock's entries say the call they schedule, carry out or cancel, and whether a vote decided it
(api/cache/decision_words.py, the same words the log's page answer serves)."""

from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from api.cache.decision_words import CallInWords, TimelockCalls
from api.cache.projection import SETTING_EVENTS
from api.cache.tables import MEMBERS, PROPOSALS
from api.cache.treasury_tables import TreasuryAsset
from governance.calendar import one_line
from governance.readings import ROLE_NAMES, duration_words
from governance.vocabulary import SUPPORT_NAMES

ASSETS = TreasuryAsset.__table__  # type: ignore[attr-defined]
ZERO_ADDRESS = "0x" + "00" * 20
SUPPORT_LOG = {"for": "voted for", "against": "voted against", "abstain": "abstained on"}
SETTING_NAMES = {
    "voting_delay": "voting delay",
    "voting_period": "voting period",
    "proposal_threshold": "proposal threshold",
    "quorum_numerator": "quorum",
    "late_quorum_extension": "late-quorum extension",
    "timelock_delay": "timelock delay",
}
MAX_REASON = 500


@dataclass
class Names:
    """Handles of members and numbers and titles of proposals, read from the cache once per answer."""

    handles: dict[str, str] = field(default_factory=dict)
    proposals: dict[str, tuple[int, str]] = field(default_factory=dict)
    assets: dict[str, tuple[str, int]] = field(default_factory=dict)  # token address (lower case) → symbol, decimals
    calls: TimelockCalls | None = None  # reads the timelock's entries (None: they say only which action it was)

    @classmethod
    def read(cls, conn: Connection, engine: Engine | None = None) -> "Names":
        """Names read through `conn`; with an `engine`, timelock calls named later are looked up through short
        connections of its own (a streamed export holds none open)."""
        handles: dict[str, str] = {a: h for a, h in conn.execute(sa.select(MEMBERS.c.address, MEMBERS.c.handle))}
        rows = conn.execute(sa.select(PROPOSALS.c.proposal_id, PROPOSALS.c.number, PROPOSALS.c.title)).all()
        assets = {r.address.lower(): (r.symbol, r.decimals) for r in conn.execute(sa.select(ASSETS))}
        calls = TimelockCalls.read(conn, engine, handles)
        return cls(handles, {r.proposal_id: (r.number, r.title) for r in rows}, assets, calls)

    def amount(self, asset: str, amount: str) -> str:
        """'0.5 ETH', '12.5 gUSD', or the smallest units of a token the cache does not know."""
        if int(asset, 16) == 0:
            return f"{Decimal(int(amount)) / 10**18:f} ETH"
        known = self.assets.get(asset.lower())
        if known is None:
            return f"{amount} units of token {self.who(asset)}"
        return f"{Decimal(int(amount)) / 10 ** known[1]:f} {one_line(known[0], 32)}"

    def who(self, address: str | None, handle: str | None = None) -> str:
        handle = handle or self.handles.get(address or "")
        return f"@{one_line(handle, 64)}" if handle else f"{(address or '?')[:6]}…{(address or '')[-4:]}"

    def proposal(self, proposal_id: str) -> str:
        found = self.proposals.get(str(proposal_id))
        return f"#{found[0]} {one_line(found[1])}" if found else f"proposal {str(proposal_id)[:10]}…"

    def number(self, proposal_id: str) -> int | None:
        found = self.proposals.get(str(proposal_id))
        return found[0] if found else None


@dataclass(frozen=True)
class EntrySaid:
    """A decision-log entry as the feeds and webhooks say it: `words`, the sentence; `proposal_number`, the proposal
    it links to (the one it is about, or for a timelock entry the one whose vote decided its call; None outside the
    vote); `call`, a timelock entry's call in words (with `outside_the_vote` and its `warning`), None for other kinds."""

    words: str
    proposal_number: int | None
    call: CallInWords | None


def entry_said(kind: str, d: dict, names: Names, tx_hash: str | None = None, seq: int | None = None) -> EntrySaid:
    """The entry of `kind` with data `d` (the event's arguments, integers as strings) in words, with its proposal.

    Give the entry's transaction `tx_hash` and position `seq` (as the page answer and the CSV export do): without them
    a timelock entry of an operation scheduled both by the governor and directly reads as outside the vote (see
    TimelockCalls.reading)."""
    call = names.calls.reading(kind, d, tx_hash, seq) if names.calls is not None else None
    if call is not None:
        return EntrySaid(call.in_words, None if call.outside_the_vote else call.proposal_number, call)
    number = names.number(d["proposalId"]) if "proposalId" in d else None
    return EntrySaid(_plain_words(kind, d, names), number, None)


def entry_words(kind: str, d: dict, names: Names, tx_hash: str | None = None, seq: int | None = None) -> str:
    """The entry of `kind` with data `d` in one sentence (`entry_said`'s words).

    A timelock entry says the call in words and the proposal #N whose vote decided it, or starts "outside the vote:";
    its transaction `tx_hash` and position `seq` make that exact when one operation was also scheduled directly."""
    return entry_said(kind, d, names, tx_hash, seq).words


def _plain_words(kind: str, d: dict, names: Names) -> str:
    """The entry in words from its data and names alone (a timelock entry: only which action it was)."""
    match kind:
        case "MemberAdmitted":
            return f"{names.who(d['member'], d.get('handle'))} admitted as member {d.get('tokenId')}"
        case "MemberRemoved":
            return f"{names.who(d['member'], d.get('handle'))} removed from membership"
        case "MemberResigned":
            return f"{names.who(d['member'], d.get('handle'))} resigned"
        case "DelegateChanged":
            if d["toDelegate"] == d["delegator"]:
                return f"{names.who(d['delegator'])} votes for themselves"
            if d["toDelegate"] == ZERO_ADDRESS:
                return f"{names.who(d['delegator'])} no longer delegates"
            return f"{names.who(d['delegator'])} delegates their vote to {names.who(d['toDelegate'])}"
        case "StewardAppointed":
            return f"{names.who(d['steward'])} appointed steward"
        case "StewardRecalled":
            return f"{names.who(d['steward'])} recalled as steward"
        case "ProposalCreated":
            return f"{names.who(d['proposer'])} proposed {names.proposal(d['proposalId'])}"
        case "VoteCast" | "VoteCastWithParams":
            support = int(d["support"])
            verb = SUPPORT_LOG.get(SUPPORT_NAMES[support] if support < len(SUPPORT_NAMES) else "", f"voted {support} on")
            reason = f": “{one_line(d['reason'], MAX_REASON)}”" if d.get("reason") else ""
            return f"{names.who(d['voter'])} {verb} {names.proposal(d['proposalId'])}{reason}"
        case "ProposalExtended":
            return f"voting on {names.proposal(d['proposalId'])} extended (late quorum)"
        case "ProposalQueued":
            return f"{names.proposal(d['proposalId'])} queued in the timelock"
        case "ProposalExecuted":
            return f"{names.proposal(d['proposalId'])} carried out"
        case "ProposalCanceled":
            return f"{names.proposal(d['proposalId'])} canceled"
        case "CallScheduled":
            return f"timelock scheduled action {int(d['index']) + 1} (waits {duration_words(int(d['delay']))})"
        case "CallExecuted":
            return f"timelock carried out action {int(d['index']) + 1}"
        case "Cancelled":
            return "timelock operation cancelled"
        case "Contributed":
            note = f" (“{one_line(d['note'], MAX_REASON)}”)" if d.get("note") else ""
            return f"{names.who(d['contributor'])} contributed {names.amount(d['asset'], d['amount'])}{note}"
        case "TokenTracked":
            return f"the treasury now tracks the token {names.who(d['token'])}"
        case "TokenUntracked":
            return f"the treasury no longer tracks the token {names.who(d['token'])}"
        case "TimelockChange":
            return f"treasury timelock set to {names.who(d['newTimelock'])}"
        case "RoleGranted" | "RoleRevoked":
            role = ROLE_NAMES.get(str(d["role"]).lower(), "unknown")
            verb = "given" if kind == "RoleGranted" else "lost"
            return f"{names.who(d['account'])} {verb} the timelock's {role} role"
        case "OwnershipTransferred":
            return f"membership registry now owned by {names.who(d['newOwner'])}"
        case "InitiativeDrafted":
            return f"{names.who(d['author'])} drafted initiative {d['id']}: {one_line(d['description'].split(chr(10))[0].lstrip('# '))}"
        case "InitiativeRevised":
            return f"initiative {d['id']} revised (revision {d['revision']}); its supporters sign again"
        case "InitiativeWithdrawn":
            return f"{names.who(d['author'])} withdrew initiative {d['id']}"
        case "SupportPosted":
            return f"{names.who(d['supporter'])} supports initiative {d['id']}"
        case "SupportWithdrawn":
            return f"{names.who(d['supporter'])} withdrew their support for initiative {d['id']}"
        case "InitiativeSubmitted":
            backers = len(d["supporters"])
            return f"initiative {d['id']} by {names.who(d['author'])} put to a vote as {names.proposal(d['proposalId'])} with {backers} supporters"
        case "SupportShareSet":
            return f"initiatives need the support of {int(d['newShareBps']) / 100:g}% of members"
        case "LifetimeSet":
            return f"initiatives stay open {duration_words(int(d['newLifetime']))}"
    if kind in SETTING_EVENTS:
        setting, argument = SETTING_EVENTS[kind]
        value = int(d[argument])
        shown = f"{value}% of members" if setting == "quorum_numerator" else str(value)
        if setting in ("voting_delay", "voting_period", "late_quorum_extension", "timelock_delay"):
            shown = duration_words(value)
        return f"{SETTING_NAMES[setting]} set to {shown}"
    return kind  # an event the log records that has no words yet: its name, never nothing


def proposal_of(kind: str, d: dict) -> str | None:
    """The proposal id an entry is about, if any (to link it)."""
    return str(d["proposalId"]) if "proposalId" in d else None
