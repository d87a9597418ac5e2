"""Warnings before proposing: actions that cannot work or would change nothing, said in sentences.

They do not refuse anything (the treasury may be funded, or a member may leave, before execution); a steward
reads them in a dry run and decides. Checked against the chain now: the treasury's balance, membership,
stewards, handles, settings, and the actions of proposals still open.
"""

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from governance import actions as act
from governance.actions import Action
from governance.client import Commons
from governance.readings import duration_words
from governance.treasury import token_payment_warnings, web3_reader

OPEN_STATES = ("pending", "active", "succeeded", "queued")

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
    warnings += _same_as_open(commons, proposal_actions)
    return warnings


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
