"""The audit: re-derive the commons' history from the chain alone and compare it with what a cache or API says.

From the chain: every governance log (decoded here, not by the indexer's sink) and the contracts' own
views at the cache's indexed block: `proposalCount()`/`proposalDetailsAt()`, `state()`,
`proposalVotes()`, snapshot, deadline, eta, `quorum()`, membership (`isMember`, `handleOf`,
`memberNumberOf`, `delegates`, `memberCount`), `isSteward`, the settings, the treasury balance.
From the other side: the public API's JSON (over HTTP, or the same routes in process). Any difference,
and any break in the decision log's hash chain, is a finding.
"""

import hashlib
import queue
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring  # the C string quoter canonical JSON uses
from typing import Any, Protocol

import requests
from eth_typing import HexStr
from web3 import Web3

from governance.batch_reads import MAX_BATCH, BatchReader, Contract, Read
from governance.compiler import load_artifacts
from governance.decision_log import GENESIS_HASH, chain, data_json, entry_hash
from governance.errors import CommonsError, RetryableError
from governance.events import Event
from governance.indexer import Indexer
from governance.log_ranges import RangePolicy
from governance.manifest import Manifest
from governance.power import power_of_events
from governance.redaction import redact_url
from governance.rpc import Rpc
from governance.vocabulary import PROPOSAL_STATES, SUPPORT_NAMES, VOTE_EVENTS

PAGE = 500
MAX_FINDINGS_PER_AREA = 25
CHUNK = 1_000  # members or proposals whose contract reads are held at once


class Source(Protocol):
    """What is audited: something answering the public API's GET routes with JSON."""

    def get(self, path: str, params: dict | None = None) -> Any: ...


class ApiSource:
    """A running API, by its base URL (e.g. https://commons.example.org)."""

    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.timeout = timeout

    def get(self, path: str, params: dict | None = None) -> Any:
        """The JSON at `path`; CommonsError in words if the API refuses or cannot be reached."""
        try:
            response = self.session.get(self.base_url + path, params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise RetryableError(f"The API at {redact_url(self.base_url)} does not answer: {exc.__class__.__name__}.") from exc
        if response.status_code != 200:
            raise CommonsError(f"The API answered {response.status_code} for {path}: {response.text[:200]}")
        return response.json()


@dataclass
class Finding:
    area: str
    what: str


@dataclass
class AuditReport:
    """What was compared, at which block, and every difference found (empty: the cache says what the chain says)."""

    block: int = 0
    block_hash: str = ""
    checked: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    log_head_hash: str = ""
    # Who holds each timelock role, and power outside the vote (governance.power), as the chain says at `block`.
    timelock_roles: dict[str, list[str]] = field(default_factory=dict)
    power_outside_the_vote: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def differ(self, area: str, what: str) -> None:
        if sum(1 for f in self.findings if f.area == area) < MAX_FINDINGS_PER_AREA:
            self.findings.append(Finding(area, what))


def pages(source: Source, path: str, key: str, cursor_param: str, params: dict | None = None) -> list[dict]:
    """Every item of a keyset-paginated list route."""
    return list(page_items(source, path, key, cursor_param, params))


def page_items(source: Source, path: str, key: str, cursor_param: str, params: dict | None = None) -> Iterator[dict]:
    """The items of a keyset-paginated list route, read one page at a time as they are consumed."""
    cursor = None
    while True:
        query = {**(params or {}), "limit": PAGE, **({cursor_param: cursor} if cursor is not None else {})}
        page = source.get(path, query)
        yield from page["data"]
        cursor = page.get(key)
        if cursor is None:
            return


class VoteDigests:
    """Each proposal's votes as a count and a running SHA-256 of their facts in order: the audit compares a million
    votes holding one digest per proposal, not the votes themselves."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = defaultdict(int)
        self.hashes: dict[str, Any] = {}

    def add(self, proposal_id: str, facts: tuple) -> None:
        digest = self.hashes.get(proposal_id)
        if digest is None:
            digest = self.hashes[proposal_id] = hashlib.sha256()
        digest.update(repr(facts).encode() + b"\n")
        self.counts[proposal_id] += 1

    def digest(self, proposal_id: str) -> str:
        found = self.hashes.get(proposal_id)
        return found.hexdigest() if found is not None else hashlib.sha256().hexdigest()


def vote_facts(voter: str, support: str, weight: int, reason: str, tx_hash: str, log_index: int) -> tuple:
    """What the audit compares of one vote, the same from the chain and from the cache."""
    return (voter, support, weight, reason, tx_hash, log_index)


class ChainView:
    """The commons' contracts read at one block, many reads to a request (governance.batch_reads)."""

    def __init__(self, rpc: Rpc, manifest: Manifest, block: int, batch: int = MAX_BATCH):
        artifacts = load_artifacts()
        self.block = block
        self.reader = BatchReader(rpc, block, batch)
        self.governor = Contract(manifest.governor, artifacts["CommonsGovernor"].abi)
        self.membership = Contract(manifest.membership, artifacts["Membership"].abi)
        self.timelock = Contract(manifest.timelock, artifacts["TimelockController"].abi)
        self.initiatives = manifest.initiatives  # a steward for members' initiatives, no person: not a cached steward

    def call(self, read: Read) -> Any:
        return self.reader.call(read)

    def read(self, reads: list[Read]) -> list[Any]:
        return self.reader.read(reads)

    def proposal_ids(self) -> list[int]:
        """Every proposal's id, in the governor's order (`proposalDetailsAt`)."""
        count = self.call(self.governor.proposalCount())
        return [details[0] for details in self.read([self.governor.proposalDetailsAt(i) for i in range(count)])]

    def proposals(self, proposal_ids: list[int], timestamp: int) -> list[dict]:
        """What the governor says of each proposal (state, tally, snapshot, deadline, eta, proposer, quorum once the
        snapshot is past at `timestamp`), in the order given."""
        g = self.governor
        per = (g.proposalVotes, g.proposalSnapshot, g.state, g.proposalDeadline, g.proposalEta, g.proposalProposer)
        answers = self.read([fn(pid) for pid in proposal_ids for fn in per])
        facts = []
        for n in range(len(proposal_ids)):
            (against, for_, abstain), snapshot, state, deadline, eta, proposer = answers[n * len(per) : (n + 1) * len(per)]
            facts.append(
                {
                    "state": PROPOSAL_STATES[state],
                    "votes_for": for_,
                    "votes_against": against,
                    "votes_abstain": abstain,
                    "snapshot": snapshot,
                    "deadline": deadline,
                    "eta": eta,
                    "proposer": proposer,
                    "quorum": None,
                }
            )
        past = [f for f in facts if f["snapshot"] < timestamp]
        for f, quorum in zip(past, self.read([g.quorum(f["snapshot"]) for f in past]), strict=True):
            f["quorum"] = quorum
        return facts

    def members(self, who: list[str]) -> list[dict]:
        """What the registry says of each address: is_member, member_number, delegate, and the handle of a member."""
        m = self.membership
        answers = self.read([fn(a) for a in who for fn in (m.isMember, m.memberNumberOf, m.delegates)])
        facts = [
            {"is_member": answers[3 * n], "member_number": answers[3 * n + 1], "delegate": answers[3 * n + 2]}
            for n in range(len(who))
        ]
        current = [n for n, f in enumerate(facts) if f["is_member"]]
        for n, handle in zip(current, self.read([m.handleOf(who[n]) for n in current]), strict=True):
            facts[n]["handle"] = handle
        return facts

    def settings(self) -> dict[str, int]:
        g = self.governor
        names = ("voting_delay", "voting_period", "proposal_threshold", "quorum_numerator", "late_quorum_extension")
        reads = [g.votingDelay(), g.votingPeriod(), g.proposalThreshold(), g.quorumNumerator(), g.lateQuorumVoteExtension()]
        values = self.read([*reads, self.timelock.getMinDelay()])
        return dict(zip((*names, "timelock_delay"), values, strict=True))


def chain_events(rpc_url: str, manifest: Manifest, last_block: int) -> list[Event]:
    """Every governance event of the commons from its deployment to `last_block`, straight from eth_getLogs."""
    return list(chain_event_stream(rpc_url, manifest, last_block))


def chain_event_stream(rpc_url: str, manifest: Manifest, last_block: int) -> Iterator[Event]:
    """The same events as `chain_events`, read one block range at a time as they are consumed."""
    # One block at first, then as many as keep an answer near the policy's target: on the million-vote history (5,000
    # votes a block) a first range of the default 100 blocks can hold 500,000 logs; the audit of that history, read
    # that way, peaked at 1,685 MB (the backfill, which starts the same way, at 1,775 MB).
    reader = Indexer(
        Rpc(rpc_url),
        manifest.indexed_contracts(),
        manifest.deployment_block,
        sink=None,  # type: ignore[arg-type]
        ranges=RangePolicy(blocks=1),
    )
    return reader.iter_events(manifest.deployment_block, last_block)


def read_ahead(events: Iterable[Event], chunk: int = 2_000, depth: int = 8) -> Iterator[Event]:
    """`events` as they are, read by a thread of its own up to `depth` chunks of `chunk` ahead of the caller: the node
    answers the next range while the caller compares the last. An error in the reading is raised here."""
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            batch: list[Event] = []
            for event in events:
                batch.append(event)
                if len(batch) >= chunk:
                    if not put(batch):
                        return
                    batch = []
            if put(batch):
                put(done)
        except BaseException as exc:  # handed to the caller, raised in its thread
            put(exc)

    threading.Thread(target=read, name="audit-chain-reader", daemon=True).start()
    try:
        while True:
            item = ahead.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stop.set()


def _sorted_out(events: Iterable[Event], votes: VoteDigests, others: list[Event]) -> Iterator[Event]:
    """`events` passed on as they are, each vote folded into `votes` and every other event kept in `others`."""
    for e in events:
        if e.name in VOTE_EVENTS:
            a = e.args
            facts = vote_facts(a["voter"], SUPPORT_NAMES[a["support"]], a["weight"], a["reason"], e.tx_hash, e.log_index)
            votes.add(str(a["proposalId"]), facts)
        else:
            others.append(e)
        yield e


def audit(w3: Web3, rpc_url: str, manifest: Manifest, source: Source) -> AuditReport:
    """Compare `source` with the chain at the block `source` says it has indexed; returns the report.

    Raises CommonsError (in words) if the source or the node cannot be read at all.
    """
    report = AuditReport()
    overview = source.get("/api/commons")
    block = overview["indexed_block"]
    report.block, report.block_hash = block["number"], block["hash"]
    on_chain = w3.eth.get_block(block["number"]) if block["number"] <= w3.eth.block_number else None
    if on_chain is None or on_chain["hash"].to_0x_hex() != block["hash"]:
        report.differ(
            "chain",
            f"the cache's indexed block {block['number']} ({block['hash']}) is not on this chain; "
            "it followed another fork or another chain",
        )
        return report
    # One pass over the chain's logs, compared entry by entry with the cache's log as both are read; what later
    # comparisons need is kept small: votes as digests, and the other events (members, proposals, roles, treasury).
    votes, events = VoteDigests(), list[Event]()
    chain_log = read_ahead(chain_event_stream(rpc_url, manifest, block["number"]))
    _audit_log(report, source, overview, _sorted_out(chain_log, votes, events))
    view = ChainView(Rpc(rpc_url, retries=3), manifest, block["number"])
    _audit_overview(report, w3, manifest, view, overview)
    _audit_proposals(report, source, view, votes, block["timestamp"])
    _audit_members(report, source, view, events)
    from governance.treasury_audit import audit_treasury  # it builds on this module

    audit_treasury(report, source, rpc_url, manifest, events, block["number"])
    _audit_power(report, w3, manifest, overview, events)
    return report


def _audit_power(report: AuditReport, w3: Web3, manifest: Manifest, overview: dict, events: list[Event]) -> None:
    power = power_of_events(events, manifest.addresses, lambda tx: w3.eth.get_transaction(HexStr(tx))["from"])
    report.timelock_roles, report.power_outside_the_vote = power.holders, power.outside_the_vote
    if "timelock_roles" in overview and overview["timelock_roles"] != power.holders:
        report.differ("power", f"the chain gives the timelock roles {power.holders}, the cache {overview['timelock_roles']}")
    if "power_outside_the_vote" in overview and len(overview["power_outside_the_vote"]) != len(power.outside_the_vote):
        report.differ(
            "power",
            f"the chain shows {len(power.outside_the_vote)} case(s) of power outside the vote, "
            f"the cache {len(overview['power_outside_the_vote'])}",
        )


def _audit_log(report: AuditReport, source: Source, overview: dict, events: Iterable[Event]) -> None:
    """The cache's decision log against the chain's, entry by entry as both are read (neither is held whole).

    Each cached entry is verified as `decision_log.verify` does (sequence, previous hash, its content's hash) and
    compared with the chain's entry at its position: when its content hashes to the hash the chain's entry has (and it
    carries that hash), the two are the same canonical JSON, so only an entry that differs is compared field by field.
    """
    expected = chain(events)
    counts = {"chain": 0, "cache": 0}
    head, seq = GENESIS_HASH, 1
    prev: str | None = GENESIS_HASH
    for theirs in page_items(source, "/api/decisions", "next_after", "after"):
        counts["cache"] += 1
        number, carried = theirs.get("seq"), theirs.get("hash")
        if number != seq:
            report.differ("hash chain", f"entry {number}: expected sequence number {seq}")
        if theirs.get("prev_hash") != prev:
            report.differ(
                "hash chain",
                f"entry {number}: names previous hash {theirs.get('prev_hash')}, but the previous entry's hash is {prev}",
            )
        recomputed = content_hash(theirs)
        if recomputed != carried:
            report.differ("hash chain", f"entry {number}: its content hashes to {recomputed}, not the {carried} it carries")
        prev = carried
        seq = (number if isinstance(number, int) else seq) + 1
        entry = next(expected, None)
        if entry is None:
            continue
        counts["chain"] += 1
        head = entry.hash
        if recomputed == carried == entry.hash:
            continue
        mine = entry.as_json()
        if mine != theirs:
            fields = sorted(k for k in mine if mine.get(k) != theirs.get(k))
            report.differ(
                "decision log",
                f"entry {mine['seq']} ({mine['kind']} in block {mine['block_number']}) differs in {', '.join(fields)}",
            )
    for entry in expected:  # the chain's entries beyond the cache's last
        counts["chain"] += 1
        head = entry.hash
    report.checked["decision-log entries"] = counts["cache"]
    if counts["cache"] != counts["chain"]:
        report.differ("decision log", f"the chain has {counts['chain']} governance events, the cache {counts['cache']}")
    report.log_head_hash = head
    if overview["decision_log_head_hash"] != head:
        report.differ("decision log", f"the head hash is {overview['decision_log_head_hash']}, the chain gives {head}")


ENTRY_FIELDS = {
    "seq": int,
    "block_number": int,
    "block_hash": str,
    "tx_hash": str,
    "log_index": int,
    "timestamp": int,
    "contract": str,
    "kind": str,
    "subject": (str, type(None)),
    "data": dict,
    "prev_hash": str,
    "hash": str,
}


def content_hash(item: dict) -> str:
    """`decision_log.entry_hash` of an exported entry's body (everything but its `hash`).

    An entry of the exported shape (these fields, of these types, its data's values strings or booleans) is written out
    the way `decision_log.make_entry` writes one, in a third of the time `json.dumps` takes; anything else goes
    through `entry_hash` itself. Both give the same canonical JSON (tests/test_audit_batches.py holds them equal).
    """
    data = item.get("data")
    if (
        len(item) != len(ENTRY_FIELDS)
        or any(type(item.get(k)) is not t and not (type(t) is tuple and type(item.get(k)) in t) for k, t in ENTRY_FIELDS.items())
        or any(type(v) is not str and type(v) is not bool for v in data.values())  # type: ignore[union-attr]
    ):
        return entry_hash({k: v for k, v in item.items() if k != "hash"})
    subject = item["subject"]
    text = (
        f'{{"block_hash":{encode_basestring(item["block_hash"])},"block_number":{item["block_number"]},'
        f'"contract":{encode_basestring(item["contract"])},"data":{data_json(data)},"kind":{encode_basestring(item["kind"])},'  # type: ignore[arg-type]
        f'"log_index":{item["log_index"]},"prev_hash":{encode_basestring(item["prev_hash"])},"seq":{item["seq"]},'
        f'"subject":{"null" if subject is None else encode_basestring(subject)},"timestamp":{item["timestamp"]},'
        f'"tx_hash":{encode_basestring(item["tx_hash"])}}}'
    )
    return "0x" + hashlib.sha256(text.encode()).hexdigest()


def _audit_overview(report: AuditReport, w3: Web3, manifest: Manifest, view: ChainView, overview: dict) -> None:
    if overview["addresses"] != manifest.addresses.by_role() or overview["chain_id"] != manifest.chain_id:
        report.differ("commons", f"the cache describes {overview['addresses']} on chain {overview['chain_id']}")
    for name, value in view.settings().items():
        if overview["settings"].get(name) != value:
            report.differ("settings", f"{name} is {value} on the chain, {overview['settings'].get(name)} in the cache")
    treasury = w3.eth.get_balance(manifest.timelock, block_identifier=view.block)
    if overview["treasury_wei"] != str(treasury):
        report.differ("treasury", f"the treasury holds {treasury} wei on the chain, {overview['treasury_wei']} in the cache")
    members = view.call(view.membership.memberCount())
    if overview["member_count"] != members:
        report.differ("members", f"the chain counts {members} members, the cache {overview['member_count']}")


def _audit_proposals(report: AuditReport, source: Source, view: ChainView, votes: VoteDigests, timestamp: int) -> None:
    ids = view.proposal_ids()
    count = len(ids)
    cached = {p["proposal_id"]: p for p in pages(source, "/api/proposals", "next_before", "before")}
    report.checked["proposals"] = len(cached)
    if len(cached) != count:
        report.differ("proposals", f"the governor has {count} proposals, the cache {len(cached)}")
    for start in range(0, count, CHUNK):
        chunk = ids[start : start + CHUNK]
        for number, proposal_id, facts in zip(
            range(start + 1, start + len(chunk) + 1), chunk, view.proposals(chunk, timestamp), strict=True
        ):
            _audit_proposal(report, source, number, proposal_id, facts, cached.get(str(proposal_id)), votes)


def _audit_proposal(
    report: AuditReport, source: Source, number: int, proposal_id: int, facts: dict, mine: dict | None, votes: VoteDigests
) -> None:
    key = str(proposal_id)
    if mine is None:
        report.differ("proposals", f"proposal {number} ({key}) is missing from the cache")
        return
    chain_facts = {"number": number, **facts}
    for name, value in chain_facts.items():
        if mine.get(name) != value:
            report.differ("proposals", f"proposal {number}: {name} is {value} on the chain, {mine.get(name)} in the cache")
    cached_votes = VoteDigests()
    for v in page_items(source, f"/api/proposals/{key}/votes", "next_after", "after"):
        cached_votes.add(key, vote_facts(v["voter"], v["support"], v["weight"], v["reason"], v["tx_hash"], v["log_index"]))
    on_chain, in_cache = votes.counts.get(key, 0), cached_votes.counts.get(key, 0)
    report.checked["votes"] = report.checked.get("votes", 0) + in_cache
    if cached_votes.digest(key) != votes.digest(key):
        report.differ(
            "votes",
            f"proposal {number}: the chain has {on_chain} votes, the cache {in_cache}, and they differ"
            if in_cache != on_chain
            else f"proposal {number}: a vote differs (voter, support, weight, reason or transaction)",
        )


def _audit_members(report: AuditReport, source: Source, view: ChainView, events: list[Event]) -> None:
    ever = list(dict.fromkeys(e.args["member"] for e in events if e.name == "MemberAdmitted"))
    cached = {m["address"]: m for m in pages(source, "/api/members", "next_after", "after", {"status": "all"})}
    report.checked["members"] = len(cached)
    for start in range(0, len(ever), CHUNK):
        chunk = [who for who in ever[start : start + CHUNK] if who in cached]
        for who in ever[start : start + CHUNK]:
            if who not in cached:
                report.differ("members", f"{who} was admitted on the chain but is missing from the cache")
        for who, facts in zip(chunk, view.members(chunk), strict=True):
            mine = cached[who]
            for name, value in facts.items():
                if mine.get(name) != value:
                    report.differ("members", f"{who}: {name} is {value!r} on the chain, {mine.get(name)!r} in the cache")
    for who in cached.keys() - set(ever):
        report.differ("members", f"{who} is in the cache but was never admitted on the chain")
    appointed = list(
        dict.fromkeys(e.args["steward"] for e in events if e.name == "StewardAppointed" and e.args["steward"] != view.initiatives)
    )
    cached_stewards = {s["address"]: s["active"] for s in source.get("/api/stewards", {"status": "all"})["data"]}
    report.checked["stewards"] = len(cached_stewards)
    for who, active in zip(appointed, view.read([view.governor.isSteward(who) for who in appointed]), strict=True):
        if cached_stewards.get(who) != active:
            report.differ("stewards", f"{who}: steward is {active} on the chain, {cached_stewards.get(who)} in the cache")
    for who in cached_stewards.keys() - set(appointed):
        report.differ("stewards", f"{who} is a steward in the cache but was never appointed on the chain")
