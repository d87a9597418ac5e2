"""A proposal's actions from a TOML file, for `commons propose several` (and any Python caller):

    [[action]]
    kind = "admit"
    address = "0x…"
    handle = "maria"

    [[action]]
    kind = "pay"
    recipient = "0x…"
    eth = "1.5"

    [[action]]            # a payment in a token the commons tracks, in the token's units
    kind = "pay"
    recipient = "0x…"
    token = "gUSD"
    amount = "12.5"

    [[action]]            # track (or untrack) a token: its address, or the symbol of a token tracked now
    kind = "track"
    token = "0x…"

    [[action]]            # the initiatives' settings: support-share in percent, initiative-lifetime as a duration
    kind = "setting"
    name = "support-share"
    value = "20%"

Every action is checked before anything is sent; the first problem is reported with the action's number.
"""

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from governance import actions as act
from governance.errors import InvalidInput
from governance.treasury import Asset, parse_amount, pay_token

# kind → (required fields, optional fields with defaults, how to build the action)
KINDS: dict[str, tuple[tuple[str, ...], dict[str, Any], Callable[..., act.Action]]] = {
    "admit": (("address", "handle"), {}, lambda a, address, handle: act.admit(a, address, handle)),
    "remove": (("address",), {}, lambda a, address: act.remove(a, address)),
    "appoint": (("address",), {}, lambda a, address: act.appoint_steward(a, address)),
    "recall": (("address",), {}, lambda a, address: act.recall_steward(a, address)),
    "pay": (("recipient", "eth"), {}, lambda a, recipient, eth: act.pay(recipient, act.parse_eth(str(eth)))),
    "setting": (("name", "value"), {}, lambda a, name, value: act.change_setting(a, name, act.setting_value(name, str(value)))),
    "track": (("token",), {}, lambda a, token: act.track_token(a, token)),
    "untrack": (("token",), {}, lambda a, token: act.untrack_token(a, token)),
    "call": (
        ("target", "signature"),
        {"args": [], "value_eth": "0"},
        lambda a, target, signature, args, value_eth: act.contract_call(target, signature, args, act.parse_call_value(value_eth)),
    ),
}

TEXT_FIELDS = {"address", "handle", "recipient", "name", "target", "signature", "token"}
# Kinds whose `token` may be a tracked token's symbol (found by `asset_of`) as well as an address.
TOKEN_KINDS = ("track", "untrack")


def read_actions(path: Path, addresses: act.Addresses, asset_of: Callable[[str], Asset] | None = None) -> list[act.Action]:
    """The actions listed in the TOML file at `path`, in order; InvalidInput naming the first problem.

    `asset_of` finds a tracked token by symbol or address, for payments in a token (without it they are refused)."""
    if not path.is_file():
        raise InvalidInput(f"The actions file {path} does not exist.")
    try:
        document = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"The actions file {path} is not valid TOML: {exc}.") from exc
    listed = document.get("action")
    if not isinstance(listed, list) or not listed or set(document) != {"action"}:
        raise InvalidInput(f"The actions file {path} must hold one or more [[action]] tables and nothing else.")
    return actions_from(listed, addresses, asset_of)


def actions_from(listed: list, addresses: act.Addresses, asset_of: Callable[[str], Asset] | None = None) -> list[act.Action]:
    """The actions described by `listed` (each a table as in the file: a `kind` and its fields), in order;
    InvalidInput naming the first problem (the relay's draft form sends them so)."""
    if not listed:
        raise InvalidInput("Give at least one action.")
    for number, fields in enumerate(listed, start=1):
        if not isinstance(fields, dict):
            raise InvalidInput(f"Action {number} must be a table of a kind and its fields.")
    return [_action(number, fields, addresses, asset_of) for number, fields in enumerate(listed, start=1)]


def _token_payment(number: int, fields: dict, asset_of: Callable[[str], Asset] | None) -> act.Action:
    """A `pay` action with a `token`: recipient, token and amount (in the token's units), nothing else."""
    unknown = sorted(set(fields) - {"kind", "recipient", "token", "amount"})
    missing = [name for name in ("recipient", "amount") if name not in fields]
    if unknown or missing:
        problems = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unknown {', '.join(unknown)}"] if unknown else [])
        raise InvalidInput(f"Action {number} (pay): {'; '.join(problems)}. A payment in a token takes recipient, token, amount.")
    if asset_of is None:
        raise InvalidInput(f"Action {number} (pay): payments in a token need the commons' tracked tokens.")
    try:
        asset = asset_of(str(fields["token"]))
        return pay_token(asset, str(fields["recipient"]), parse_amount(str(fields["amount"]), asset, "a payment"))
    except InvalidInput as exc:
        raise InvalidInput(f"Action {number} (pay): {exc}") from exc


def _action(number: int, fields: dict, addresses: act.Addresses, asset_of: Callable[[str], Asset] | None = None) -> act.Action:
    kind = fields.get("kind")
    if kind == "pay" and "token" in fields:
        return _token_payment(number, fields, asset_of)
    if kind not in KINDS:
        raise InvalidInput(f"Action {number}: kind must be one of {', '.join(KINDS)}, not {kind!r}.")
    required, optional, build = KINDS[kind]
    given = {k: v for k, v in fields.items() if k != "kind"}
    missing = [name for name in required if name not in given]
    unknown = sorted(set(given) - set(required) - set(optional))
    if missing or unknown:
        problems = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unknown {', '.join(unknown)}"] if unknown else [])
        raise InvalidInput(f"Action {number} ({kind}): {'; '.join(problems)}. It takes {', '.join(required + tuple(optional))}.")
    for name, value in given.items():
        expected = list if name == "args" else str if name in TEXT_FIELDS else (str, int, float)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise InvalidInput(
                f"Action {number} ({kind}): {name} must be "
                f"{'a list' if expected is list else 'text in quotes' if expected is str else 'a number or text'}, "
                f"not {value!r}."
            )
    try:
        if kind in TOKEN_KINDS:
            given["token"] = _token_address(given["token"], asset_of)
        return build(addresses, **{**optional, **given})
    except InvalidInput as exc:
        raise InvalidInput(f"Action {number} ({kind}): {exc}") from exc


def _token_address(reference: str, asset_of: Callable[[str], Asset] | None) -> str:
    """The token's address: `reference` itself when it is one, else the tracked token with that symbol."""
    if reference.startswith("0x") or asset_of is None:
        return act.checked_address(reference, "token")
    asset = asset_of(reference)
    if asset.is_eth:
        raise InvalidInput("ETH is always accepted and shown: only an ERC-20 token is tracked or untracked.")
    return asset.address
