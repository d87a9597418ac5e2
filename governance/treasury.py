"""The treasury in several assets: tracked tokens, amounts in each token's own units, contributions, token
payments, and the flows in and out of the treasury (the timelock) as the chain records them.

Ether is the asset at the zero address, as `Contributed` records it. Flows are derived from three things only:
`Contributed` events (attributed inflows), ERC-20 `Transfer` logs to or from the timelock (a token inflow that is
not a contribution is unattributed; an outflow is a payment of the proposal whose timelock call made it), and
`CallExecuted` events carrying ether (payments). Ether sent to the timelock any other way leaves no log: the cache
counts it from the timelock's balance (api/cache/treasury_sink.py).
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from governance.actions import Action, checked_address
from governance.errors import InvalidInput, RetryableError, RpcError
from governance.events import Event
from governance.log_ranges import RangePolicy
from governance.rpc import Rpc

ETH = "0x0000000000000000000000000000000000000000"
TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
TRANSFER = function_signature_to_4byte_selector("transfer(address,uint256)")
APPROVE = function_signature_to_4byte_selector("approve(address,uint256)")
TRANSFER_FROM = function_signature_to_4byte_selector("transferFrom(address,address,uint256)")
BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")
ALLOWANCE = function_signature_to_4byte_selector("allowance(address,address)")
# Contributions.trackToken / untrackToken: a proposal names the token it tracks or untracks as their one argument.
TRACK_TOKEN = function_signature_to_4byte_selector("trackToken(address)")
UNTRACK_TOKEN = function_signature_to_4byte_selector("untrackToken(address)")
# Contributions.MAX_NOTE_BYTES: the contract refuses a longer note.
MAX_NOTE_BYTES = 280

# What a flow is: money in attributed to its contributor, money in from elsewhere, money out by a passed proposal,
# money out any other way.
FLOW_KINDS = ("contribution", "unattributed", "payment", "other")

ReadCall = Callable[[str, bytes], bytes]  # (contract, calldata) → raw output of a read-only call


@dataclass(frozen=True)
class Asset:
    """Ether or an ERC-20 token, with what it takes to write its amounts."""

    address: str
    symbol: str
    name: str
    decimals: int

    @property
    def is_eth(self) -> bool:
        return self.address == ETH

    def amount_in_words(self, units: int) -> str:
        """'12.5 gUSD', exact (no rounding) for any number of decimals."""
        return f"{format_units(units, self.decimals)} {self.symbol}"


ETHER = Asset(ETH, "ETH", "Ether", 18)
NOT_A_TOKEN = "not an ERC-20 token"  # the name of a tracked address that answers as no token


def format_units(units: int, decimals: int) -> str:
    """`units` of a token with `decimals` decimals as a decimal number, trailing zeros dropped: 1500000, 6 → '1.5'."""
    text = f"{(Decimal(units).scaleb(-decimals)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_amount(text: str, asset: Asset, what: str = "an amount") -> int:
    """The amount `text` (in whole units of `asset`, e.g. '12.5') in the token's smallest units.

    Raises InvalidInput, in words, for a non-number, zero or less, or more decimals than the asset has.
    """
    try:
        amount = Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise InvalidInput(f"{text!r} is not {what} of {asset.symbol}.") from exc
    if not amount.is_finite():
        raise InvalidInput(f"{text!r} is not {what} of {asset.symbol}.")
    if amount <= 0:
        raise InvalidInput(f"{text} {asset.symbol} is nothing: {what} must be more than 0 {asset.symbol}.")
    units = amount.scaleb(asset.decimals)
    if units != units.to_integral_value():
        given = max(0, -amount.normalize().as_tuple().exponent)  # type: ignore[operator]
        raise InvalidInput(
            f"{asset.symbol} has {asset.decimals} decimals, but {text} has {given}: "
            f"the smallest amount of {asset.symbol} is {format_units(1, asset.decimals)}."
        )
    return int(units)


def check_note(note: str) -> str:
    """`note` if the Contributions contract takes it (at most 280 bytes of UTF-8); InvalidInput otherwise."""
    size = len(note.encode())
    if size > MAX_NOTE_BYTES:
        raise InvalidInput(f"A note is at most {MAX_NOTE_BYTES} bytes; this one is {size}.")
    return note


# ---- reading tokens ----------------------------------------------------------------------------------------


def _text(raw: bytes) -> str:
    """A string result, or a bytes32 one (as some old tokens return their symbol)."""
    if len(raw) == 32:
        return raw.rstrip(b"\0").decode("utf-8", errors="replace")
    return decode(["string"], raw)[0]


def read_asset(call: ReadCall, address: str) -> Asset:
    """The token at `address` by its own symbol(), name() and decimals(); InvalidInput if it is not an ERC-20.

    A node that does not answer, or refuses for another reason than a revert (state pruned, say), raises as it did:
    that says nothing about the token, and taking it for "not a token" would be remembered for good.
    """
    try:
        symbol = _text(call(address, function_signature_to_4byte_selector("symbol()")))
        name = _text(call(address, function_signature_to_4byte_selector("name()")))
        decimals = decode(["uint8"], call(address, function_signature_to_4byte_selector("decimals()")))[0]
    except RetryableError:
        raise
    except RpcError as exc:
        if "revert" not in exc.node_message.lower():
            raise
        raise _not_a_token(address) from exc
    except Exception as exc:  # no code or a malformed answer: not a token we can show
        raise _not_a_token(address) from exc
    return Asset(to_checksum_address(address), symbol, name, int(decimals))


def _not_a_token(address: str) -> InvalidInput:
    return InvalidInput(f"{address} is not an ERC-20 token (it has no symbol, name and decimals).")


def asset_or_placeholder(call: ReadCall, token: str) -> Asset:
    """The token as it names itself; a tracked address that is no ERC-20 is still shown, by its address."""
    try:
        return read_asset(call, token)
    except InvalidInput:  # the vote tracked something that is not a token: show it as what it is
        return Asset(token, token[:10], NOT_A_TOKEN, 0)


def balance_of(call: ReadCall, token: str, holder: str) -> int:
    return decode(["uint256"], call(token, BALANCE_OF + encode(["address"], [holder])))[0]


def rpc_reader(rpc: Rpc, block: int | str = "latest") -> ReadCall:
    return lambda to, data: rpc.eth_call(to, data, block)


def web3_reader(w3, block: int | str = "latest") -> ReadCall:
    return lambda to, data: bytes(w3.eth.call({"to": to, "data": "0x" + data.hex()}, block))


def tracked_addresses(call: ReadCall, contributions: str) -> list[str]:
    """The tokens the Contributions contract tracks now."""
    raw = call(contributions, function_signature_to_4byte_selector("trackedTokens()"))
    return [to_checksum_address(a) for a in decode(["address[]"], raw)[0]]


@dataclass(frozen=True)
class KnownTokens:
    """Tokens as proposal readings name them: those the commons tracks, and others whose symbol and decimals were
    read from the chain. A token in neither is named by its address alone (governance/readings.py)."""

    assets: Mapping[str, Asset] = field(default_factory=dict)  # lower-case address → the token
    tracked: frozenset[str] = frozenset()  # lower-case addresses of the tokens tracked now

    @classmethod
    def of(cls, assets: Iterable[Asset], tracked: Iterable[str]) -> "KnownTokens":
        """`assets` by address, `tracked` (addresses, any case) among them tracked now: e.g. from the cache's rows."""
        return cls({a.address.lower(): a for a in assets}, frozenset(t.lower() for t in tracked))

    def asset(self, address: str) -> Asset | None:
        return self.assets.get(address.lower())

    def is_tracked(self, address: str) -> bool:
        return address.lower() in self.tracked

    def tracked_symbol(self, symbol: str) -> Asset | None:
        """The tracked token (or ether) with `symbol`, any case: what a look-alike untracked token could pass for."""
        wanted = symbol.strip().lower()
        if wanted == ETHER.symbol.lower():
            return ETHER
        return next((a for a in self.assets.values() if self.is_tracked(a.address) and a.symbol.lower() == wanted), None)


def known_tokens(call: ReadCall, contributions: str, actions: Iterable[Action] = ()) -> KnownTokens:
    """The tokens `contributions` tracks now ("" for none), and among `actions` the target of each ERC-20 call (a
    transfer, approve or transferFrom) and the token each trackToken / untrackToken call to `contributions` names, read
    by symbol(), name() and decimals(); one that answers none is left out, to be named by its address. Raises
    RpcError / RetryableError only for the tracked list."""
    assets: dict[str, Asset] = {}
    tracked: set[str] = set()
    for address in tracked_addresses(call, contributions) if contributions else []:
        tracked.add(address.lower())
        try:
            assets[address.lower()] = read_asset(call, address)
        except InvalidInput:  # tracked by a vote but not a token: named by its address
            pass
    for token in tokens_named(actions, contributions):
        if token.lower() not in assets:
            try:
                assets[token.lower()] = read_asset(call, token)
            except InvalidInput:  # not an ERC-20 (an NFT collection, or no code): named by its address
                pass
    return KnownTokens(assets, frozenset(tracked))


def tracking_token(action: Action, contributions: str) -> str | None:
    """The token a trackToken / untrackToken call to `contributions` names (checksummed), else None."""
    if not contributions or action.target.lower() != contributions.lower() or len(action.calldata) != 36:
        return None
    if action.calldata[:4] not in (TRACK_TOKEN, UNTRACK_TOKEN):
        return None
    try:
        return to_checksum_address(decode(["address"], action.calldata[4:])[0])
    except Exception:  # malformed calldata (dirty high bytes): the words already say the call is not understood
        return None


def tokens_named(actions: Iterable[Action], contributions: str) -> list[str]:
    """The tokens `actions` act on, in order and once each: the targets of ERC-20 calls (transfer, approve,
    transferFrom) and the tokens tracked or untracked by calls to `contributions`."""
    found: dict[str, str] = {}
    for action in actions:
        token = action.target if action.calldata[:4] in (TRANSFER, APPROVE, TRANSFER_FROM) else None
        token = token or tracking_token(action, contributions)
        if token is not None:
            found.setdefault(token.lower(), token)
    return list(found.values())


def resolve_asset(call: ReadCall, contributions: str, reference: str | None) -> Asset:
    """ETH (for None, '' or 'ETH'), else the tracked token with that symbol (any case) or address.

    Raises InvalidInput naming the tracked tokens when `reference` is not one of them.
    """
    if reference is None or reference.strip().upper() in ("", "ETH"):
        return ETHER
    if not contributions:
        raise InvalidInput("This commons was deployed without a Contributions contract, so it tracks no tokens: only ETH.")
    assets = [read_asset(call, a) for a in tracked_addresses(call, contributions)]
    wanted = reference.strip()
    for asset in assets:
        if asset.address.lower() == wanted.lower() or asset.symbol.lower() == wanted.lower():
            return asset
    known = ", ".join(["ETH"] + [f"{a.symbol} ({a.address})" for a in assets])
    raise InvalidInput(
        f"{wanted} is not a token this commons tracks; it tracks {known}. "
        "Tracking another token takes a vote (trackToken on the Contributions contract)."
    )


# ---- acting ------------------------------------------------------------------------------------------------


def contribute_call(asset: Asset, units: int, note: str) -> tuple[bytes, int]:
    """(calldata for the Contributions contract, ether to send) for a contribution of `units` of `asset`."""
    if units <= 0:
        raise InvalidInput(f"A contribution must be more than 0 {asset.symbol}.")
    check_note(note)
    if asset.is_eth:
        return function_signature_to_4byte_selector("contribute(string)") + encode(["string"], [note]), units
    selector = function_signature_to_4byte_selector("contributeToken(address,uint256,string)")
    return selector + encode(["address", "uint256", "string"], [asset.address, units, note]), 0


def approve_call(spender: str, units: int) -> bytes:
    return APPROVE + encode(["address", "uint256"], [spender, units])


def allowance(call: ReadCall, token: str, owner: str, spender: str) -> int:
    return decode(["uint256"], call(token, ALLOWANCE + encode(["address", "address"], [owner, spender])))[0]


def pay_token(asset: Asset, recipient: str, units: int) -> Action:
    """The action by which the treasury pays `units` of a token to `recipient` (an ERC-20 `transfer`)."""
    if units <= 0:
        raise InvalidInput(f"A payment must be more than 0 {asset.symbol}.")
    if asset.is_eth:
        raise InvalidInput("Ether is paid with the action's value, not a token transfer.")
    to = checked_address(recipient, "recipient")
    return Action(asset.address, 0, TRANSFER + encode(["address", "uint256"], [to, units]))


def token_paid(action: Action) -> tuple[str, int] | None:
    """(recipient, units) if `action` is an ERC-20 `transfer` (on any token), else None."""
    if action.value or action.calldata[:4] != TRANSFER or len(action.calldata) != 68:
        return None
    to, units = decode(["address", "uint256"], action.calldata[4:])
    return to_checksum_address(to), units


def token_payment_warnings(call: ReadCall, timelock: str, actions: Iterable[Action]) -> list[str]:
    """'the treasury holds 5 gUSD but this proposal pays 10 gUSD: …' per token it pays more of than it holds."""
    paid: dict[str, int] = {}
    for action in actions:
        payment = token_paid(action)
        if payment is not None:
            paid[action.target] = paid.get(action.target, 0) + payment[1]
    warnings = []
    for token, units in paid.items():
        try:
            asset = read_asset(call, token)
            held = balance_of(call, token, timelock)
        except Exception:  # not a token we can read: the action's words already say what it calls
            continue
        if units > held:
            warnings.append(
                f"the treasury holds {asset.amount_in_words(held)} but this proposal pays {asset.amount_in_words(units)}: "
                "it will fail at execution unless the treasury is funded first"
            )
    return warnings


# ---- flows -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transfer:
    """One ERC-20 Transfer log to or from the treasury."""

    token: str
    sender: str
    recipient: str
    amount: int
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    timestamp: int  # 0 when the node left blockTimestamp out of the log (the caller fills it in)


@dataclass(frozen=True)
class Flow:
    """Money into or out of the treasury: one row of its account."""

    block_number: int
    log_index: int  # -1 for ether counted from the balance (no log)
    tx_hash: str
    timestamp: int
    direction: str  # in | out
    kind: str  # one of FLOW_KINDS
    asset: str  # ETH (the zero address) or a token
    amount: int
    counterparty: str  # the contributor, the sender of a transfer, the recipient of a payment ("" if unknown)
    note: str = ""
    operation_id: str | None = None  # the timelock operation that paid it (a passed proposal's)


def _topic(address: str) -> str:
    return "0x" + "00" * 12 + address[2:].lower()


def transfer_logs(
    rpc: Rpc, tokens: list[str], treasury: str, first: int, last: int, ranges: RangePolicy | None = None
) -> list[Transfer]:
    """ERC-20 Transfer logs of `tokens` to or from `treasury` in blocks [first, last], in chain order.

    Asked in ranges the node accepts: `ranges` (the indexer's, when shared) learns the node's block or log cap from
    its refusals (governance/log_ranges.py), so a token tracked years after deployment is read back to the
    deployment in pieces. Raises RpcError for any other refusal, CommonsError if even one block is refused."""
    if not tokens or first > last:
        return []
    policy = ranges or RangePolicy()
    found: dict[tuple[int, int], Transfer] = {}
    for topics in ([TRANSFER_TOPIC, None, _topic(treasury)], [TRANSFER_TOPIC, _topic(treasury)]):
        start = first
        while start <= last:
            end = min(last, start + max(1, policy.blocks) - 1)
            query = {"fromBlock": hex(start), "toBlock": hex(end), "address": tokens, "topics": topics}
            try:
                logs = rpc.call("eth_getLogs", [query])
            except RpcError as exc:
                if not exc.too_many_results:
                    raise
                policy.refused(end - start + 1, exc.node_message)  # smaller next time, or CommonsError
                continue
            policy.after(len(logs), end - start + 1)
            for log in logs:
                transfer = _transfer(log)
                if transfer is not None:
                    found[(transfer.block_number, transfer.log_index)] = transfer
            start = end + 1
    return [found[k] for k in sorted(found)]


def _transfer(log: dict) -> Transfer | None:
    """The ERC-20 transfer a raw log records; None for a removed log or an ERC-721 Transfer (four topics)."""
    if log.get("removed") or len(log["topics"]) != 3:
        return None
    stamp = log.get("blockTimestamp")
    return Transfer(
        to_checksum_address(log["address"]),
        to_checksum_address("0x" + log["topics"][1][26:]),
        to_checksum_address("0x" + log["topics"][2][26:]),
        int(log["data"], 16) if log["data"] not in ("0x", "") else 0,
        int(log["blockNumber"], 16),
        log["blockHash"],
        log["transactionHash"],
        int(log["logIndex"], 16),
        int(stamp, 16) if stamp is not None else 0,
    )


def flows_of(events: Iterable[Event], transfers: Iterable[Transfer], treasury: str) -> list[Flow]:
    """The treasury's flows that logs show: contributions, ether paid by timelock calls, and token transfers in
    and out (a token inflow that a `Contributed` event in the same transaction accounts for is that contribution)."""
    flows: list[Flow] = []
    contributed: set[tuple[str, str, str, int]] = set()
    calls_by_tx: dict[str, list[Event]] = {}
    for e in events:
        a = e.args
        if e.name == "Contributed":
            amount = int(a["amount"])
            contributed.add((e.tx_hash, a["asset"], a["contributor"], amount))
            flows.append(
                Flow(
                    e.block_number,
                    e.log_index,
                    e.tx_hash,
                    e.timestamp,
                    "in",
                    "contribution",
                    a["asset"],
                    amount,
                    a["contributor"],
                    a["note"],
                )
            )
        elif e.name == "CallExecuted":
            calls_by_tx.setdefault(e.tx_hash, []).append(e)
            if int(a["value"]) > 0:
                flows.append(
                    Flow(
                        e.block_number,
                        e.log_index,
                        e.tx_hash,
                        e.timestamp,
                        "out",
                        "payment",
                        ETH,
                        int(a["value"]),
                        a["target"],
                        "",
                        a["id"],
                    )
                )
    for t in transfers:
        if t.sender == t.recipient or t.amount == 0:
            continue
        if t.recipient == treasury:
            if (t.tx_hash, t.token, t.sender, t.amount) in contributed:
                continue
            flows.append(
                Flow(t.block_number, t.log_index, t.tx_hash, t.timestamp, "in", "unattributed", t.token, t.amount, t.sender)
            )
        elif t.sender == treasury:
            call = next((c for c in calls_by_tx.get(t.tx_hash, []) if c.args["target"] == t.token), None)
            operation = call.args["id"] if call is not None else None
            kind = "payment" if call is not None else "other"
            flows.append(
                Flow(
                    t.block_number,
                    t.log_index,
                    t.tx_hash,
                    t.timestamp,
                    "out",
                    kind,
                    t.token,
                    t.amount,
                    t.recipient,
                    "",
                    operation,
                )
            )
    flows.sort(key=lambda f: (f.block_number, f.log_index))
    return flows


def net(flows: Iterable[Flow], asset: str) -> int:
    """In minus out of `asset` over `flows`."""
    return sum(f.amount if f.direction == "in" else -f.amount for f in flows if f.asset == asset)


# ---- ether that no log shows -------------------------------------------------------------------------------

# Balance look-ups one batch may spend to date such ether (each halves the span it may have arrived in).
DATING_BUDGET = 64


@dataclass(frozen=True)
class UnloggedEther:
    """Ether that reached the treasury (amount > 0) or left it (< 0) with no log, dated by the treasury's balance.

    It is counted at `block`; `since` is the first block it may have arrived in (`block` itself when dated exactly,
    None when no earlier balance could be read: at or before `block`)."""

    block: int
    amount: int
    since: int | None

    @property
    def exact(self) -> bool:
        return self.since == self.block

    def words(self) -> str:
        """Where the ether was dated, for a reader of the treasury's account."""
        went = "arrived" if self.amount > 0 else "left"
        if self.exact:
            when = f"in block {self.block:,}"
        elif self.since is None:
            when = f"in block {self.block:,} or before (the node keeps no earlier balance to say when)"
        else:
            when = f"between blocks {self.since:,} and {self.block:,} (the node kept no balance to say more exactly)"
        return f"No transaction log records this ether: the treasury's balance shows it {went} {when}."


def date_unlogged_ether(
    residual_at: Callable[[int], int | None],
    after: int,
    last: int,
    residual: int,
    origin: int | None = None,
    budget: int = DATING_BUDGET,
) -> list[UnloggedEther]:
    """The ether no log accounts for up to block `last`, by the blocks where it appeared, for a cache that has
    accounted for the treasury's ether up to block `after` (or believed so).

    `residual_at(b)`: the treasury's balance at block b minus every logged flow up to b (None when the node no
    longer has that state); `residual`: that at `last`. A span is halved where the residual changes, so each arrival
    is dated to its block with about log2(span) look-ups, up to `budget` of them in all; past the budget, or where a
    balance cannot be read, an amount is dated by the span it arrived in. Ether already unaccounted for at `after`
    (a batch before had no balance to go by) is looked for back to `origin` (before the treasury existed), else
    said to have come at or before block `after`+1. The amounts add up to `residual`."""
    start = residual_at(after) if after >= 0 else 0
    if start is None:
        return [UnloggedEther(last, residual, None)] if residual else []
    found: list[UnloggedEther] = []
    spans = [(after, start, last, residual)]
    if start:
        before = residual_at(origin) if origin is not None and 0 <= origin < after else None
        if origin is not None and origin < after:
            spans.append((origin, before or 0, after, start))
        else:
            found.append(UnloggedEther(after + 1, start, None))
    budget -= len(spans) - 1
    while spans:
        low, at_low, high, at_high = spans.pop()
        if at_low == at_high:
            continue
        if high == low + 1:
            found.append(UnloggedEther(high, at_high - at_low, high))
            continue
        middle = (low + high) // 2
        at_middle = residual_at(middle) if budget > 0 else None
        budget -= 1
        if at_middle is None:
            found.append(UnloggedEther(high, at_high - at_low, low + 1))
            continue
        spans += [(middle, at_middle, high, at_high), (low, at_low, middle, at_middle)]
    return sorted(found, key=lambda e: e.block)
