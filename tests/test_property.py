"""Property: for random admissions, removals, resignations, delegations and votes, the chain agrees with a
plain Python model of the rules (votes follow delegation, and return to their owners when the delegatee
leaves; weight and quorum are read at the snapshot;
For + Abstain count toward quorum; a proposal passes when quorum is met and For beats Against; a member holds
at most MAX_DELEGATORS delegated votes, so leaving costs bounded gas).

Admissions and removals are sent as the impersonated timelock (what an executed proposal does), so an
example takes a few dozen transactions instead of whole proposals; each example runs between an
evm_snapshot and an evm_revert.
"""

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.client import Commons
from governance.deploy import deploy_commons
from governance.errors import Reverted
from governance.manifest import CommonsSettings
from governance.vocabulary import PROPOSAL_STATES
from tests.helpers import act, advance_to, fund, impersonate, propose, send, to_voting
from tests.helpers import test_key_signer as key_signer

POOL_SIZE = 6
ZERO = "0x0000000000000000000000000000000000000000"
FOUNDING = 2
MAX_DELEGATORS = 2  # small, so random examples reach the limit
# Gas a removal or resignation may take: the burn and events, plus returning each delegated vote (at most MAX_DELEGATORS).
LEAVING_GAS = 160_000 + 75_000 * MAX_DELEGATORS
QUORUM_PERCENTS = (20, 50, 67)
PROPERTY_SETTINGS = CommonsSettings(
    voting_delay=10, voting_period=600, quorum_percent=0, late_quorum_extension=60, timelock_delay=60
)


@dataclass
class Rules:
    """The plain model: who is a member, whom each account delegates to, and one proposal's votes."""

    quorum_percent: int
    member: list[bool] = field(default_factory=lambda: [i < FOUNDING for i in range(POOL_SIZE)])
    delegate: list[int | None] = field(default_factory=lambda: [i if i < FOUNDING else None for i in range(POOL_SIZE)])
    weight_at_snapshot: list[int] = field(default_factory=list)
    members_at_snapshot: int = 0
    voted: list[bool] = field(default_factory=lambda: [False] * POOL_SIZE)
    tallies: list[int] = field(default_factory=lambda: [0, 0, 0])  # against, for, abstain

    def votes(self, account: int) -> int:
        return sum(1 for i in range(POOL_SIZE) if self.member[i] and self.delegate[i] == account)

    def delegators(self, account: int, besides: int) -> int:
        """Members other than `account` (and `besides`) who delegate to `account`."""
        return sum(1 for i in range(POOL_SIZE) if i not in (account, besides) and self.member[i] and self.delegate[i] == account)

    def take_snapshot(self) -> None:
        self.weight_at_snapshot = [self.votes(i) for i in range(POOL_SIZE)]
        self.members_at_snapshot = sum(self.member)

    def apply(self, op: tuple) -> str | None:
        """Apply `op` to the model; returns the error the chain must refuse it with, or None."""
        kind, who, *rest = op
        if kind == "admit":
            if self.member[who]:
                return "MembershipAlreadyMember"
            self.member[who], self.delegate[who] = True, who
        elif kind in ("remove", "resign"):
            if not self.member[who]:
                return "MembershipNotMember"
            self.member[who] = False
            # A vote never leaves the commons: votes members delegated to a leaving member return to them.
            # (A former member's own delegate pointer stays as it was; it carries no vote.)
            for i in range(POOL_SIZE):
                if self.delegate[i] == who and i != who and self.member[i]:
                    self.delegate[i] = i
        elif kind == "delegate":
            (to,) = rest
            if not self.member[who]:
                return "MembershipNotMember"
            if to != who and not self.member[to]:
                return "MembershipDelegateNotMember"
            if to != who and self.delegators(to, besides=who) >= MAX_DELEGATORS:
                return "MembershipTooManyDelegators"
            self.delegate[who] = to
        elif kind == "vote":
            (support,) = rest
            weight = self.weight_at_snapshot[who]
            if weight == 0:
                return "CommonsNoVotingPower"
            if self.voted[who]:
                return "GovernorAlreadyCastVote"
            self.voted[who] = True
            self.tallies[support] += weight
        return None

    def outcome(self) -> str:
        against, for_, abstain = self.tallies
        quorum = self.members_at_snapshot * self.quorum_percent // 100
        return "succeeded" if for_ + abstain >= quorum and for_ > against else "defeated"


@pytest.fixture(scope="module")
def pool(w3):
    signers = [key_signer(f"property-{i}") for i in range(POOL_SIZE)]
    for signer in signers:
        fund(w3, signer.address)
    return signers


@pytest.fixture(scope="module")
def steward(w3):
    signer = key_signer("property-steward")
    fund(w3, signer.address)
    return signer


@pytest.fixture(scope="module")
def small_commons(w3, deployer, pool, steward) -> dict[int, Commons]:
    """One small commons per quorum percentage, with founders pool[0] and pool[1]; the steward is no member."""
    deployed = {}
    for percent in QUORUM_PERCENTS:
        settings_ = CommonsSettings(**{**PROPERTY_SETTINGS.__dict__, "quorum_percent": percent})
        manifest = deploy_commons(
            w3,
            deployer,
            f"Property {percent}",
            [(s.address, f"p{i}") for i, s in enumerate(pool[:FOUNDING])],
            [steward.address],
            settings_,
            max_delegators=MAX_DELEGATORS,
        )
        impersonate(w3, manifest.timelock)
        fund(w3, manifest.timelock)
        deployed[percent] = Commons(w3, manifest)
    return deployed


def run(commons: Commons, pool: list, op: tuple) -> dict:
    """Send `op` to the chain as the right account; returns the receipt."""
    kind, who, *rest = op
    timelock = impersonate(commons.w3, commons.manifest.timelock)
    if kind == "admit":
        return send(commons.w3, timelock, commons.membership, "admit", pool[who].address, f"member-{who}")
    if kind == "remove":
        return send(commons.w3, timelock, commons.membership, "remove", pool[who].address)
    if kind == "resign":
        return commons.submit(commons.plan_resign(), pool[who])
    return commons.submit(commons.plan_delegate(pool[rest[0]].address), pool[who])


def apply_both(commons: Commons, pool: list, rules: Rules, op: tuple, proposal_id: int | None = None) -> None:
    expected_error = rules.apply(op)
    try:
        if op[0] == "vote":
            commons.submit(commons.plan_vote(proposal_id, op[2]), pool[op[1]])
        else:
            receipt = run(commons, pool, op)
            if op[0] in ("remove", "resign"):
                assert receipt["gasUsed"] <= LEAVING_GAS, (op, receipt["gasUsed"])
    except Reverted as exc:
        assert exc.name == expected_error, (op, exc.reason)
    else:
        assert expected_error is None, (op, "the chain accepted what the rules refuse")


def assert_registry_matches(commons: Commons, pool: list, rules: Rules) -> None:
    m = commons.membership.functions
    assert m.memberCount().call() == sum(rules.member)
    # Every member's vote is with exactly one member: none lost, none doubled, none left with a former member.
    assert sum(m.getVotes(s.address).call() for s in pool) == sum(rules.member)
    for i, signer in enumerate(pool):
        assert m.isMember(signer.address).call() == rules.member[i], i
        assert m.getVotes(signer.address).call() == rules.votes(i), i
        delegate = rules.delegate[i]
        assert m.delegates(signer.address).call() == (pool[delegate].address if delegate is not None else ZERO), i


account = st.integers(0, POOL_SIZE - 1)
registry_op = st.one_of(
    st.tuples(st.just("admit"), account),
    st.tuples(st.just("remove"), account),
    st.tuples(st.just("resign"), account),
    st.tuples(st.just("delegate"), account, account),
)
vote_op = st.tuples(st.just("vote"), account, st.sampled_from([0, 1, 2]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    quorum_percent=st.sampled_from(QUORUM_PERCENTS),
    before_snapshot=st.lists(registry_op, max_size=8),
    during_vote=st.lists(st.one_of(vote_op, vote_op, registry_op), max_size=12),
)
def test_tallies_and_outcome_follow_the_rules(w3, small_commons, pool, steward, quorum_percent, before_snapshot, during_vote):
    commons = small_commons[quorum_percent]
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        rules = Rules(quorum_percent)
        for op in before_snapshot:
            apply_both(commons, pool, rules, op)
        assert_registry_matches(commons, pool, rules)

        pid = propose(commons, steward, [act.pay(steward.address, 1)], "Property")
        rules.take_snapshot()
        to_voting(commons, pid)
        for op in during_vote:
            apply_both(commons, pool, rules, op, pid)
        assert_registry_matches(commons, pool, rules)

        g = commons.governor.functions
        assert g.proposalVotes(pid).call() == rules.tallies
        assert [g.hasVoted(pid, s.address).call() for s in pool] == rules.voted
        advance_to(w3, g.proposalDeadline(pid).call())
        assert g.quorum(g.proposalSnapshot(pid).call()).call() == rules.members_at_snapshot * quorum_percent // 100
        assert PROPOSAL_STATES[g.state(pid).call()] == rules.outcome()
    finally:
        w3.provider.make_request("evm_revert", [snapshot])
