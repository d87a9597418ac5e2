"""Revert data → a sentence a steward or member can act on.

Custom-error selectors come from the compiled artifacts' ABIs, so every error our contracts and
OpenZeppelin's can raise is decoded into its name and arguments, then into words.
"""

from datetime import UTC, datetime

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from governance.compiler import load_artifacts
from governance.vocabulary import PROPOSAL_STATES, STATE_IN_WORDS

SENTENCES = {
    "CommonsOnlyStewards": "only stewards can propose, and {0} is not a steward",
    "CommonsAlreadySteward": "{0} is already a steward",
    "CommonsNotSteward": "{0} is not a steward",
    "CommonsNoVotingPower": "{0} had no vote at this proposal's snapshot ({1}): not yet a member then, or their vote was delegated",
    "MembershipAlreadyMember": "{0} is already a member; an address holds at most one membership",
    "MembershipNotMember": "{0} is not a member",
    "MembershipNotTransferable": "memberships cannot be transferred (token {0})",
    "MembershipDelegateNotMember": "a vote can only be delegated to a member, and {0} is not one",
    "MembershipInvalidHandle": "a handle is 1 to 64 letters, digits, '-', '_' or '.', which {0!r} is not",
    "MembershipHandleTaken": "the handle {0!r} is taken: {1} goes by it (handles are compared ignoring case)",
    "MembershipTooManyDelegators": "{0} already holds the votes of {1} members, the most one member may hold",
    "MembershipFoundersMismatch": "{0} founding members were given but {1} handles",
    "OwnableUnauthorizedAccount": "only the commons itself, by a passed proposal, can do this; {0} cannot",
    "GovernorOnlyExecutor": "only the commons itself, by a passed proposal, can do this; {0} cannot",
    "AccessControlUnauthorizedAccount": "{0} lacks the timelock role this needs",
    "GovernorAlreadyCastVote": "{0} already voted on this proposal",
    "GovernorInvalidSignature": "the ballot signature does not match voter {0} for this proposal, commons and chain, or it was already used",
    "GovernorNonexistentProposal": "there is no proposal {0}",
    "GovernorInvalidVoteType": "a vote must be For, Against or Abstain",
    "GovernorUnableToCancel": "{1} cannot cancel proposal {0}: only its proposer can, and only before voting starts",
    "GovernorInvalidProposalLength": "a proposal needs at least one action, with as many values and calldatas as targets",
    "GovernorRestrictedProposer": "{0} may not submit a proposal with this description",
    "GovernorInsufficientProposerVotes": "{0} has {1} votes but proposing needs {2}",
    "GovernorInvalidQuorumFraction": "a quorum of {0}/{1} is not possible",
    "GovernorInvalidVotingPeriod": "a voting period of {0} seconds is not allowed",
    "GovernorPreventLateQuorumVoteExtensionTooLarge": "a late-quorum extension of {0} seconds is too large (at most {1})",
    "GovernorDisabledDeposit": "the governor does not accept deposits; send funds to the treasury (timelock)",
    "TimelockUnexpectedOperationState": "the timelock operation is not ready: its delay has not passed, or it was already done",
    "TimelockUnexecutedPredecessor": "an earlier timelock operation must run first",
    "TimelockInsufficientDelay": "a timelock delay of {0} seconds is below the minimum of {1}",
    "TimelockUnauthorizedCaller": "only the timelock itself can do this; {0} cannot",
    "ERC5805FutureLookup": "votes at {0} are not known yet (now is {1})",
    "ERC721NonexistentToken": "membership token {0} does not exist",
    "ERC721InvalidReceiver": "{0} cannot receive a membership",
    "VotesExpiredSignature": "the delegation signature expired on {0}",
    "InvalidAccountNonce": "{0} used nonce {1}, which is not their next one",
    "FailedCall": "a call in the proposal failed",
    "InsufficientBalance": "the treasury holds {0} wei but the proposal pays {1}",
    "ContributionsOnlyTreasury": "only the commons itself, by a passed proposal, changes the tracked tokens; {0} cannot",
    "ContributionsZeroAmount": "a contribution must be more than nothing",
    "ContributionsUntrackedToken": "{0} is not a token this commons tracks; tracking it takes a vote",
    "ContributionsTrackedAlready": "the token {0} is already as asked (tracked: {1})",
    "ContributionsNoteTooLong": "a contribution's note is at most {1} bytes, and this one is {0}",
    "ContributionsForwardFailed": "the treasury did not accept the ETH",
    "SafeERC20FailedOperation": "the token {0} refused the transfer (not enough balance or allowance)",
    "ERC20InsufficientBalance": "{0} holds {1} of the token's smallest units but {2} were to move",
    "ERC20InsufficientAllowance": "the Contributions contract {0} may move {1} of the token's smallest units but {2} were to move",
    "InitiativesNotMember": "only members draft, revise or support initiatives, and {0} is not a member now",
    "InitiativesUnknown": "there is no initiative {0}",
    "InitiativesNotAuthor": "only the author {2} may change initiative {0}; {1} is not its author",
    "InitiativesNotOpen": "initiative {0} is no longer open (it was withdrawn)",
    "InitiativesAlreadySubmitted": "initiative {0} was already put to a vote (proposal {1}); a signature never serves a second proposal",
    "InitiativesExpired": "initiative {0} expired on {1} without enough support; its author may draft it again",
    "InitiativesInvalidActions": "an initiative needs at least one action, with as many values and calldatas as targets ({0}, {1}, {2} given)",
    "InitiativesProposalDiffers": "these actions or this text are not those of initiative {0} as its revision {1} says",
    "InitiativesAuthorSigned": "{1} is the author of initiative {0}, whose support is counted already",
    "InitiativesSupporterRepeated": "{0} is counted twice; each member supports an initiative once",
    "InitiativesSupportersUnordered": "supporters are listed in ascending address order, and {0} is out of order",
    "InitiativesSignatureExpired": "the signature of support by {0} expired on {1}; they may sign again",
    "InitiativesDeadlinePassed": "the signature by {0} was usable until {1}, which has passed; sign it again",
    "InitiativesNonceUsed": "this signature by {0} was already used (nonce {1}): a signed draft, revision or withdrawal is used once",
    "InitiativesInvalidAuthorSignature": "the signature is not {0}'s for this draft, revision or withdrawal, in this commons and on this chain",
    "InitiativesSupportWithdrawn": "{1} withdrew the support this signature gave to initiative {0}",
    "InitiativesInvalidSignature": "the signature is not {2}'s support for revision {1} of initiative {0} with these actions and text, in this commons and on this chain",
    "InitiativesSupportShort": "initiative {0} has {1} supporters (the author included) but needs {2}",
    "InitiativesOnlyTimelock": "only the commons itself, by a passed proposal, changes the initiative settings; {0} cannot",
    "InitiativesInvalidSetting": "{0} is not a possible setting: a support share is 1 to 10000 basis points, a lifetime more than 0 seconds",
}


# Arguments that are moments (seconds since 1970), said as dates: error name → argument positions.
MOMENTS = {
    "InitiativesExpired": (1,),
    "InitiativesSignatureExpired": (1,),
    "InitiativesDeadlinePassed": (1,),
    "VotesExpiredSignature": (0,),
}


def moment(timestamp: int) -> str:
    """A chain timestamp in words: 'Monday 7 December 2026 at 03:00 UTC' (bare numbers say nothing to a member)."""
    try:
        at = datetime.fromtimestamp(int(timestamp), UTC)
    except (OverflowError, ValueError, OSError):
        return f"a time beyond any calendar ({timestamp})"
    return f"{at:%A} {at.day} {at:%B %Y} at {at:%H:%M} UTC"


def _error_abis() -> dict[bytes, dict]:
    selectors: dict[bytes, dict] = {}
    for artifact in load_artifacts().values():
        for entry in artifact.abi:
            if entry["type"] == "error":
                types = ",".join(i["type"] for i in entry["inputs"])
                selectors[function_signature_to_4byte_selector(f"{entry['name']}({types})")] = entry
    return selectors


_SELECTORS: dict[bytes, dict] | None = None


def decode_revert(data: bytes) -> tuple[str, tuple]:
    """(error name, arguments) of revert data; ("Unknown", (hex,)) if no ABI knows it."""
    global _SELECTORS
    if _SELECTORS is None:
        _SELECTORS = _error_abis()
    if data[:4] == bytes.fromhex("08c379a0"):
        return "Error", decode(["string"], data[4:])
    if data[:4] == bytes.fromhex("4e487b71"):
        return "Panic", decode(["uint256"], data[4:])
    entry = _SELECTORS.get(data[:4])
    if entry is None:
        return "Unknown", ("0x" + data.hex(),)
    types = [i["type"] for i in entry["inputs"]]
    values = decode(types, data[4:]) if types else ()
    return entry["name"], tuple(_readable(t, v) for t, v in zip(types, values))


def _readable(abi_type: str, value: object) -> object:
    if abi_type == "address":
        return to_checksum_address(str(value))
    if abi_type == "bytes32" and isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def sentence(name: str, args: tuple) -> str:
    """The revert in words, e.g. 'only stewards can propose, and 0xAb… is not a steward'."""
    if name == "GovernorUnexpectedProposalState":
        proposal_id, current, expected_bitmap = args
        expected = [s for i, s in enumerate(PROPOSAL_STATES) if int(expected_bitmap, 16) >> i & 1]
        if not expected:
            return f"proposal {proposal_id} already exists (it {STATE_IN_WORDS[PROPOSAL_STATES[current]]})"
        return (
            f"proposal {proposal_id} {STATE_IN_WORDS[PROPOSAL_STATES[current]]}, but this needs it to be {' or '.join(expected)}"
        )
    if name == "Error":
        return f"the contract refused: {args[0]}"
    if name == "Panic":
        return f"the contract failed with panic code {args[0]:#x}"
    if name == "Unknown":
        return f"the chain refused with an error no compiled contract knows ({args[0][:10]}…)"
    template = SENTENCES.get(name)
    args = tuple(moment(a) if i in MOMENTS.get(name, ()) else a for i, a in enumerate(args))
    return template.format(*args) if template else f"the chain refused: {name}{args}"
