"""A typed client for every governance act, and reads of the commons' current state.

Writes come in two steps: a `Plan` (what will be sent, in words) and `submit` (simulate, sign,
send). That lets the CLI show and simulate before sending, and stop there on --dry-run.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from eth_utils import keccak
from web3 import Web3
from web3.types import RPCEndpoint

from governance import actions as act
from governance.actions import Action
from governance.ballots import Ballot, domain
from governance.chain import Signer, connect, simulate, transact
from governance.compiler import load_artifacts
from governance.errors import InvalidInput, Reverted
from governance.manifest import CommonsSettings, Manifest, load
from governance.treasury import known_tokens, web3_reader
from governance.vocabulary import PROPOSAL_STATES, STATE_IN_WORDS, SUPPORT_NAMES

if TYPE_CHECKING:
    from governance.readings import Reading


@dataclass
class Plan:
    """One transaction to send, and what it does in words."""

    kind: str  # propose, vote, queue, execute, cancel, delegate, resign, fund
    summary: str
    details: list[str]
    to: str
    data: bytes
    value: int = 0
    proposal_id: int | None = None  # the proposal it acts on, if any
    number: int | None = None  # that proposal's number in the commons (#N)
    irreversible: bool = False  # cannot be undone by the sender (resign): ask before, default no
    warnings: list[str] = field(default_factory=list)  # what a reader must not miss: actions that change who holds power


@dataclass
class VoteView:
    """One vote cast on a proposal, as the VoteCast events record it."""

    voter: str
    handle: str
    support: str  # for, against, abstain
    weight: int
    reason: str


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
    number: int = 0  # its number in the commons, 1 for the first proposal
    proposer_handle: str = ""
    power: list[str | None] = field(default_factory=list)  # per action: how it changes who holds power, if it does

    @property
    def quorum_votes(self) -> int:
        """Votes that count toward quorum (For and Abstain, as GovernorCountingSimple counts)."""
        return self.votes_for + self.votes_abstain

    @property
    def label(self) -> str:
        """'#N', the way people name a proposal."""
        return f"#{self.number}"


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


# EVM code run by eth_call that returns block.timestamp (TIMESTAMP PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN).
NOW_CODE = "0x4260005260206000f3"


def when(timestamp: int) -> str:
    """A chain timestamp as a readable UTC time."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


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
        if 1 <= reference <= count:
            return self._details_at(reference - 1)[0]
        if reference < 2**64 and not self.governor.functions.proposalSnapshot(reference).call():  # a number, not an id
            has = f"it has {count} proposals, #1 to #{count}" if count > 1 else ("it has only #1" if count else "it has none yet")
            raise InvalidInput(f"There is no proposal {reference} in this commons; {has}.")
        self.require_proposal(reference)
        return reference

    def resolve_proposal(self, reference: str) -> int:
        """The proposal id named by `reference`: its number in the commons ('3' or '#3') or its full id.

        Raises InvalidInput for anything else, or for a proposal this commons does not have.
        """
        try:
            value = int(reference.strip().lstrip("#"), 0)
        except ValueError:
            raise InvalidInput(f"{reference!r} is not a proposal number (such as 3 or #3) or id.") from None
        if value <= 0:
            raise InvalidInput(f"{reference!r} is not a proposal number (such as 3 or #3) or id.")
        return self.resolve_proposal_id(value)

    def numbers(self) -> dict[int, int]:
        """Proposal id → its number in the commons (1 = the first), in the order they were proposed."""
        return {pid: number for number, pid in enumerate(self.descriptions(), start=1)}

    def label(self, proposal_id: int) -> str:
        """'#N' for a proposal of this commons, else its full id."""
        number = self.numbers().get(proposal_id)
        return f"#{number}" if number else str(proposal_id)

    def handles(self) -> dict[str, str]:
        """Address → handle of everyone ever admitted (the handle they were admitted with)."""
        admitted = self.membership.events.MemberAdmitted().get_logs(from_block=self.manifest.deployment_block)
        return {log["args"]["member"]: log["args"]["handle"] for log in admitted}

    def read_actions(self, proposal_actions: list[Action]) -> list["Reading"]:
        """Each action in words (governance.readings), members by handle and token amounts in the token's units."""
        tokens = known_tokens(web3_reader(self.w3), self.manifest.contributions, proposal_actions)
        handles = self.handles()
        return [act.read(a, self.addresses, handles, tokens) for a in proposal_actions]

    def member_address(self, reference: str, what: str = "member") -> str:
        """The checksummed address named by `reference`: an address, or the handle of a current member.

        Raises InvalidInput if it is neither.
        """
        if reference.startswith("0x"):
            return act.checked_address(reference, what)
        wanted = reference.strip().lstrip("@").lower()
        for address, handle in self.handles().items():
            if handle.lower() == wanted and self.membership.functions.isMember(address).call():
                return address
        raise InvalidInput(f"No current member has the handle {reference!r}; give a handle or an address (0x…).")

    def votes(self, proposal_id: int) -> list[VoteView]:
        """Every vote cast on the proposal, in order, with the voter's handle and reason."""
        handles = self.handles()
        votes = []
        for event in (self.governor.events.VoteCast(), self.governor.events.VoteCastWithParams()):
            for log in event.get_logs(from_block=self.manifest.deployment_block):
                a = log["args"]
                if a["proposalId"] == proposal_id:
                    view = VoteView(
                        a["voter"], handles.get(a["voter"], ""), SUPPORT_NAMES[a["support"]], a["weight"], a["reason"]
                    )
                    votes.append(((log["blockNumber"], log["logIndex"]), view))
        return [view for _, view in sorted(votes, key=lambda pair: pair[0])]

    def require_proposal(self, proposal_id: int) -> None:
        """Raises InvalidInput if there is no such proposal."""
        if self.governor.functions.proposalSnapshot(proposal_id).call() == 0:
            raise InvalidInput(f"There is no proposal {proposal_id} in this commons.")

    def descriptions(self) -> dict[int, str]:
        """Proposal id → Markdown text, from the ProposalCreated events (where the text lives)."""
        logs = self.governor.events.ProposalCreated().get_logs(from_block=self.manifest.deployment_block)
        return {log["args"]["proposalId"]: log["args"]["description"] for log in logs}

    def proposal(self, proposal_id: int, description: str | None = None, number: int = 0) -> ProposalView:
        """The proposal with decoded actions, state and tallies, as of the chain's current time; InvalidInput if unknown."""
        self.require_proposal(proposal_id)
        g = self.governor.functions
        if description is None:
            texts = self.descriptions()
            description = texts.get(proposal_id, "")
            number = list(texts).index(proposal_id) + 1 if proposal_id in texts else 0
        targets, values, calldatas, _ = g.proposalDetails(proposal_id).call()
        proposal_actions = [Action(t, v, bytes(c)) for t, v, c in zip(targets, values, calldatas)]
        against, for_, abstain = g.proposalVotes(proposal_id).call()
        snapshot = g.proposalSnapshot(proposal_id).call()
        now = self.chain_time()
        # Quorum is defined only once the snapshot is in the past.
        quorum = g.quorum(snapshot).call(block_identifier="pending") if snapshot < now else self._quorum_now()
        readings = self.read_actions(proposal_actions)
        proposer = g.proposalProposer(proposal_id).call()
        return ProposalView(
            id=proposal_id,
            proposer=proposer,
            proposer_handle=self.handles().get(proposer, ""),
            title=act.proposal_title(description),
            description=act.shown_text(description),
            actions=proposal_actions,
            actions_in_words=[r.words for r in readings],
            power=[r.power for r in readings],
            state=self.state(proposal_id),
            snapshot=snapshot,
            deadline=g.proposalDeadline(proposal_id).call(),
            eta=g.proposalEta(proposal_id).call(),
            votes_for=for_,
            votes_against=against,
            votes_abstain=abstain,
            quorum=quorum,
            number=number,
        )

    def chain_time(self) -> int:
        """The chain's current time: the timestamp the next block will have (a local node that mines only on
        transactions keeps its last block's time for as long as it waits)."""
        return Web3.to_int(
            hexstr=self.w3.provider.make_request(RPCEndpoint("eth_call"), [{"data": NOW_CODE}, "pending"])["result"]
        )

    def state(self, proposal_id: int) -> str:
        """The proposal's state (one of PROPOSAL_STATES) at the chain's current time."""
        return PROPOSAL_STATES[self.governor.functions.state(proposal_id).call(block_identifier="pending")]

    def _quorum_now(self) -> int:
        members = self.membership.functions.memberCount().call()
        return members * self.governor.functions.quorumNumerator().call() // 100

    def proposals(self) -> list[ProposalView]:
        """Every proposal, oldest first, numbered."""
        texts = self.descriptions()
        return [self.proposal(pid, text, number) for number, (pid, text) in enumerate(texts.items(), start=1)]

    def stewards(self) -> list[str]:
        """Current stewards, from the appointment and recall events."""
        events = self.governor.events
        appointed = events.StewardAppointed().get_logs(from_block=self.manifest.deployment_block)
        recalled = events.StewardRecalled().get_logs(from_block=self.manifest.deployment_block)
        ordered = sorted(
            [(e["blockNumber"], e["logIndex"], e["args"]["steward"], True) for e in appointed]
            + [(e["blockNumber"], e["logIndex"], e["args"]["steward"], False) for e in recalled]
        )
        current: dict[str, bool] = {}
        for *_, who, on in ordered:
            current[who] = on
        # The Initiatives contract is a steward so that members' initiatives can become proposals; it is no person.
        return [who for who, on in current.items() if on and who != self.manifest.initiatives]

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
            seen[who] = MemberView(
                who,
                m.handleOf(who).call(),
                m.tokenOf(who).call(),
                m.delegates(who).call(),
                m.getVotes(who).call(),
                who in stewards,
            )
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
            addresses=self.addresses.by_role(),
            settings=self.current_settings(),
            member_count=self.membership.functions.memberCount().call(),
            proposal_count=self.governor.functions.proposalCount().call(),
            treasury_wei=self.w3.eth.get_balance(self.manifest.timelock),
            stewards=self.stewards(),
        )

    # ---- plans (writes) ----------------------------------------------------------------

    def plan_propose(self, proposal_actions: list[Action], description: str, proposer: str) -> Plan:
        """Propose `proposal_actions` with `description` bound to `proposer` (only they can submit it)."""
        if not proposal_actions:
            raise InvalidInput("A proposal needs at least one action.")
        if not act.shown_text(description).strip().startswith("#"):
            raise InvalidInput("The proposal text must start with a '# Title' line.")
        description = act.bound_to_proposer(description, proposer)
        data = self.governor.encode_abi(
            "propose",
            args=[
                [a.target for a in proposal_actions],
                [a.value for a in proposal_actions],
                [a.calldata for a in proposal_actions],
                description,
            ],
        )
        readings = self.read_actions(proposal_actions)
        return Plan(
            "propose",
            f"Propose “{act.proposal_title(description)}”",
            [r.words for r in readings],
            self.manifest.governor,
            data,
            warnings=[r.power for r in readings if r.power],
        )

    def proposal_id_of(self, proposal_actions: list[Action], description: str, proposer: str) -> int:
        """The id a proposal with these actions and text, proposed by `proposer`, will get (or has)."""
        description = act.bound_to_proposer(description, proposer)
        return self.governor.functions.hashProposal(
            [a.target for a in proposal_actions],
            [a.value for a in proposal_actions],
            [a.calldata for a in proposal_actions],
            keccak(text=description),
        ).call()

    def plan_vote(self, proposal_id: int, support: int, reason: str = "") -> Plan:
        """Vote `support` (0 against, 1 for, 2 abstain) with an optional reason; InvalidInput if no such proposal."""
        view = self.proposal(proposal_id)
        data = (
            self.governor.encode_abi("castVoteWithReason", args=[proposal_id, support, reason])
            if reason
            else self.governor.encode_abi("castVote", args=[proposal_id, support])
        )
        words = f"Vote {SUPPORT_NAMES[support].capitalize()} on {view.label} “{view.title}”" + (
            f" because: {reason}" if reason else ""
        )
        return Plan("vote", words, [], self.manifest.governor, data, proposal_id=proposal_id, number=view.number)

    def plan_vote_by_signature(self, ballot: Ballot, signature: bytes) -> Plan:
        """Submit a member's signed ballot (anyone may send it; the voter pays nothing)."""
        if ballot.extended:
            data = self.governor.encode_abi(
                "castVoteWithReasonAndParamsBySig",
                args=[ballot.proposal_id, ballot.support, ballot.voter, ballot.reason, b"", signature],
            )
        else:
            data = self.governor.encode_abi("castVoteBySig", args=[ballot.proposal_id, ballot.support, ballot.voter, signature])
        return Plan(
            "vote",
            f"Submit {ballot.voter}'s signed {SUPPORT_NAMES[ballot.support]} vote on proposal {ballot.proposal_id}",
            [],
            self.manifest.governor,
            data,
        )

    def plan_lifecycle(self, step: str, proposal_id: int) -> Plan:
        """queue / execute / cancel a proposal by id; InvalidInput if there is no such proposal."""
        view = self.proposal(proposal_id)
        data = self.governor.encode_abi(step, args=[proposal_id])
        return Plan(
            step,
            f"{step.capitalize()} {view.label} “{view.title}”",
            view.actions_in_words,
            self.manifest.governor,
            data,
            proposal_id=proposal_id,
            number=view.number,
        )

    def plan_delegate(self, delegatee: str) -> Plan:
        """Delegate the sender's vote to a member (an address or a handle); InvalidInput if it names no one."""
        delegatee = self.member_address(delegatee, "delegate")
        handle = self.handles().get(delegatee)
        return Plan(
            "delegate",
            f"Delegate your vote to {handle + ' (' + delegatee + ')' if handle else delegatee}",
            [],
            self.manifest.membership,
            self.membership.encode_abi("delegate", args=[delegatee]),
        )

    def plan_resign(self) -> Plan:
        return Plan(
            "resign",
            "Resign your membership (your token is burned and your vote ends; only a new admission can undo it)",
            [],
            self.manifest.membership,
            self.membership.encode_abi("resign", args=[]),
            irreversible=True,
        )

    def plan_fund_relay(self, relay_api: str, wei: int) -> Plan:
        """Send `wei` to the vote relay that the API at `relay_api` runs for this commons (from whoever signs).

        Raises InvalidInput if that API relays for another commons or chain; RetryableError if it does not answer.
        """
        from governance.audit import ApiSource  # the public API's reader

        api = ApiSource(relay_api)
        config = api.get("/api/relay/config")
        m = self.manifest
        if (config["chain_id"], config["governor"]) != (m.chain_id, m.governor):
            raise InvalidInput(
                f"The API at {relay_api} relays for the commons {config['governor']} on chain {config['chain_id']}, "
                f"not for “{m.name}” ({m.governor} on chain {m.chain_id})."
            )
        balance = int(api.get("/api/relay/status")["balance_wei"])
        return Plan(
            "fund",
            f"Send {act.format_eth(wei)} to the vote relay {config['relayer']}",
            [f"It holds {act.format_eth(balance)} and pays the gas of members' signed ballots for “{m.name}”."],
            config["relayer"],
            b"",
            wei,
        )

    # ---- sending -----------------------------------------------------------------------

    def simulate(self, plan: Plan, sender: str) -> None:
        """Raises Reverted (in words, with context) if `plan` would fail when sent by `sender`."""
        try:
            simulate(self.w3, {"from": sender, "to": plan.to, "data": plan.data, "value": plan.value}, "pending")
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
        if exc.name == "GovernorUnableToCancel":
            state = PROPOSAL_STATES[self.governor.functions.state(exc.error_args[0]).call()]
            if state in ("canceled", "executed"):
                return Reverted(f"proposal {self.label(exc.error_args[0])} is already {state}", exc.name, exc.error_args)
        g = self.governor.functions
        if exc.name == "TimelockUnexpectedOperationState" and plan.kind == "execute" and plan.proposal_id:
            eta = g.proposalEta(plan.proposal_id).call()
            if eta > self.chain_time():
                return Reverted(f"{self.label(plan.proposal_id)} can be executed from {when(eta)}, when its timelock delay ends")
        if exc.name != "GovernorUnexpectedProposalState":
            return exc
        proposal_id, current = exc.error_args[0], PROPOSAL_STATES[exc.error_args[1]]
        label = self.label(proposal_id)
        if plan.kind == "propose" and int(exc.error_args[2], 16) == 0:
            return Reverted(f"this proposal is identical to {label} (same actions, text and proposer)", exc.name, exc.error_args)
        if plan.kind == "vote":
            if current == "pending":
                return Reverted(
                    f"voting on {label} opens on {when(g.proposalSnapshot(proposal_id).call())}", exc.name, exc.error_args
                )
            return Reverted(
                f"voting on {label} closed on {when(g.proposalDeadline(proposal_id).call())} (it {STATE_IN_WORDS[current]})",
                exc.name,
                exc.error_args,
            )
        if (plan.kind, current) in (("cancel", "canceled"), ("queue", "queued"), ("execute", "executed")):
            return Reverted(f"proposal {label} is already {current}", exc.name, exc.error_args)
        return Reverted(exc.reason.replace(f"proposal {proposal_id}", f"proposal {label}"), exc.name, exc.error_args)


# Gas per relayed vote in a batch of ten (benchmarks/bench_relay.py measures 58.3k), for "votes left".
RELAYED_VOTE_GAS = 60_000


def relay_status(relay_api: str, w3: Web3) -> dict:
    """The relay's own status (GET /api/relay/status from the API at `relay_api`), with
    `votes_left_at_current_gas_price`: about how many votes its balance pays for (None if gas is free).

    Raises RetryableError if the API does not answer.
    """
    from governance.audit import ApiSource

    status = ApiSource(relay_api).get("/api/relay/status")
    gas_price = w3.eth.gas_price
    status["gas_price_wei"] = gas_price
    status["votes_left_at_current_gas_price"] = (
        int(status["balance_wei"]) // (gas_price * RELAYED_VOTE_GAS) if gas_price else None
    )
    return status
