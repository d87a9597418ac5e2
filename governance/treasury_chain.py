"""The treasury from the chain alone: every asset the commons tracks or tracked, balances at a block, and every
flow that logs show (contributions, token transfers in and out, ether paid by timelock calls). What `commons
treasury` prints and what the audit compares the cache with."""

from dataclasses import dataclass, field

from governance import treasury
from governance.events import Event
from governance.indexer import Indexer
from governance.log_ranges import RangePolicy
from governance.manifest import Manifest
from governance.rpc import Rpc
from governance.treasury import ETH, ETHER, Asset, Flow, Transfer

# Blocks per eth_getLogs request for token transfers to start from (2,000 is the common provider cap); the range
# then follows what the node accepts (governance/log_ranges.py).
TRANSFER_RANGE = 2_000


@dataclass
class ChainTreasury:
    """The treasury at `block` as the chain has it."""

    block: int
    assets: dict[str, Asset]  # ether first, then every token ever tracked, in the order they were tracked
    tracked: set[str]
    balances: dict[str, int]
    flows: list[Flow] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def unattributed_ether(self) -> int:
        """Ether the treasury holds beyond what logs account for (plain transfers, balances set by hand)."""
        return self.balances[ETH] - treasury.net(self.flows, ETH)


def read_treasury(rpc_url: str, manifest: Manifest, block: int, events: list[Event] | None = None) -> ChainTreasury:
    """The treasury of `manifest`'s commons at `block`, from logs and balances (`events`: the governance events up to
    `block`, when the caller has read them already). Raises RetryableError or RpcError when the node fails."""
    rpc = Rpc(rpc_url)
    if events is None:
        reader = Indexer(rpc, manifest.indexed_contracts(), manifest.deployment_block, sink=None)  # type: ignore[arg-type]
        events = reader.read_events(manifest.deployment_block, block)
    read = treasury.rpc_reader(rpc, block)
    assets: dict[str, Asset] = {ETH: ETHER}
    tracked: set[str] = set()
    for e in events:
        if e.name == "TokenTracked":
            token = e.args["token"]
            tracked.add(token)
            if token not in assets:
                assets[token] = treasury.asset_or_placeholder(read, token)
        elif e.name == "TokenUntracked":
            tracked.discard(e.args["token"])
    tokens = [a for a in assets if a != ETH]
    ranges = RangePolicy(blocks=TRANSFER_RANGE)
    transfers = treasury.transfer_logs(rpc, tokens, manifest.timelock, manifest.deployment_block, block, ranges)
    transfers = _stamped(rpc, transfers, events)
    balances = {ETH: rpc.balance(manifest.timelock, block)}
    for token in tokens:
        balances[token] = _balance(read, token, manifest.timelock)
    flows = treasury.flows_of(events, transfers, manifest.timelock)
    return ChainTreasury(block, assets, tracked | {ETH}, balances, flows, events)


def _balance(read: treasury.ReadCall, token: str, holder: str) -> int:
    try:
        return treasury.balance_of(read, token, holder)
    except Exception:  # not a token: it holds nothing we can count
        return 0


def _stamped(rpc: Rpc, transfers: list[Transfer], events: list[Event]) -> list[Transfer]:
    times = {e.block_number: e.timestamp for e in events}
    result = []
    for t in transfers:
        if not t.timestamp:
            if t.block_number not in times:
                ref = rpc.block(t.block_number)
                times[t.block_number] = ref.timestamp if ref else 0
            t = Transfer(**{**vars(t), "timestamp": times[t.block_number]})
        result.append(t)
    return result
