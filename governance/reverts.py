"""Revert data → a sentence a steward or member can act on.

Custom-error selectors come from the compiled artifacts' ABIs, so every error our contracts and
OpenZeppelin's can raise is decoded into its name and arguments, then into words.
"""

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from governance.compiler import load_artifacts

PROPOSAL_STATES = ("pending", "active", "canceled", "defeated", "succeeded", "queued", "expired", "executed")

SENTENCES = {
    "CommonsOnlyStewards": "only stewards can propose, and {0} is not a steward",
    "CommonsAlreadySteward": "{0} is already a steward",
    "CommonsNotSteward": "{0} is not a steward",
    "CommonsNoVotingPower": "{0} had no vote at this proposal's snapshot ({1}): not yet a member then, or their vote was delegated",
    "MembershipAlreadyMember": "{0} is already a member; an address holds at most one membership",
    "MembershipNotMember": "{0} is not a member",
    "MembershipNotTransferable": "memberships cannot be transferred (token {0})",
    "MembershipDelegateNotMember": "a vote can only be delegated to a member, and {0} is not one",
    "MembershipInvalidHandle": "a handle must be 1 to 64 bytes long, not {0!r}",
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
    "VotesExpiredSignature": "the delegation signature expired at {0}",
    "InvalidAccountNonce": "{0} used nonce {1}, which is not their next one",
    "FailedCall": "a call in the proposal failed",
    "InsufficientBalance": "the treasury holds {0} wei but the proposal pays {1}",
}


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
        return to_checksum_address(value)
    if abi_type == "bytes32" and isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def sentence(name: str, args: tuple) -> str:
    """The revert in words, e.g. 'only stewards can propose, and 0xAb… is not a steward'."""
    if name == "GovernorUnexpectedProposalState":
        proposal_id, current, expected_bitmap = args
        expected = [s for i, s in enumerate(PROPOSAL_STATES) if int(expected_bitmap, 16) >> i & 1]
        wanted = " or ".join(expected) if expected else "new"
        return f"proposal {proposal_id} is {PROPOSAL_STATES[current]}, but this needs it to be {wanted}"
    if name == "Error":
        return f"the contract refused: {args[0]}"
    if name == "Panic":
        return f"the contract failed with panic code {args[0]:#x}"
    if name == "Unknown":
        return f"the chain refused with an error no compiled contract knows ({args[0][:10]}…)"
    template = SENTENCES.get(name)
    return template.format(*args) if template else f"the chain refused: {name}{args}"
