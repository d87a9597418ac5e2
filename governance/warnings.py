"""Warnings before proposing: actions that cannot work or would change nothing, said in sentences; and the few
refusals that need the chain (a token to track that is no token; a token named by a symbol).

Warnings do not refuse anything (the treasury may be funded, or a member may leave, before execution); a steward
reads them in a dry run and decides. Checked against the chain now: the treasury's balance, membership,
stewards, handles, settings, the tracked tokens, and the actions of proposals still open.
"""

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from governance import actions as act
from governance.actions import Action
from governance.client import Commons
from governance.compiler import load_artifacts
from governance.errors import InvalidInput
from governance.readings import duration_words, token_named
from governance.treasury import (
    KnownTokens,
    ReadCall,
    asset_or_placeholder,
    read_asset,
    token_payment_warnings,
    tracked_addresses,
    web3_reader,
)

OPEN_STATES = ("pending", "active", "succeeded", "queued")
TRACK, UNTRACK = "trackToken(address)", "untrackToken(address)"

# The initiatives' setters → (the getter of the value now, what the setting is, how to say a value).
INITIATIVE_SETTERS = {
    "setSupportShare(uint256)": ("supportShareBps()", "support an initiative needs", lambda v: f"{act.format_bps(v)} of members"),
    "setLifetime(uint256)": ("lifetime()", "time an initiative stays open", duration_words),
}

# Setting setters by selector → (setting name as CurrentSettings names it, how to say a value).
SETTING_SETTERS = {
    "setVotingDelay(uint48)": ("voting_delay", "voting delay", duration_words),
    "setVotingPeriod(uint32)": ("voting_period", "voting period", duration_words),
    "updateQuorumNumerator(uint256)": ("quorum_percent", "quorum", lambda v: f"{v}% of members"),
    "setLateQuorumVoteExtension(uint48)": ("late_quorum_extension", "late quorum extension", duration_words),
    "updateDelay(uint256)": ("timelock_delay", "timelock delay", duration_words),
}


def _call(action: Action, signature: str) -> tuple | None:
    """The decoded arguments if `action` calls `signature`, else None."""
    if action.calldata[:4] != function_signature_to_4byte_selector(signature):
        return None
    types = signature[signature.index("(") + 1 : -1].split(",")
    types = [t for t in types if t]
    try:
        values = decode(types, action.calldata[4:])
    except Exception:  # malformed calldata: the words already say it is unknown
        return None
    return tuple(to_checksum_address(v) if t == "address" else v for t, v in zip(types, values))


def proposal_warnings(commons: Commons, proposal_actions: list[Action]) -> list[str]:
    """Sentences about actions that would fail or do nothing if the proposal ran now; empty if none."""
    warnings: list[str] = []
    warnings += _payments(commons, proposal_actions)
    warnings += token_payment_warnings(web3_reader(commons.w3), commons.manifest.timelock, proposal_actions)
    role_of = commons.addresses.role_of
    m, g = commons.membership.functions, commons.governor.functions
    handles = commons.handles()
    settings = None
    for action in proposal_actions:
        role = role_of(action.target)
        who = _namer(handles)
        if role == "membership":
            if (args := _call(action, "admit(address,string)")) is not None:
                account, handle = args
                if m.isMember(account).call():
                    warnings.append(f"{who(account)} is already a member: admitting them again will fail")
                elif act.HANDLE.fullmatch(handle):
                    holder = m.holderOfHandle(handle).call()
                    if int(holder, 16):
                        warnings.append(
                            f"the handle “{handle}” is taken by {who(holder)}: the admission will fail unless they leave first"
                        )
            elif (args := _call(action, "remove(address)")) is not None and not m.isMember(args[0]).call():
                warnings.append(f"{who(args[0])} is not a member: removing them will fail")
        elif role == "governor":
            if (args := _call(action, "recallSteward(address)")) is not None and not g.isSteward(args[0]).call():
                warnings.append(f"{who(args[0])} is not a steward: recalling them will fail")
            elif (args := _call(action, "appointSteward(address)")) is not None:
                if g.isSteward(args[0]).call():
                    warnings.append(f"{who(args[0])} is already a steward: appointing them again will fail")
                elif not m.isMember(args[0]).call():
                    warnings.append(f"{who(args[0])} is not a member: as a steward they could propose but not vote")
        if role in ("governor", "timelock"):
            for signature, (field, name, say) in SETTING_SETTERS.items():
                if (args := _call(action, signature)) is not None:
                    settings = settings or commons.current_settings()
                    if getattr(settings, field) == args[0]:
                        warnings.append(f"the {name} is already {say(args[0])}: this changes nothing")
    warnings += _tracking(commons, proposal_actions)
    warnings += _initiative_settings(commons, proposal_actions)
    warnings += _same_as_open(commons, proposal_actions)
    return warnings


def _targets(action: Action, address: str) -> bool:
    return bool(address) and action.target.lower() == address.lower()


def _tracking(commons: Commons, proposal_actions: list[Action]) -> list[str]:
    """'… is already tracked: tracking it again will fail', and the like for untracking a token not tracked."""
    contributions = commons.manifest.contributions
    read = web3_reader(commons.w3)
    tracked: set[str] | None = None
    found = []
    for action in proposal_actions:
        if not _targets(action, contributions):
            continue
        for signature, warned_if_tracked, says in (
            (TRACK, True, "is already tracked: tracking it again will fail"),
            (UNTRACK, False, "is not tracked: untracking it will fail"),
        ):
            if (args := _call(action, signature)) is not None:
                tracked = tracked if tracked is not None else {a.lower() for a in tracked_addresses(read, contributions)}
                if (args[0].lower() in tracked) == warned_if_tracked:
                    found.append(f"{_token_words(read, args[0])} {says}")
    return found


def _token_words(read: ReadCall, token: str) -> str:
    """'Garden Dollar (gUSD, 6 decimals) at 0x…' as the token names itself; its address alone if it is no token."""
    try:
        asset = read_asset(read, token)
    except InvalidInput:
        return token
    return token_named(KnownTokens.of([asset], []), token)


def _initiative_settings(commons: Commons, proposal_actions: list[Action]) -> list[str]:
    """'the support an initiative needs is already 10% of members: this changes nothing', and so for the lifetime."""
    found = []
    read = web3_reader(commons.w3)
    for action in proposal_actions:
        if not _targets(action, commons.manifest.initiatives):
            continue
        for signature, (getter, name, say) in INITIATIVE_SETTERS.items():
            if (args := _call(action, signature)) is not None:
                now = decode(["uint256"], read(action.target, function_signature_to_4byte_selector(getter)))[0]
                if now == args[0]:
                    found.append(f"the {name} is already {say(now)}: this changes nothing")
    return found


def check_proposable(commons: Commons, proposal_actions: list[Action]) -> None:
    """Raises InvalidInput, in words, for an action that can never do what it says: tracking an address that is not a
    contract, or a contract that is no ERC-20 token (it would be listed among the treasury's assets as nothing)."""
    for action in proposal_actions:
        if not _targets(action, commons.manifest.contributions) or (args := _call(action, TRACK)) is None:
            continue
        token = args[0]
        if not commons.w3.eth.get_code(token):
            raise InvalidInput(
                f"{token} is not a contract (there is no code at that address): only an ERC-20 token can be tracked."
            )
        try:
            read_asset(web3_reader(commons.w3), token)
        except InvalidInput as exc:
            raise InvalidInput(f"{exc} Only an ERC-20 token can be tracked.") from None


def token_for_tracking(commons: Commons, reference: str, track: bool) -> str:
    """The address of the token `reference` names for tracking (`track`) or untracking: an address as given, or a
    symbol (any case) of a token the commons tracks now or, to track it again, has tracked before.

    Raises InvalidInput in words when the commons has no Contributions contract, or no token or several have that
    symbol."""
    reference = reference.strip()
    if reference.startswith("0x"):
        return act.checked_address(reference, "token")
    contributions = commons.manifest.contributions
    if not contributions:
        raise InvalidInput(
            "This commons has no Contributions contract (it was deployed before one existed), so it tracks no tokens."
        )
    read = web3_reader(commons.w3)
    now = tracked_addresses(read, contributions)
    candidates = list(dict.fromkeys(now + (_ever_tracked(commons) if track else [])))
    assets = [asset_or_placeholder(read, address) for address in candidates]
    matches = [a.address for a in assets if a.symbol.lower() == reference.lower()]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InvalidInput(
            f"Several tokens call themselves {reference}: {', '.join(matches)}. Give the address of the one you mean."
        )
    known = ", ".join(f"{a.symbol} ({a.address})" for a in assets) or "none"
    if track:
        raise InvalidInput(
            f"{reference} is not a token this commons has tracked (it has tracked: {known}). "
            "To track a new token, give its address (0x…)."
        )
    raise InvalidInput(f"{reference} is not a token this commons tracks (it tracks: {known}).")


def _ever_tracked(commons: Commons) -> list[str]:
    """Every token the Contributions contract has tracked since deployment, in the order they were first tracked."""
    contract = commons.w3.eth.contract(
        address=to_checksum_address(commons.manifest.contributions), abi=load_artifacts()["Contributions"].abi
    )
    logs = contract.events.TokenTracked().get_logs(from_block=commons.manifest.deployment_block)
    return list(dict.fromkeys(to_checksum_address(log["args"]["token"]) for log in logs))


def _namer(handles: dict[str, str]):
    lowered = {k.lower(): v for k, v in handles.items()}

    def who(address: str) -> str:
        handle = lowered.get(address.lower())
        return f"@{handle} ({address})" if handle else address

    return who


def _payments(commons: Commons, proposal_actions: list[Action]) -> list[str]:
    paid = sum(a.value for a in proposal_actions)
    held = commons.w3.eth.get_balance(commons.manifest.timelock)
    if paid > held:
        return [
            f"the treasury holds {act.format_eth(held)} but this proposal pays {act.format_eth(paid)}: "
            "it will fail at execution unless the treasury is funded first"
        ]
    return []


def _same_as_open(commons: Commons, proposal_actions: list[Action]) -> list[str]:
    """'identical to #6' for each action that an open proposal already has."""
    wanted = {(a.target.lower(), a.value, a.calldata): a for a in proposal_actions}
    found: list[str] = []
    g = commons.governor.functions
    for number, proposal_id in enumerate(commons.proposal_ids(), start=1):
        state = commons.state(proposal_id)
        if state not in OPEN_STATES:
            continue
        targets, values, calldatas, _ = g.proposalDetails(proposal_id).call()
        for key in zip((t.lower() for t in targets), values, (bytes(c) for c in calldatas)):
            if key in wanted:
                words = act.describe(wanted[key], commons.addresses, commons.handles())
                found.append(f"“{words}” is identical to an action of #{number}, which is still {state}")
    return found
