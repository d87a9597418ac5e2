"""A typed client for every governance act, and reads of the commons' current state.

Writes come in two steps: a `Plan` (what will be sent, in words) and `submit` (simulate, sign,
send). That lets the CLI show and simulate before sending, and stop there on --dry-run.
"""

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from eth_utils import keccak
from web3 import Web3

from governance import actions as act
from governance.actions import Action
from governance.ballots import Ballot, SUPPORT_NAMES, domain
from governance.chain import Signer, connect, simulate, transact
from governance.compiler import load_artifacts
from governance.errors import InvalidInput, Reverted
from governance.manifest import CommonsSettings, Manifest, load
from governance.reverts import PROPOSAL_STATES


@dataclass
class Plan:
    """One transaction to send, and what it does in words."""

    kind: str  # propose, vote, queue, execute, cancel, delegate, resign
    summary: str
    details: list[str]
    to: str
    data: bytes
    value: int = 0


@dataclass
class ProposalView:
    """A proposal as the chain sees it now."""

    id: int
    proposer: str
    title: str
    description: str
    actions: list[Action]
    actions_in_words: list[str]
    state: str
    snapshot: int
    deadline: int
    eta: int
    votes_for: int
    votes_against: int
    votes_abstain: int
    quorum: int

    @property
    def quorum_votes(self) -> int:
        """Votes that count toward quorum (For and Abstain, as GovernorCountingSimple counts)."""
        return self.votes_for + self.votes_abstain


@dataclass
class MemberView:
    address: str
    handle: str
    token_id: int
    delegate: str
    votes: int
    steward: bool = False


@dataclass
class CommonsView:
    name: str
    chain_id: int
    addresses: dict
    settings: CommonsSettings
    member_count: int
    proposal_count: int
    treasury_wei: int
    stewards: list[str] = field(default_factory=list)


def when(timestamp: int) -> str:
    """A chain timestamp as a readable UTC time."""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


class Commons:
    """One deployed commons on one chain."""

    def __init__(self, w3: Web3, manifest: Manifest):
        self.w3 = w3
        self.manifest = manifest
        artifacts = load_artifacts()
        self.membership = w3.eth.contract(address=manifest.membership, abi=artifacts["Membership"].abi)
        self.governor = w3.eth.contract(address=manifest.governor, abi=artifacts["CommonsGovernor"].abi)
        self.timelock = w3.eth.contract(address=manifest.timelock, abi=artifacts["TimelockController"].abi)
        self.addresses = manifest.addresses

    @classmethod
    def connect(cls, rpc_url: str, manifest_path: Path | None = None) -> "Commons":
        """Connect to `rpc_url` and load the commons deployed there (found by chain id unless a path is given)."""
        w3 = connect(rpc_url)
        return cls(w3, load(w3.eth.chain_id, manifest_path))

    # ---- reads -------------------------------------------------------------------------

    def ballot_domain(self) -> dict:
        return domain(self.manifest.name, self.manifest.chain_id, self.manifest.governor)

    def proposal_ids(self) -> list[int]:
        """Every proposal id, oldest first, from the governor's own enumeration (GovernorStorage)."""
        count = self.governor.functions.proposalCount().call()
        return [self._details_at(i)[0] for i in range(count)]

    def _details_at(self, index: int) -> tuple:
        return self.governor.functions.proposalDetailsAt(index).call()

    def resolve_proposal_id(self, reference: int) -> int:
        """A proposal id from either the id itself or its number in the commons (1 = the first proposal).

        Ids are 256-bit hashes, so a small number can only be a sequence number. Raises InvalidInput if unknown.
        """
        count = self.governor.functions.proposalCount().call()
        proposal_id = self._details_at(reference - 1)[0] if 1 <= reference <= count else reference
        self.require_proposal(proposal_id)
        return proposal_id

    def require_proposal(self, proposal_id: int) -> None:
        """Raises InvalidInput if there is no such proposal."""
        if self.governor.functions.proposalSnapshot(proposal_id).call() == 0:
            raise InvalidInput(f"There is no proposal {proposal_id} in this commons.")

    def descriptions(self) -> dict[int, str]:
        """Proposal id → Markdown text, from the ProposalCreated events (where the text lives)."""
        logs = self.governor.events.ProposalCreated().get_logs(from_block=self.manifest.deployment_block)
        return {log["args"]["proposalId"]: log["args"]["description"] for log in logs}

    def proposal(self, proposal_id: int, description: str | None = None) -> ProposalView:
        """The proposal with decoded actions, state and tallies; InvalidInput if unknown."""
        self.require_proposal(proposal_id)
        g = self.governor.functions
        if description is None:
            description = self.descriptions().get(proposal_id, "")
        targets, values, calldatas, _ = g.proposalDetails(proposal_id).call()
        proposal_actions = [Action(t, v, bytes(c)) for t, v, c in zip(targets, values, calldatas)]
        against, for_, abstain = g.proposalVotes(proposal_id).call()
        snapshot = g.proposalSnapshot(proposal_id).call()
        now = self.w3.eth.get_block("latest")["timestamp"]
        # Quorum is defined only once the snapshot is in the past.
        quorum = g.quorum(snapshot).call() if snapshot < now else self._quorum_now()
        return ProposalView(
            id=proposal_id,
            proposer=g.proposalProposer(proposal_id).call(),
            title=act.proposal_title(description),
            description=description,
            actions=proposal_actions,
            actions_in_words=[act.describe(a, self.addresses) for a in proposal_actions],
            state=PROPOSAL_STATES[g.state(proposal_id).call()],
            snapshot=snapshot,
            deadline=g.proposalDeadline(proposal_id).call(),
            eta=g.proposalEta(proposal_id).call(),
            votes_for=for_,
            votes_against=against,
            votes_abstain=abstain,
            quorum=quorum,
        )

    def _quorum_now(self) -> int:
        members = self.membership.functions.memberCount().call()
        return members * self.governor.functions.quorumNumerator().call() // 100

    def proposals(self) -> list[ProposalView]:
        texts = self.descriptions()
        return [self.proposal(pid, texts.get(pid, "")) for pid in self.proposal_ids()]

    def stewards(self) -> list[str]:
        """Current stewards, from the appointment and recall events."""
        events = self.governor.events
        appointed = events.StewardAppointed().get_logs(from_block=self.manifest.deployment_block)
        recalled = events.StewardRecalled().get_logs(from_block=self.manifest.deployment_block)
        ordered = sorted([(e["blockNumber"], e["logIndex"], e["args"]["steward"], True) for e in appointed]
                         + [(e["blockNumber"], e["logIndex"], e["args"]["steward"], False) for e in recalled])
        current: dict[str, bool] = {}
        for *_, who, on in ordered:
            current[who] = on
        return [who for who, on in current.items() if on]

    def members(self) -> list[MemberView]:
        """Current members with handle, delegate and voting power."""
        admitted = self.membership.events.MemberAdmitted().get_logs(from_block=self.manifest.deployment_block)
        stewards = set(self.stewards())
        seen: dict[str, MemberView] = {}
        m = self.membership.functions
        for log in admitted:
            who = log["args"]["member"]
            if who in seen or not m.isMember(who).call():
                continue
            seen[who] = MemberView(who, m.handleOf(who).call(), m.tokenOf(who).call(), m.delegates(who).call(),
                                   m.getVotes(who).call(), who in stewards)
        return sorted(seen.values(), key=lambda v: v.token_id)

    def current_settings(self) -> CommonsSettings:
        g = self.governor.functions
        return CommonsSettings(
            voting_delay=g.votingDelay().call(),
            voting_period=g.votingPeriod().call(),
            quorum_percent=g.quorumNumerator().call(),
            late_quorum_extension=g.lateQuorumVoteExtension().call(),
            timelock_delay=self.timelock.functions.getMinDelay().call(),
        )

    def overview(self) -> CommonsView:
        return CommonsView(
            name=self.manifest.name,
            chain_id=self.manifest.chain_id,
            addresses={"membership": self.manifest.membership, "governor": self.manifest.governor, "timelock": self.manifest.timelock},
            settings=self.current_settings(),
            member_count=self.membership.functions.memberCount().call(),
            proposal_count=self.governor.functions.proposalCount().call(),
            treasury_wei=self.w3.eth.get_balance(self.manifest.timelock),
            stewards=self.stewards(),
        )

    # ---- plans (writes) ----------------------------------------------------------------

    def plan_propose(self, proposal_actions: list[Action], description: str) -> Plan:
        if not proposal_actions:
            raise InvalidInput("A proposal needs at least one action.")
        if not description.strip().startswith("#"):
            raise InvalidInput("The proposal text must start with a '# Title' line.")
        data = self.governor.encode_abi("propose", args=[
            [a.target for a in proposal_actions], [a.value for a in proposal_actions],
            [a.calldata for a in proposal_actions], description])
        words = [act.describe(a, self.addresses) for a in proposal_actions]
        return Plan("propose", f"Propose “{act.proposal_title(description)}”", words, self.manifest.governor, data)

    def proposal_id_of(self, proposal_actions: list[Action], description: str) -> int:
        """The id a proposal with these actions and text will get (or has)."""
        return self.governor.functions.hashProposal(
            [a.target for a in proposal_actions], [a.value for a in proposal_actions],
            [a.calldata for a in proposal_actions], keccak(text=description)).call()

    def plan_vote(self, proposal_id: int, support: int, reason: str = "") -> Plan:
        self.require_proposal(proposal_id)
        data = (self.governor.encode_abi("castVoteWithReason", args=[proposal_id, support, reason]) if reason
                else self.governor.encode_abi("castVote", args=[proposal_id, support]))
        words = f"Vote {SUPPORT_NAMES[support].capitalize()} on proposal {proposal_id}" + (f" because: {reason}" if reason else "")
        return Plan("vote", words, [], self.manifest.governor, data)

    def plan_vote_by_signature(self, ballot: Ballot, signature: bytes) -> Plan:
        """Submit a member's signed ballot (anyone may send it; the voter pays nothing)."""
        if ballot.extended:
            data = self.governor.encode_abi("castVoteWithReasonAndParamsBySig", args=[
                ballot.proposal_id, ballot.support, ballot.voter, ballot.reason, b"", signature])
        else:
            data = self.governor.encode_abi("castVoteBySig", args=[ballot.proposal_id, ballot.support, ballot.voter, signature])
        return Plan("vote", f"Submit {ballot.voter}'s signed {SUPPORT_NAMES[ballot.support]} vote on proposal {ballot.proposal_id}",
                    [], self.manifest.governor, data)

    def plan_lifecycle(self, step: str, proposal_id: int) -> Plan:
        """queue / execute / cancel a proposal by id."""
        view = self.proposal(proposal_id)
        data = self.governor.encode_abi(step, args=[proposal_id])
        return Plan(step, f"{step.capitalize()} proposal {proposal_id} “{view.title}”", view.actions_in_words, self.manifest.governor, data)

    def plan_delegate(self, delegatee: str) -> Plan:
        delegatee = act.checked_address(delegatee, "delegate")
        return Plan("delegate", f"Delegate your vote to {delegatee}", [], self.manifest.membership,
                    self.membership.encode_abi("delegate", args=[delegatee]))

    def plan_resign(self) -> Plan:
        return Plan("resign", "Resign your membership (your token is burned and your vote ends)", [], self.manifest.membership,
                    self.membership.encode_abi("resign", args=[]))

    # ---- sending -----------------------------------------------------------------------

    def simulate(self, plan: Plan, sender: str) -> None:
        """Raises Reverted (in words, with context) if `plan` would fail when sent by `sender`."""
        try:
            simulate(self.w3, {"from": sender, "to": plan.to, "data": plan.data, "value": plan.value})
        except Reverted as exc:
            raise self._in_context(exc, plan) from None

    def submit(self, plan: Plan, signer: Signer) -> dict:
        """Simulate, sign and send `plan`; returns the receipt. Raises Reverted in words."""
        try:
            return transact(self.w3, signer, plan.to, plan.data, plan.value)
        except Reverted as exc:
            raise self._in_context(exc, plan) from None

    def _in_context(self, exc: Reverted, plan: Plan) -> Reverted:
        """Say what a state error means for the act that was tried (e.g. 'voting closed on …')."""
        if exc.name != "GovernorUnexpectedProposalState":
            return exc
        proposal_id, current = exc.error_args[0], PROPOSAL_STATES[exc.error_args[1]]
        g = self.governor.functions
        if plan.kind == "vote":
            if current == "pending":
                return Reverted(f"voting on proposal {proposal_id} opens on {when(g.proposalSnapshot(proposal_id).call())}", exc.name, exc.error_args)
            return Reverted(f"voting on proposal {proposal_id} closed on {when(g.proposalDeadline(proposal_id).call())} (it is {current})", exc.name, exc.error_args)
        return exc
