"""The shared words of a commons, in one place: proposal states, vote support, roles and event groups.

Python names follow the contracts: a state's index is what `Governor.state()` returns, a support's
index is the `uint8 support` of a vote, and a role is the manifest's name for one of the three
contracts. Imports nothing from the rest of `governance`, so anything may depend on it.
"""

from dataclasses import dataclass

from eth_typing import ChecksumAddress

from governance.errors import InvalidInput

# OpenZeppelin's `IGovernor.ProposalState`, in its order: PROPOSAL_STATES[governor.state(id)].
PROPOSAL_STATES = ("pending", "active", "canceled", "defeated", "succeeded", "queued", "expired", "executed")

# What each state means, as the end of a sentence about a proposal ("it …").
STATE_IN_WORDS = {
    "pending": "is not open for voting yet",
    "active": "is open for voting",
    "canceled": "was canceled",
    "defeated": "was defeated",
    "succeeded": "passed and waits to be queued",
    "queued": "passed and is queued in the timelock",
    "expired": "passed but was not executed in time",
    "executed": "was carried out",
}

# GovernorCountingSimple's `VoteType`, in its order: SUPPORT_NAMES[support]; For and Abstain count toward quorum.
SUPPORT_NAMES = ("against", "for", "abstain")
SUPPORT = {name: number for number, name in enumerate(SUPPORT_NAMES)}


def parse_support(text: str | int) -> int:
    """0, 1 or 2 from 'against' / 'for' / 'abstain' (or the number); raises InvalidInput otherwise."""
    if isinstance(text, int) and not isinstance(text, bool) and 0 <= text < len(SUPPORT_NAMES):
        return text
    support = SUPPORT.get(str(text).strip().lower())
    if support is None:
        raise InvalidInput(f"A vote is 'for', 'against' or 'abstain', not {text!r}.")
    return support


# The three contracts of a commons, by the role the manifest gives each, and the artifact each is built from.
ROLES = ("membership", "governor", "timelock")
CONTRACT_OF_ROLE = {"membership": "Membership", "governor": "CommonsGovernor", "timelock": "TimelockController"}
# Contracts a commons has besides those three when it was deployed with them (Manifest.indexed_contracts()).
OPTIONAL_CONTRACT_OF_ROLE = {"contributions": "Contributions", "initiatives": "Initiatives"}


@dataclass(frozen=True)
class Addresses:
    """The commons' contracts by role: to address them, and to recognise calls and logs to them."""

    membership: ChecksumAddress
    governor: ChecksumAddress
    timelock: ChecksumAddress
    # The Initiatives contract: a steward so that members' initiatives become proposals, but no person, so the
    # cache's stewards leave it out ("" when unknown or absent).
    initiatives: str = ""
    # The Contributions contract: attributed contributions and the tokens the treasury tracks ("" when unknown or absent).
    contributions: str = ""

    def role_of(self, address: str) -> str | None:
        """The role of one of the commons' contracts ('membership', 'governor', 'timelock', or 'initiatives' /
        'contributions' when known); None for any other address."""
        for role in (*ROLES, *OPTIONAL_CONTRACT_OF_ROLE):
            known = getattr(self, role)
            if known and known.lower() == address.lower():
                return role
        return None

    def by_role(self) -> dict[str, ChecksumAddress]:
        """{role: address} for the three contracts, in ROLES order."""
        return {role: getattr(self, role) for role in ROLES}


# Event groups, by what they are about (names as the contracts emit them).
MEMBER_EVENTS = ("MemberAdmitted", "MemberRemoved", "MemberResigned", "DelegateChanged")
STEWARD_EVENTS = ("StewardAppointed", "StewardRecalled")
# A vote is either event (the second when it carries params, as relayed ballots do).
VOTE_EVENTS = ("VoteCast", "VoteCastWithParams")
LIFECYCLE_EVENTS = ("ProposalExtended", "ProposalQueued", "ProposalExecuted", "ProposalCanceled")
GOVERNOR_SETTING_EVENTS = (
    "VotingDelaySet",
    "VotingPeriodSet",
    "ProposalThresholdSet",
    "QuorumNumeratorUpdated",
    "LateQuorumVoteExtensionSet",
)
TIMELOCK_EVENTS = ("CallScheduled", "CallExecuted", "Cancelled")
# The treasury's own record: attributed contributions and the tokens the commons tracks (contracts/Contributions.sol).
TREASURY_EVENTS = ("Contributed", "TokenTracked", "TokenUntracked")
# Members' initiatives and the signatures supporting them (contracts/Initiatives.sol).
INITIATIVE_EVENTS = (
    "InitiativeDrafted",
    "InitiativeRevised",
    "InitiativeWithdrawn",
    "SupportPosted",
    "SupportWithdrawn",
    "InitiativeSubmitted",
)
INITIATIVE_SETTING_EVENTS = ("SupportShareSet", "LifetimeSet")
# Who holds power outside the vote: the timelock's roles, and who owns the membership registry.
POWER_EVENTS = ("RoleGranted", "RoleRevoked", "OwnershipTransferred")

# Events that are governance decisions or facts an observer needs, by the role of the contract that emits
# them; the rest (approvals, vote-power bookkeeping) are derivable or irrelevant.
GOVERNANCE_EVENTS = {
    "membership": {*MEMBER_EVENTS, "OwnershipTransferred"},
    "governor": {"ProposalCreated", *VOTE_EVENTS, *LIFECYCLE_EVENTS, *STEWARD_EVENTS, *GOVERNOR_SETTING_EVENTS, "TimelockChange"},
    "contributions": set(TREASURY_EVENTS),
    "initiatives": {*INITIATIVE_EVENTS, *INITIATIVE_SETTING_EVENTS},
    "timelock": {*TIMELOCK_EVENTS, "MinDelayChange", "RoleGranted", "RoleRevoked"},
}
