"""Proposal actions: encode what a steward asks for, and decode any (target, value, calldata) into words."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from eth_abi import encode
from eth_abi.exceptions import EncodingError
from eth_utils import function_signature_to_4byte_selector, is_address, to_checksum_address

from governance.errors import InvalidInput
from governance.vocabulary import Addresses

if TYPE_CHECKING:
    from governance.readings import Reading
    from governance.treasury import KnownTokens

WEI_PER_ETH = Decimal(10**18)

# Settings a proposal may change: name → (contract role, setter signature, the unit a steward writes it in).
SETTINGS = {
    "voting-delay": ("governor", "setVotingDelay(uint48)", "seconds"),
    "voting-period": ("governor", "setVotingPeriod(uint32)", "seconds"),
    "quorum": ("governor", "updateQuorumNumerator(uint256)", "percent"),
    "late-quorum-extension": ("governor", "setLateQuorumVoteExtension(uint48)", "seconds"),
    "timelock-delay": ("timelock", "updateDelay(uint256)", "seconds"),
    # The share of members whose support puts an initiative to a vote, and how long one stays open (Initiatives).
    "support-share": ("initiatives", "setSupportShare(uint256)", "percent"),
    "initiative-lifetime": ("initiatives", "setLifetime(uint256)", "seconds"),
}
# Settings written in percent, by how many of their setter's units make one percent (the support share is in basis
# points, so 12.5 % is 1250).
PER_PERCENT = {"quorum": 1, "support-share": 100}
# What the contracts accept, in the setter's units, where that is narrower than the argument's type.
SETTING_RANGES = {"quorum": (0, 100), "support-share": (1, 10_000), "initiative-lifetime": (1, 2**48 - 1)}


@dataclass(frozen=True)
class Action:
    """One call a proposal makes when executed."""

    target: str
    value: int
    calldata: bytes


DURATION = re.compile(r"^(\d+)\s*([smhd]?)$")


def parse_duration(text: str) -> int:
    """Seconds from '90', '45s', '30m', '2h' or '3d'."""
    match = DURATION.match(str(text).strip().lower())
    if not match:
        raise InvalidInput(f"{text!r} is not a duration such as 90s, 30m, 2h or 3d.")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


PERCENT = re.compile(r"^(\d+(?:\.\d+)?)\s*%?$")


def setting_value(name: str, text: str) -> int:
    """A setting's new value in its setter's unit, from what a steward writes: the quorum in whole percent ('30' or
    '30%'), the support share in percent to two decimals ('20%', '12.5'; in basis points on the chain), the others
    as durations. Raises InvalidInput for anything else."""
    if name not in PER_PERCENT:
        return parse_duration(text)
    match = PERCENT.match(str(text).strip())
    if not match:
        raise InvalidInput(f"{text!r} is not a percentage such as 20 or 12.5%.")
    value = Decimal(match.group(1)) * PER_PERCENT[name]
    if value != value.to_integral_value():
        places = "a whole percent" if PER_PERCENT[name] == 1 else "a percent with at most two decimals"
        raise InvalidInput(f"The {name.replace('-', ' ')} is {places}, not {text}.")
    return int(value)


def format_bps(bps: int) -> str:
    """Basis points as a percentage, exact: 2000 → '20%', 1250 → '12.5%', 1 → '0.01%'."""
    return f"{(Decimal(bps) / 100).normalize():f}%"


def _in_unit(name: str, value: int) -> str:
    """A setting's value in the unit a steward writes it in (the support share in percent, not basis points)."""
    return f"{(Decimal(value) / PER_PERCENT[name]).normalize():f}" if name in PER_PERCENT else str(value)


def checked_address(text: str, what: str = "address") -> str:
    """A checksummed address, or InvalidInput saying which input was malformed."""
    if not isinstance(text, str) or not is_address(text):
        raise InvalidInput(f"{what} {text!r} is not an Ethereum address (0x followed by 40 hex digits).")
    return to_checksum_address(text)


def text_bytes(text: str, what: str = "text") -> bytes:
    """`text` in UTF-8; InvalidInput for one that is not Unicode (a lone surrogate, as JSON's "\\ud800" reads)."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        raise InvalidInput(f"The {what} holds a character that is not Unicode (a lone surrogate): remove it.") from None


def parse_eth(text: str) -> int:
    """Wei from an amount in ETH such as '1.5'; InvalidInput if it is not a positive amount."""
    try:
        amount = Decimal(text)
    except ArithmeticError as exc:
        raise InvalidInput(f"{text!r} is not an amount of ETH.") from exc
    if not amount.is_finite():
        raise InvalidInput(f"{text!r} is not an amount of ETH.")
    wei = amount * WEI_PER_ETH
    if amount <= 0 or wei != wei.to_integral_value():
        raise InvalidInput(f"{text!r} is not a positive amount of ETH (at most 18 decimals).")
    return int(wei)


def parse_call_value(text: str) -> int:
    """Wei sent with a contract call: '0' for none, else a positive amount in ETH as `parse_eth` reads it."""
    return 0 if str(text) == "0" else parse_eth(str(text))


def format_eth(wei: int) -> str:
    return f"{(Decimal(wei) / WEI_PER_ETH).normalize():f} ETH"


def _call(signature: str, types: list[str], args: list) -> bytes:
    return function_signature_to_4byte_selector(signature) + encode(types, args)


HANDLE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def check_handle(handle: str) -> str:
    """`handle` if Membership would accept it (1 to 64 ASCII letters, digits, '-', '_', '.'); InvalidInput otherwise."""
    if not isinstance(handle, str) or not HANDLE.fullmatch(handle):
        raise InvalidInput(
            f"{handle!r} is not a handle: use 1 to 64 letters (a-z, A-Z), digits, '-', '_' or '.', without spaces."
        )
    return handle


def admit(addresses: Addresses, account: str, handle: str) -> Action:
    check_handle(handle)
    return Action(
        addresses.membership, 0, _call("admit(address,string)", ["address", "string"], [checked_address(account), handle])
    )


def remove(addresses: Addresses, account: str) -> Action:
    return Action(addresses.membership, 0, _call("remove(address)", ["address"], [checked_address(account)]))


def appoint_steward(addresses: Addresses, account: str) -> Action:
    return Action(addresses.governor, 0, _call("appointSteward(address)", ["address"], [checked_address(account)]))


def recall_steward(addresses: Addresses, account: str) -> Action:
    return Action(addresses.governor, 0, _call("recallSteward(address)", ["address"], [checked_address(account)]))


def pay(recipient: str, wei: int) -> Action:
    if wei <= 0:
        raise InvalidInput("A payment must be more than 0 wei.")
    return Action(checked_address(recipient, "recipient"), wei, b"")


def change_setting(addresses: Addresses, name: str, value: int) -> Action:
    """The action setting `name` to `value`, in its setter's unit (seconds; the quorum in percent; the support share
    in basis points). Raises InvalidInput for an unknown setting, a value its contract refuses, or a setting of a
    contract this commons does not have."""
    if name not in SETTINGS:
        raise InvalidInput(f"Unknown setting {name!r}; choose one of {', '.join(SETTINGS)}.")
    role, signature, unit = SETTINGS[name]
    arg_type = signature[signature.index("(") + 1 : -1]
    lowest, largest = SETTING_RANGES.get(name, (0, 2 ** int(arg_type.removeprefix("uint")) - 1))
    if value < 0:
        raise InvalidInput(f"{name} cannot be negative.")
    if not lowest <= value <= largest:
        raise InvalidInput(
            f"The {name.replace('-', ' ')} must be from {_in_unit(name, lowest)} to {_in_unit(name, largest)} {unit}, "
            f"not {_in_unit(name, value)}."
        )
    target = getattr(addresses, role)
    if not target:
        raise InvalidInput(f"This commons has no {role} contract (it was deployed before one existed), so no {name} setting.")
    return Action(target, 0, _call(signature, [arg_type], [value]))


def _contributions(addresses: Addresses) -> str:
    if not addresses.contributions:
        raise InvalidInput(
            "This commons has no Contributions contract (it was deployed before one existed), so it tracks no tokens."
        )
    return addresses.contributions


def track_token(addresses: Addresses, token: str) -> Action:
    """The action by which the treasury starts tracking `token` (Contributions.trackToken, a passed vote only)."""
    return Action(_contributions(addresses), 0, _call("trackToken(address)", ["address"], [checked_address(token, "token")]))


def untrack_token(addresses: Addresses, token: str) -> Action:
    """The action by which the treasury stops tracking `token` (Contributions.untrackToken); what it holds stays."""
    return Action(_contributions(addresses), 0, _call("untrackToken(address)", ["address"], [checked_address(token, "token")]))


def _typed(abi_type: str, value: object) -> object:
    """A JSON argument as eth-abi wants it: '0x…' hex for bytes and bytesN (exactly N bytes), a whole number for
    (u)intN also as its decimal digits in a string (a browser's JSON rounds numbers beyond 2^53), lists element by
    element."""
    if abi_type.endswith("]") and isinstance(value, list):
        return [_typed(abi_type[: abi_type.rindex("[")], v) for v in value]
    if abi_type.startswith(("uint", "int")) and isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value)
    if abi_type.startswith("bytes") and isinstance(value, str):
        if not re.fullmatch(r"0x([0-9a-fA-F]{2})*", value):
            raise ValueError(f"{value!r} is not 0x-prefixed hex for {abi_type}")
        raw = bytes.fromhex(value[2:])
        if abi_type != "bytes" and len(raw) != int(abi_type[5:]):
            raise ValueError(f"{abi_type} takes exactly {abi_type[5:]} bytes, and {value} has {len(raw)}")
        return raw
    return value


def contract_call(target: str, signature: str, args: list, value: int = 0) -> Action:
    """Any call: `signature` like 'transfer(address,uint256)', `args` already typed (JSON)."""
    signature = signature.replace(" ", "")
    if "(" not in signature or not signature.endswith(")"):
        raise InvalidInput(f"{signature!r} is not a function signature such as 'transfer(address,uint256)'.")
    types = [t for t in signature[signature.index("(") + 1 : -1].split(",") if t]
    if len(types) != len(args):
        raise InvalidInput(f"{signature} takes {len(types)} arguments but {len(args)} were given.")
    try:
        typed = [_typed(t, a) for t, a in zip(types, args)]
        return Action(checked_address(target, "target"), value, _call(signature, types, typed))
    except (TypeError, ValueError, OverflowError, EncodingError) as exc:
        raise InvalidInput(f"The arguments do not fit {signature}: {exc}") from exc


def read(
    action: Action, addresses: Addresses, handles: Mapping[str, str] | None = None, tokens: "KnownTokens | None" = None
) -> "Reading":
    """The action in words, whether it was decoded, and a warning if it changes who holds power (governance.readings).

    `handles`: members' handles by address, so members are named as '@ana (0x…)'; `tokens`: tokens by symbol and
    decimals (governance.treasury.known_tokens), so a token payment reads 'Pay 120.5 gUSD …', not in base units.
    """
    from governance.readings import Context, read_action  # readings builds on this module
    from governance.treasury import KnownTokens

    context = Context(addresses, {k.lower(): v for k, v in (handles or {}).items()}, tokens or KnownTokens())
    return read_action(action, context)


def describe(action: Action, addresses: Addresses, handles: Mapping[str, str] | None = None) -> str:
    """The action in words, e.g. 'Pay 2 ETH from the treasury to 0xAbc…'."""
    return read(action, addresses, handles).words


# OpenZeppelin's Governor 5.x accepts a proposal whose description ends with this only from that address, so a
# propose transaction copied from the mempool by anyone else reverts instead of taking the proposal's id.
PROPOSER_SUFFIX = re.compile(r"(?:\n\n)?#proposer=0x[0-9a-fA-F]{40}\Z")


def bound_to_proposer(description: str, proposer: str) -> str:
    """`description` ending with `#proposer=<proposer>` (after a blank line); a suffix already there is replaced."""
    return f"{shown_text(description)}\n\n#proposer={checked_address(proposer, 'proposer')}"


def shown_text(description: str) -> str:
    """The proposal text people read: the description without its `#proposer=0x…` suffix."""
    return PROPOSER_SUFFIX.sub("", description)


def proposal_title(description: str) -> str:
    """The proposal's title: its first line without the leading '# '."""
    description = shown_text(description)
    first = description.strip().splitlines()[0] if description.strip() else ""
    return first.lstrip("#").strip() or "(untitled)"
