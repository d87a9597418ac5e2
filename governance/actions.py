"""Proposal actions: encode what a steward asks for, and decode any (target, value, calldata) into words."""

import re
from dataclasses import dataclass
from decimal import Decimal

from eth_abi import decode, encode
from eth_abi.exceptions import EncodingError
from eth_utils import function_signature_to_4byte_selector, is_address, to_checksum_address

from governance.errors import InvalidInput

WEI_PER_ETH = Decimal(10**18)

# Settings a proposal may change: name → (contract role, setter signature, unit).
SETTINGS = {
    "voting-delay": ("governor", "setVotingDelay(uint48)", "seconds"),
    "voting-period": ("governor", "setVotingPeriod(uint32)", "seconds"),
    "quorum": ("governor", "updateQuorumNumerator(uint256)", "percent"),
    "late-quorum-extension": ("governor", "setLateQuorumVoteExtension(uint48)", "seconds"),
    "timelock-delay": ("timelock", "updateDelay(uint256)", "seconds"),
}

KNOWN_CALLS = {
    ("membership", "admit(address,string)"): "Admit {0} as a member with the handle “{1}”",
    ("membership", "remove(address)"): "Remove {0} from the membership",
    ("governor", "appointSteward(address)"): "Appoint {0} as a steward",
    ("governor", "recallSteward(address)"): "Recall {0} as a steward",
    **{(role, sig): f"Set the {name.replace('-', ' ')} to {{0}} {unit}" for name, (role, sig, unit) in SETTINGS.items()},
}


@dataclass(frozen=True)
class Action:
    """One call a proposal makes when executed."""

    target: str
    value: int
    calldata: bytes


@dataclass(frozen=True)
class Addresses:
    """The commons' contracts, to recognise calls to them."""

    membership: str
    governor: str
    timelock: str

    def role_of(self, address: str) -> str | None:
        for role in ("membership", "governor", "timelock"):
            if getattr(self, role).lower() == address.lower():
                return role
        return None


DURATION = re.compile(r"^(\d+)\s*([smhd]?)$")


def parse_duration(text: str) -> int:
    """Seconds from '90', '45s', '30m', '2h' or '3d'."""
    match = DURATION.match(str(text).strip().lower())
    if not match:
        raise InvalidInput(f"{text!r} is not a duration such as 90s, 30m, 2h or 3d.")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def setting_value(name: str, text: str) -> int:
    """A setting's new value as a steward writes it: the quorum in percent, the others as durations."""
    return int(text) if name == "quorum" and str(text).isdigit() else parse_duration(text)


def checked_address(text: str, what: str = "address") -> str:
    """A checksummed address, or InvalidInput saying which input was malformed."""
    if not isinstance(text, str) or not is_address(text):
        raise InvalidInput(f"{what} {text!r} is not an Ethereum address (0x followed by 40 hex digits).")
    return to_checksum_address(text)


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


def admit(addresses: Addresses, account: str, handle: str) -> Action:
    if not 0 < len(handle.encode()) <= 64:
        raise InvalidInput("A handle must be 1 to 64 bytes long.")
    return Action(addresses.membership, 0, _call("admit(address,string)", ["address", "string"], [checked_address(account), handle]))


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
    if name not in SETTINGS:
        raise InvalidInput(f"Unknown setting {name!r}; choose one of {', '.join(SETTINGS)}.")
    role, signature, unit = SETTINGS[name]
    arg_type = signature[signature.index("(") + 1 : -1]
    largest = 100 if unit == "percent" else 2 ** int(arg_type.removeprefix("uint")) - 1
    if value < 0:
        raise InvalidInput(f"{name} cannot be negative.")
    if value > largest:
        raise InvalidInput(f"The {name.replace('-', ' ')} must be from 0 to {largest} {unit}, not {value}.")
    return Action(getattr(addresses, role), 0, _call(signature, [arg_type], [value]))


def contract_call(target: str, signature: str, args: list, value: int = 0) -> Action:
    """Any call: `signature` like 'transfer(address,uint256)', `args` already typed (JSON)."""
    signature = signature.replace(" ", "")
    if "(" not in signature or not signature.endswith(")"):
        raise InvalidInput(f"{signature!r} is not a function signature such as 'transfer(address,uint256)'.")
    types = [t for t in signature[signature.index("(") + 1 : -1].split(",") if t]
    if len(types) != len(args):
        raise InvalidInput(f"{signature} takes {len(types)} arguments but {len(args)} were given.")
    try:
        return Action(checked_address(target, "target"), value, _call(signature, types, args))
    except (TypeError, ValueError, OverflowError, EncodingError) as exc:
        raise InvalidInput(f"The arguments do not fit {signature}: {exc}") from exc


def describe(action: Action, addresses: Addresses) -> str:
    """The action in words, e.g. 'Pay 2 ETH from the treasury to 0xAbc…'."""
    if not action.calldata:
        return f"Pay {format_eth(action.value)} from the treasury to {action.target}"
    role = addresses.role_of(action.target)
    selector = action.calldata[:4]
    for (known_role, signature), template in KNOWN_CALLS.items():
        if known_role == role and function_signature_to_4byte_selector(signature) == selector:
            types = [t for t in signature[signature.index("(") + 1 : -1].split(",") if t]
            try:
                args = decode(types, action.calldata[4:])
            except Exception:  # malformed calldata is shown raw below, not hidden
                break
            words = template.format(*[to_checksum_address(a) if t == "address" else a for t, a in zip(types, args)])
            return words + (f", sending {format_eth(action.value)}" if action.value else "")
    value = f" with {format_eth(action.value)}" if action.value else ""
    return f"Call {action.target}{value} with data 0x{action.calldata.hex()[:8]}… ({len(action.calldata)} bytes)"


def proposal_title(description: str) -> str:
    """The proposal's title: its first line without the leading '# '."""
    first = description.strip().splitlines()[0] if description.strip() else ""
    return first.lstrip("#").strip() or "(untitled)"
