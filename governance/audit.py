"""The audit: re-derive the commons' history from the chain alone and compare it with what a cache or API says.

From the chain: every governance log (decoded here, not by the indexer's sink) and the contracts' own
views at the cache's indexed block: `proposalCount()`/`proposalDetailsAt()`, `state()`,
`proposalVotes()`, snapshot, deadline, eta, `quorum()`, membership (`isMember`, `handleOf`,
`memberNumberOf`, `delegates`, `memberCount`), `isSteward`, the settings, the treasury balance.
From the other side: the public API's JSON (over HTTP, or the same routes in process). Any difference,
and any break in the decision log's hash chain, is a finding.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from web3 import Web3

from governance.compiler import load_artifacts
from governance.decision_log import chain, verify
from governance.errors import CommonsError, RetryableError
from governance.events import Event
from governance.indexer import Indexer
from governance.manifest import Manifest
from governance.reverts import PROPOSAL_STATES
from governance.rpc import Rpc

PAGE = 500
SUPPORT = ("against", "for", "abstain")
MAX_FINDINGS_PER_AREA = 25


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
            raise RetryableError(f"The API at {self.base_url} does not answer: {exc.__class__.__name__}.") from exc
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

    @property
    def ok(self) -> bool:
        return not self.findings

    def differ(self, area: str, what: str) -> None:
        if sum(1 for f in self.findings if f.area == area) < MAX_FINDINGS_PER_AREA:
            self.findings.append(Finding(area, what))


def pages(source: Source, path: str, key: str, cursor_param: str, params: dict | None = None) -> list[dict]:
    """Every item of a keyset-paginated list route."""
    items, cursor = [], None
    while True:
        query = {**(params or {}), "limit": PAGE, **({cursor_param: cursor} if cursor is not None else {})}
        page = source.get(path, query)
        items.extend(page["data"])
        cursor = page.get(key)
        if cursor is None:
            return items


class ChainView:
    """The commons' contracts read at one block."""

    def __init__(self, w3: Web3, manifest: Manifest, block: int):
        artifacts = load_artifacts()
        self.block = block
        self.governor = w3.eth.contract(address=manifest.governor, abi=artifacts["CommonsGovernor"].abi).functions
        self.membership = w3.eth.contract(address=manifest.membership, abi=artifacts["Membership"].abi).functions
        self.timelock = w3.eth.contract(address=manifest.timelock, abi=artifacts["TimelockController"].abi).functions

    def call(self, fn) -> Any:
        return fn.call(block_identifier=self.block)

    def proposal(self, proposal_id: int, timestamp: int) -> dict:
        g = self.governor
        against, for_, abstain = self.call(g.proposalVotes(proposal_id))
        snapshot = self.call(g.proposalSnapshot(proposal_id))
        return {"state": PROPOSAL_STATES[self.call(g.state(proposal_id))], "votes_for": for_, "votes_against": against,
                "votes_abstain": abstain, "snapshot": snapshot, "deadline": self.call(g.proposalDeadline(proposal_id)),
                "eta": self.call(g.proposalEta(proposal_id)), "proposer": self.call(g.proposalProposer(proposal_id)),
                "quorum": self.call(g.quorum(snapshot)) if snapshot < timestamp else None}

    def settings(self) -> dict[str, int]:
        g = self.governor
        return {"voting_delay": self.call(g.votingDelay()), "voting_period": self.call(g.votingPeriod()),
                "proposal_threshold": self.call(g.proposalThreshold()), "quorum_numerator": self.call(g.quorumNumerator()),
                "late_quorum_extension": self.call(g.lateQuorumVoteExtension()),
                "timelock_delay": self.call(self.timelock.getMinDelay())}


def chain_events(rpc_url: str, manifest: Manifest, last_block: int) -> list[Event]:
    """Every governance event of the commons from its deployment to `last_block`, straight from eth_getLogs."""
    addresses = {"membership": manifest.membership, "governor": manifest.governor, "timelock": manifest.timelock}
    reader = Indexer(Rpc(rpc_url), addresses, manifest.deployment_block, sink=None)  # type: ignore[arg-type]
    return reader.read_events(manifest.deployment_block, last_block)


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
        report.differ("chain", f"the cache's indexed block {block['number']} ({block['hash']}) is not on this chain; "
                               "it followed another fork or another chain")
        return report
    events = chain_events(rpc_url, manifest, block["number"])
    _audit_log(report, source, overview, events)
    view = ChainView(w3, manifest, block["number"])
    _audit_overview(report, w3, manifest, view, overview)
    _audit_proposals(report, source, view, events, block["timestamp"])
    _audit_members(report, source, view, events)
    return report


def _audit_log(report: AuditReport, source: Source, overview: dict, events: list[Event]) -> None:
    expected = [entry.as_json() for entry in chain(events)]
    cached = pages(source, "/api/decisions", "next_after", "after")
    report.checked["decision-log entries"] = len(cached)
    for problem in verify(cached):
        report.differ("hash chain", problem)
    if len(cached) != len(expected):
        report.differ("decision log", f"the chain has {len(expected)} governance events, the cache {len(cached)}")
    for mine, theirs in zip(expected, cached):
        if mine != theirs:
            fields = sorted(k for k in mine if mine.get(k) != theirs.get(k))
            report.differ("decision log", f"entry {mine['seq']} ({mine['kind']} in block {mine['block_number']}) differs in "
                                          f"{', '.join(fields)}")
    head = expected[-1]["hash"] if expected else "0x" + "00" * 32
    report.log_head_hash = head
    if overview["decision_log_head_hash"] != head:
        report.differ("decision log", f"the head hash is {overview['decision_log_head_hash']}, the chain gives {head}")


def _audit_overview(report: AuditReport, w3: Web3, manifest: Manifest, view: ChainView, overview: dict) -> None:
    addresses = {"membership": manifest.membership, "governor": manifest.governor, "timelock": manifest.timelock}
    if overview["addresses"] != addresses or overview["chain_id"] != manifest.chain_id:
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


def _audit_proposals(report: AuditReport, source: Source, view: ChainView, events: list[Event], timestamp: int) -> None:
    count = view.call(view.governor.proposalCount())
    ids = [view.call(view.governor.proposalDetailsAt(i))[0] for i in range(count)]
    cached = {p["proposal_id"]: p for p in pages(source, "/api/proposals", "next_before", "before")}
    report.checked["proposals"] = len(cached)
    if len(cached) != count:
        report.differ("proposals", f"the governor has {count} proposals, the cache {len(cached)}")
    votes: dict[str, list[tuple]] = defaultdict(list)
    for e in events:
        if e.name in ("VoteCast", "VoteCastWithParams"):
            a = e.args
            votes[str(a["proposalId"])].append((a["voter"], SUPPORT[a["support"]], a["weight"], a["reason"], e.tx_hash, e.log_index))
    for number, proposal_id in enumerate(ids, start=1):
        key = str(proposal_id)
        mine = cached.get(key)
        if mine is None:
            report.differ("proposals", f"proposal {number} ({key}) is missing from the cache")
            continue
        chain_facts = {"number": number, **view.proposal(proposal_id, timestamp)}
        for name, value in chain_facts.items():
            if mine.get(name) != value:
                report.differ("proposals", f"proposal {number}: {name} is {value} on the chain, {mine.get(name)} in the cache")
        cached_votes = [(v["voter"], v["support"], v["weight"], v["reason"], v["tx_hash"], v["log_index"])
                        for v in pages(source, f"/api/proposals/{key}/votes", "next_after", "after")]
        report.checked["votes"] = report.checked.get("votes", 0) + len(cached_votes)
        if cached_votes != votes.get(key, []):
            report.differ("votes", f"proposal {number}: the chain has {len(votes.get(key, []))} votes, the cache "
                                   f"{len(cached_votes)}, and they differ" if len(cached_votes) != len(votes.get(key, []))
                          else f"proposal {number}: a vote differs (voter, support, weight, reason or transaction)")


def _audit_members(report: AuditReport, source: Source, view: ChainView, events: list[Event]) -> None:
    ever = list(dict.fromkeys(e.args["member"] for e in events if e.name == "MemberAdmitted"))
    cached = {m["address"]: m for m in pages(source, "/api/members", "next_after", "after", {"status": "all"})}
    report.checked["members"] = len(cached)
    m = view.membership
    for who in ever:
        mine = cached.get(who)
        if mine is None:
            report.differ("members", f"{who} was admitted on the chain but is missing from the cache")
            continue
        is_member = view.call(m.isMember(who))
        facts = {"is_member": is_member, "member_number": view.call(m.memberNumberOf(who)),
                 "delegate": view.call(m.delegates(who))}
        if is_member:
            facts["handle"] = view.call(m.handleOf(who))
        for name, value in facts.items():
            if mine.get(name) != value:
                report.differ("members", f"{who}: {name} is {value!r} on the chain, {mine.get(name)!r} in the cache")
    for who in cached.keys() - set(ever):
        report.differ("members", f"{who} is in the cache but was never admitted on the chain")
    appointed = list(dict.fromkeys(e.args["steward"] for e in events if e.name == "StewardAppointed"))
    cached_stewards = {s["address"]: s["active"] for s in source.get("/api/stewards", {"status": "all"})["data"]}
    report.checked["stewards"] = len(cached_stewards)
    for who in appointed:
        active = view.call(view.governor.isSteward(who))
        if cached_stewards.get(who) != active:
            report.differ("stewards", f"{who}: steward is {active} on the chain, {cached_stewards.get(who)} in the cache")
    for who in cached_stewards.keys() - set(appointed):
        report.differ("stewards", f"{who} is a steward in the cache but was never appointed on the chain")
