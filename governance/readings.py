"""Any proposal action read into words a member can judge: what it does, whether it was understood, and
whether it changes who holds power.

Every function of the commons' own contracts (timelock, governor, membership registry, and the initiatives and
contributions contracts when the commons has them) and the standard token calls (ERC-20 transfer / approve /
transferFrom, ERC-721 transfers and approvals) is decoded, with its target named ("the treasury", "the governor",
"the membership registry", "the initiatives contract", "the contributions contract"), roles by name, members by
handle where known, amounts with units and durations in words. A token's amounts are in its own units and symbol
when the commons tracks it ("Pay 120.5 gUSD from the treasury to @juno (0x…)"); an untracked token is named by its
address beside the symbol it gives itself, and one whose symbol and decimals are unknown says its amount is in the
token's smallest units; a token to track or untrack is named as it names itself ("Garden Dollar (gUSD, 6 decimals)
at 0x…") where known. A call that cannot be decoded is shown as such, with its selector, and marked unknown: nobody
should approve what they cannot read.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from governance.actions import SETTING_RANGES, Action, format_bps, format_eth
from governance.calendar import one_line
from governance.treasury import KnownTokens, format_units
from governance.vocabulary import Addresses

ZERO = "0x0000000000000000000000000000000000000000"
MAX_SYMBOL = 16  # a token names itself: a symbol other than one plain word is quoted and cut to this
PLAIN_SYMBOL = re.compile(r"[A-Za-z0-9.$_+-]{1,16}")
MAX_NAME = 32  # a token's name likewise: plain words only, else quoted and cut to this
PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .'-]{0,31}")
MIN_COSIGNERS = 2  # Initiatives.MIN_COSIGNERS: an initiative needs the author and at least this many others
UNLIMITED = 2**256 - 1
MAX_DEPTH = 3  # schedule(relay(...)) and the like are read inside each other, this deep at most

CONTRACT_NAMES = {
    "timelock": "the treasury (timelock)",
    "governor": "the governor",
    "membership": "the membership registry",
    "initiatives": "the initiatives contract",
    "contributions": "the contributions contract",
}

# The timelock's roles by their bytes32 id, and the power each one gives.
ROLE_NAMES = {
    "0x" + "00" * 32: "admin",
    "0x" + keccak(text="PROPOSER_ROLE").hex(): "proposer",
    "0x" + keccak(text="CANCELLER_ROLE").hex(): "canceller",
    "0x" + keccak(text="EXECUTOR_ROLE").hex(): "executor",
}
ROLE_POWERS = {
    "admin": "grant and revoke every treasury role",
    "proposer": "schedule treasury calls without a vote",
    "canceller": "cancel passed proposals waiting in the timelock",
    "executor": "execute scheduled treasury calls",
}


@dataclass(frozen=True)
class Reading:
    """One action in words. `known`: decoded (not a raw call); `power`: a warning if it changes who holds power."""

    words: str
    known: bool
    power: str | None = None
    selector: str = ""


@dataclass(frozen=True)
class Context:
    """What names things: the commons' contracts, members' handles by address (any case), and tokens."""

    addresses: Addresses
    handles: Mapping[str, str]
    tokens: KnownTokens = field(default_factory=KnownTokens)

    def who(self, address: str) -> str:
        """An address as a member reads it: one of our contracts by name, 'anyone', or '@handle (0x…)'."""
        address = to_checksum_address(address)
        role = self.addresses.role_of(address)
        if role:
            return CONTRACT_NAMES[role]
        if address == ZERO:
            return "anyone (address 0)"
        handle = self.handles.get(address.lower())
        return f"@{handle} ({address})" if handle else address


def duration_words(seconds: int) -> str:
    """'2 days', '1 hour 30 minutes', '45 seconds'; every non-zero unit, so nothing is rounded away."""
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count:,} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts) or "0 seconds"


def role_name(role: bytes | str) -> str:
    key = role if isinstance(role, str) else "0x" + role.hex()
    return ROLE_NAMES.get(key.lower(), f"unknown role {key[:10]}…")


def _amount(c: Context, amount: int, token: str) -> str:
    """`amount` of the token at `token` as a member reads it: '120.5 gUSD' for a tracked token; the token's own
    symbol with its address and 'which this commons does not track' for another; smallest units if unknown."""
    asset = c.tokens.asset(token)
    if asset is None:
        if amount == UNLIMITED:
            return f"an unlimited amount of the token at {token}"
        return (
            f"{amount:,} smallest units of the token at {token} (its symbol and decimals are unknown here, "
            "so this is not a number of whole tokens)"
        )
    symbol = _symbol(asset.symbol)
    shown = f"an unlimited amount of {symbol}" if amount == UNLIMITED else f"{format_units(amount, asset.decimals)} {symbol}"
    if c.tokens.is_tracked(token):
        return shown
    lookalike = c.tokens.tracked_symbol(asset.symbol)
    unlike = f"; it is not the {lookalike.symbol} this commons knows" if lookalike is not None else ""
    return f"{shown} (the token at {token}, which this commons does not track{unlike})"


def _symbol(symbol: str) -> str:
    """A token's symbol as it gives it, quoted and cut short unless it is one plain word (a token names itself)."""
    if PLAIN_SYMBOL.fullmatch(symbol):
        return symbol
    return f"“{one_line(symbol, MAX_SYMBOL)}”"


def _name(name: str) -> str:
    """A token's name as it gives it, quoted and cut short unless it is a few plain words (a token names itself)."""
    if PLAIN_NAME.fullmatch(name) and "0x" not in name.lower():
        return name
    return f"“{one_line(name, MAX_NAME)}”"


def token_named(tokens: KnownTokens, token: str) -> str:
    """A token as a tracking action names it: 'Garden Dollar (gUSD, 6 decimals) at 0x…' when its name, symbol and
    decimals are known in `tokens`, else by its address alone."""
    asset = tokens.asset(token)
    if asset is None:
        return f"the token at {token} (its name, symbol and decimals are unknown here)"
    return f"{_name(asset.name)} ({_symbol(asset.symbol)}, {asset.decimals} decimals) at {token}"


def _lookalike(c: Context, token: str) -> str:
    """'; beware: …' when the token calls itself ETH or by the symbol of another token the commons tracks."""
    asset = c.tokens.asset(token)
    if asset is None:
        return ""
    wanted = asset.symbol.strip().lower()
    if wanted == "eth":
        return "; beware: it calls itself ETH but is not ether"
    for other in c.tokens.assets.values():
        if other.address.lower() != token.lower() and c.tokens.is_tracked(other.address) and other.symbol.lower() == wanted:
            return f"; beware: this commons already tracks another token called {_symbol(other.symbol)}, at {other.address}"
    return ""


def _refused(name: str, value: int) -> str:
    """' (…refuses this value…)' when the setting's contract would revert on `value`, so the reading says it."""
    lowest, highest = SETTING_RANGES[name]
    if lowest <= value <= highest:
        return ""
    return " (the initiatives contract refuses this value, so the proposal would fail when executed)"


def _is_fungible(c: Context, token: str) -> bool:
    """Whether the token at `token` is known to be an ERC-20 (then approve and transferFrom move amounts, not NFTs)."""
    return c.tokens.asset(token) is not None


# ---- readers: (context, args, depth) → Reading; keyed by (contract role or None for any target, signature) ----

Reader = Callable[[Context, tuple, int], Reading]


def _grant(c: Context, a: tuple, _: int) -> Reading:
    role, who = role_name(a[0]), c.who(a[1])
    power = ROLE_POWERS.get(role, "act with an unknown timelock role")
    if role == "executor" and to_checksum_address(a[1]) == ZERO:
        return Reading("Let anyone execute scheduled treasury calls (grant the executor role to address 0)", True, None)
    return Reading(f"Give {who} the {role} role on the treasury (timelock)", True, f"this gives {who} the power to {power}")


def _revoke(c: Context, a: tuple, _: int) -> Reading:
    role, who = role_name(a[0]), c.who(a[1])
    words = f"Take the {role} role on the treasury (timelock) from {who}"
    power = f"this takes from {who} the power to {ROLE_POWERS.get(role, 'use that role')}"
    if to_checksum_address(a[1]) == c.addresses.governor and role == "proposer":
        power += ": passed proposals could no longer be carried out"
    return Reading(words, True, power)


def _renounce(c: Context, a: tuple, _: int) -> Reading:
    role = role_name(a[0])
    return Reading(
        f"Have the treasury (timelock) give up the {role} role held by {c.who(a[1])}",
        True,
        f"this changes who may {ROLE_POWERS.get(role, 'use that role')}",
    )


def _inner(c: Context, target: str, value: int, data: bytes, depth: int) -> Reading:
    return read_action(Action(to_checksum_address(target), value, bytes(data)), c, depth + 1)


def _schedule(c: Context, a: tuple, depth: int) -> Reading:
    inner = _inner(c, a[0], a[1], a[2], depth)
    return Reading(
        f"Schedule on the treasury (timelock), to run after {duration_words(a[5])}: {_lower(inner.words)}",
        inner.known,
        "this schedules a treasury call that no vote will decide",
    )


def _schedule_batch(c: Context, a: tuple, depth: int) -> Reading:
    inner = [_inner(c, t, v, d, depth) for t, v, d in zip(a[0], a[1], a[2])]
    return Reading(
        f"Schedule {len(inner)} calls on the treasury (timelock), to run after {duration_words(a[5])}: "
        + "; ".join(_lower(r.words) for r in inner),
        all(r.known for r in inner),
        "this schedules treasury calls that no vote will decide",
    )


def _execute(c: Context, a: tuple, depth: int) -> Reading:
    inner = _inner(c, a[0], a[1], a[2], depth)
    return Reading(f"Execute a scheduled treasury call: {_lower(inner.words)}", inner.known, inner.power)


def _execute_batch(c: Context, a: tuple, depth: int) -> Reading:
    inner = [_inner(c, t, v, d, depth) for t, v, d in zip(a[0], a[1], a[2])]
    powers = [r.power for r in inner if r.power]
    return Reading(
        f"Execute {len(inner)} scheduled treasury calls: " + "; ".join(_lower(r.words) for r in inner),
        all(r.known for r in inner),
        "; ".join(powers) or None,
    )


def _relay(c: Context, a: tuple, depth: int) -> Reading:
    inner = _inner(c, a[0], a[1], a[2], depth)
    return Reading(
        f"Have the governor itself make a call: {_lower(inner.words)}",
        inner.known,
        "this acts with the governor's own authority, outside the treasury" + (f"; {inner.power}" if inner.power else ""),
    )


def _setting(name: str, render: Callable[[int], str]) -> Reader:
    def reader(c: Context, a: tuple, _: int) -> Reading:
        return Reading(f"Set the {name} to {render(a[0])}", True, f"this changes the rules every later proposal runs by ({name})")

    return reader


# The commons' own settings and lists, each changed only by a passed vote. None of them is a power change: tracking
# a token moves nothing and gives nobody a right to move anything (it only lets contributions in it be recorded and
# shows it among the treasury's assets; what the treasury holds stays whatever is tracked), and the initiatives'
# settings only decide how a member's proposal reaches the ballot, which still decides it by the same quorum and
# timelock as every other proposal. The governor's settings, by contrast, change how every vote is decided.


def _track(c: Context, a: tuple, _: int) -> Reading:
    return Reading(
        f"Start tracking {token_named(c.tokens, a[0])} in the treasury: it is accepted as a contribution and listed among "
        f"the treasury's assets{_lookalike(c, a[0])}",
        True,
    )


def _untrack(c: Context, a: tuple, _: int) -> Reading:
    return Reading(
        f"Stop tracking {token_named(c.tokens, a[0])} in the treasury: it is no longer accepted as a contribution nor listed "
        "among the treasury's assets; what the treasury holds of it stays there",
        True,
    )


def _support_share(c: Context, a: tuple, _: int) -> Reading:
    return Reading(
        f"Set the support an initiative needs to {format_bps(a[0])} of members (the author included, and never fewer "
        f"than the author and {MIN_COSIGNERS} others){_refused('support-share', a[0])}",
        True,
    )


def _lifetime(c: Context, a: tuple, _: int) -> Reading:
    return Reading(
        f"Set how long an initiative stays open after its latest draft or revision to {duration_words(a[0])}"
        + _refused("initiative-lifetime", a[0]),
        True,
    )


def _steward(appoint: bool) -> Reader:
    def reader(c: Context, a: tuple, _: int) -> Reading:
        who = c.who(a[0])
        if appoint:
            return Reading(f"Appoint {who} as a steward", True, f"this gives {who} the power to submit proposals")
        return Reading(f"Recall {who} as a steward", True, f"this takes from {who} the power to submit proposals")

    return reader


def _simple(template: str, power: str | None = None) -> Reader:
    """A reader whose words (and power warning) only name the arguments: {0}, {1}… (addresses as `who`)."""

    def reader(c: Context, a: tuple, _: int) -> Reading:
        shown = [c.who(v) if isinstance(v, str) and v.startswith("0x") and len(v) == 42 else v for v in a]
        return Reading(template.format(*shown), True, power.format(*shown) if power else None)

    return reader


OURS: dict[tuple[str, str], Reader] = {
    ("timelock", "grantRole(bytes32,address)"): _grant,
    ("timelock", "revokeRole(bytes32,address)"): _revoke,
    ("timelock", "renounceRole(bytes32,address)"): _renounce,
    ("timelock", "schedule(address,uint256,bytes,bytes32,bytes32,uint256)"): _schedule,
    ("timelock", "scheduleBatch(address[],uint256[],bytes[],bytes32,bytes32,uint256)"): _schedule_batch,
    ("timelock", "execute(address,uint256,bytes,bytes32,bytes32)"): _execute,
    ("timelock", "executeBatch(address[],uint256[],bytes[],bytes32,bytes32)"): _execute_batch,
    ("timelock", "cancel(bytes32)"): lambda c, a, _: Reading(
        f"Cancel the scheduled treasury operation 0x{a[0].hex()}",
        True,
        "this stops a scheduled treasury call, possibly a passed proposal",
    ),
    ("timelock", "updateDelay(uint256)"): lambda c, a, _: Reading(
        f"Set the timelock delay to {duration_words(a[0])}",
        True,
        "this changes how long members have between a passed proposal and its execution (time to object or leave)",
    ),
    ("governor", "setVotingDelay(uint48)"): _setting("voting delay", duration_words),
    ("governor", "setVotingPeriod(uint32)"): _setting("voting period", duration_words),
    ("governor", "setLateQuorumVoteExtension(uint48)"): _setting("late quorum extension", duration_words),
    ("governor", "updateQuorumNumerator(uint256)"): _setting("quorum", lambda v: f"{v}% of members"),
    ("governor", "setProposalThreshold(uint256)"): _setting("votes needed to propose", lambda v: f"{v:,}"),
    ("governor", "updateTimelock(address)"): _simple(
        "Move the governor to the timelock at {0}", "this gives {0} control of every passed proposal and how it runs"
    ),
    ("governor", "relay(address,uint256,bytes)"): _relay,
    ("governor", "appointSteward(address)"): _steward(True),
    ("governor", "recallSteward(address)"): _steward(False),
    ("membership", "admit(address,string)"): lambda c, a, _: Reading(f"Admit {a[0]} as a member with the handle “{a[1]}”", True),
    ("membership", "remove(address)"): _simple("Remove {0} from the membership"),
    ("membership", "transferOwnership(address)"): _simple(
        "Hand the membership registry to {0}", "this gives {0} the power to admit and remove members without a vote"
    ),
    ("membership", "renounceOwnership()"): _simple(
        "Leave the membership registry without an owner",
        "after this nobody, not even a passed proposal, can admit or remove members",
    ),
    ("contributions", "trackToken(address)"): _track,
    ("contributions", "untrackToken(address)"): _untrack,
    ("initiatives", "setSupportShare(uint256)"): _support_share,
    ("initiatives", "setLifetime(uint256)"): _lifetime,
}


def _token_reader(signature: str) -> Callable[[Context, str, tuple], Reading]:
    def transfer(c: Context, t: str, a: tuple) -> Reading:
        return Reading(f"Pay {_amount(c, a[1], t)} from the treasury to {c.who(a[0])}", True)

    def approve(c: Context, t: str, a: tuple) -> Reading:
        spender = c.who(a[0])
        # ERC-20 approve and ERC-721 approve share a selector: the second argument is an amount or a token id.
        nft = "" if _is_fungible(c, t) else f" (for an NFT collection: token #{a[1]})"
        return Reading(
            f"Allow {spender} to take {_amount(c, a[1], t)} from the treasury{nft}",
            True,
            f"this gives {spender} the power to move the treasury's tokens at {t} without a vote",
        )

    def transfer_from(c: Context, t: str, a: tuple) -> Reading:
        nft = "" if _is_fungible(c, t) else f" (for an NFT collection: token #{a[2]})"
        return Reading(f"Move {_amount(c, a[2], t)}{nft} from {c.who(a[0])} to {c.who(a[1])}", True)

    def safe_transfer_from(c: Context, t: str, a: tuple) -> Reading:
        return Reading(f"Transfer NFT #{a[2]} of the collection at {t} from {c.who(a[0])} to {c.who(a[1])}", True)

    def approval_for_all(c: Context, t: str, a: tuple) -> Reading:
        operator = c.who(a[0])
        if not a[1]:
            return Reading(f"Take back from {operator} the right to move the treasury's NFTs at {t}", True)
        return Reading(
            f"Allow {operator} to move every NFT the treasury holds at {t}",
            True,
            f"this gives {operator} the power to move the treasury's NFTs at {t} without a vote",
        )

    return {
        "transfer(address,uint256)": transfer,
        "approve(address,uint256)": approve,
        "transferFrom(address,address,uint256)": transfer_from,
        "safeTransferFrom(address,address,uint256)": safe_transfer_from,
        "safeTransferFrom(address,address,uint256,bytes)": safe_transfer_from,
        "setApprovalForAll(address,bool)": approval_for_all,
    }[signature]


TOKEN_CALLS = [
    "transfer(address,uint256)",
    "approve(address,uint256)",
    "transferFrom(address,address,uint256)",
    "safeTransferFrom(address,address,uint256)",
    "safeTransferFrom(address,address,uint256,bytes)",
    "setApprovalForAll(address,bool)",
]


def _types(signature: str) -> list[str]:
    inner = signature[signature.index("(") + 1 : -1]
    return [t for t in inner.split(",") if t] if inner else []


def _lower(words: str) -> str:
    return words[:1].lower() + words[1:]


@cache
def _selectors() -> dict[bytes, list[str]]:
    """Selector → signatures we can read (ours per contract, tokens on any target)."""
    table: dict[bytes, list[str]] = {}
    for signature in {sig for _, sig in OURS} | set(TOKEN_CALLS):
        table.setdefault(function_signature_to_4byte_selector(signature), []).append(signature)
    return table


@cache
def _own_abi_functions() -> dict[tuple[str, bytes], tuple[str, list[str], list[str]]]:
    """(role, selector) → (name, input types, input names) for every function of our contracts, from the artifacts."""
    from governance.compiler import load_artifacts
    from governance.vocabulary import CONTRACT_OF_ROLE, OPTIONAL_CONTRACT_OF_ROLE

    artifacts = load_artifacts()
    found = {}
    for role, contract in (CONTRACT_OF_ROLE | OPTIONAL_CONTRACT_OF_ROLE).items():
        for entry in artifacts[contract].abi:
            if entry["type"] == "function":
                types = [i["type"] for i in entry["inputs"]]
                selector = function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})")
                found[(role, selector)] = (entry["name"], types, [i["name"] for i in entry["inputs"]])
    return found


def _shown(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def read_action(action: Action, context: Context, depth: int = 0) -> Reading:
    """`action` in words; see the module docstring."""
    sending = f", sending {format_eth(action.value)} from the treasury" if action.value else ""
    target = to_checksum_address(action.target)
    if not action.calldata:
        if context.addresses.role_of(target):
            return Reading(f"Send {format_eth(action.value)} from the treasury to {context.who(target)}", True)
        return Reading(f"Pay {format_eth(action.value)} from the treasury to {context.who(target)}", True)
    selector, body = action.calldata[:4], action.calldata[4:]
    role = context.addresses.role_of(target)
    unknown = Reading(
        f"Call {context.who(target)} with an unknown function (selector 0x{selector.hex()}, "
        f"{len(action.calldata)} bytes of data){sending}: not decoded, so nobody can say what it does",
        False,
        None,
        "0x" + selector.hex(),
    )
    if depth > MAX_DEPTH:
        return unknown
    for signature in _selectors().get(selector, []):
        try:
            args = decode(_types(signature), body)
        except Exception:  # calldata that does not fit the signature is shown as unknown, never hidden
            continue
        args = tuple(to_checksum_address(a) if t == "address" else a for t, a in zip(_types(signature), args))
        reader = OURS.get((role, signature)) if role else None
        if reader is not None:
            reading = reader(context, args, depth)
        elif signature in TOKEN_CALLS and role is None:
            reading = _token_reader(signature)(context, target, args)
        else:
            continue
        return Reading(reading.words + sending, reading.known, reading.power, "0x" + selector.hex())
    if role:
        generic = _own_abi_functions().get((role, selector))
        if generic is not None:
            name, types, names = generic
            try:
                args = decode(types, body)
            except Exception:  # malformed: unknown below
                return unknown
            shown = ", ".join(f"{n or t}={_shown(v)}" for n, t, v in zip(names, types, args))
            return Reading(f"Call {context.who(target)}'s {name}({shown}){sending}", True, None, "0x" + selector.hex())
    return unknown
