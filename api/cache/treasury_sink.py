"""The treasury's part of the cache: with each batch the sink also records the treasury's flows and balances, in
the same database transaction as the batch's governance events and cursor.

Contributions and ether payments are events the indexer already decoded (`Contributed`, `CallExecuted`); token
flows are ERC-20 `Transfer` logs to or from the timelock of every token the commons tracks or once tracked, read
here before the transaction opens (a token tracked for the first time brings its whole history since the
deployment), in ranges the node accepts. Ether that reaches the timelock without a log (a plain transfer, a mined
reward, a balance set by hand) is the difference between the timelock's balance and the flows recorded: an
unattributed flow dated to the block where the balance shows it (governance.treasury.date_unlogged_ether), whose
note says so, or says the span it arrived in when the node no longer keeps the balances to tell.

A token that a new proposal, initiative draft or revision names (a token to track or untrack, or the target of a
token payment or approval) and the cache cannot name yet is read as it names itself too, and kept in `named_token`:
so that a proposal to track a token reads by its name ("Garden Dollar (gUSD, 6 decimals)") before anyone votes.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from eth_utils import to_checksum_address
from sqlalchemy.engine import Connection, Engine

from api.cache.rollback import roll_back
from api.cache.sink import KEEP_BLOCKS, SqlSink, _locked_cursor
from api.cache.tables import NAMED_TOKENS
from api.cache.treasury_tables import ASSETS, FLOWS
from governance import treasury
from governance.actions import Action
from governance.errors import RetryableError, RpcError
from governance.events import Event
from governance.indexer import Batch, Happening, Rollback
from governance.log_ranges import RangePolicy
from governance.manifest import Manifest
from governance.rpc import Rpc
from governance.treasury import ETH, Asset, Flow, Transfer

# The events whose actions may name tokens: a proposal, and a member's initiative as drafted or revised.
ACTION_EVENTS = ("ProposalCreated", "InitiativeDrafted", "InitiativeRevised")
# The most tokens read for the words of one such event (a real one names one or two; a member's initiative could name
# thousands, each costing the indexer three calls): the rest are named by their address.
MAX_NAMED_TOKENS = 8
# The longest symbol and name the cache keeps (the columns' sizes; the words cut them far shorter).
SYMBOL_CHARS, NAME_CHARS = 64, 256


@dataclass(frozen=True)
class TreasuryReading:
    """What a batch needs from the chain besides its events: new tokens, transfers to or from the treasury, and
    tokens the batch's actions name that the cache could not name before."""

    new_assets: list[Asset]
    transfers: list[Transfer]
    named: list[Asset] = field(default_factory=list)


class TreasurySink(SqlSink):
    """The SQL sink, with the treasury's flows and balances written in each batch's transaction."""

    def __init__(
        self, engine: Engine, manifest: Manifest, rpc: Rpc, keep_blocks: int = KEEP_BLOCKS, ranges: RangePolicy | None = None
    ):
        """`rpc` and `ranges`: best the indexer's own, so transfer logs are paced and sized as its requests are."""
        super().__init__(engine, manifest, keep_blocks)
        self.rpc = rpc
        self.ranges = ranges or RangePolicy()
        self.treasury = manifest.timelock

    def apply(self, happening: Happening) -> None:
        """Apply a batch or a rollback atomically, the treasury's rows included."""
        if isinstance(happening, Rollback):
            with self.engine.begin() as conn:
                roll_back(conn, happening, self.addresses)
                roll_back_treasury(conn, happening.ancestor.number if happening.ancestor else -1)
            return
        reading = self._read(happening)
        with self.engine.begin() as conn:
            cursor = _locked_cursor(conn)
            done = cursor["block_number"] if cursor is not None else -1
            self._apply_batch(conn, happening)
            if happening.last.number > done:
                origin = self.manifest.deployment_block - 1
                write_treasury(conn, happening, reading, done, self.treasury, self._balance_at, self._time_of, origin)

    def _balance_at(self, block: int) -> int | None:
        """The treasury's ether at `block`; None when the node no longer keeps that state or does not answer (the
        ether is then dated by the span it arrived in, and says so)."""
        try:
            return self.rpc.balance(self.treasury, block)
        except (RpcError, RetryableError):
            return None

    def _time_of(self, block: int) -> int | None:
        """The time of `block`; None when the node does not answer."""
        try:
            found = self.rpc.block(block)
        except (RpcError, RetryableError):
            return None
        return found.timestamp if found else None

    def _asset(self, token: str, block: int) -> Asset:
        """The token as it names itself at `block`, or at the head when the node no longer keeps that block's state (a
        pruning node keeps about 128 blocks; a backfill reads far older ones): its symbol, name and decimals stand."""
        try:
            return treasury.asset_or_placeholder(treasury.rpc_reader(self.rpc, block), token)
        except RpcError:
            return treasury.asset_or_placeholder(treasury.rpc_reader(self.rpc, "latest"), token)

    def _read(self, batch: Batch) -> TreasuryReading:
        with self.engine.connect() as conn:
            known = list(conn.execute(sa.select(ASSETS.c.address)).scalars())
        tracked = [e.args["token"] for e in batch.events if e.name == "TokenTracked"]
        new = [t for t in dict.fromkeys(tracked) if t not in known]
        new_assets = [self._asset(token, batch.last.number) for token in new]
        first, last = batch.first_block, batch.last.number
        transfers = treasury.transfer_logs(self.rpc, known, self.treasury, first, last, self.ranges)
        # A token tracked for the first time: its transfers since the deployment (the treasury may have held it before),
        # in ranges the node accepts.
        transfers += treasury.transfer_logs(self.rpc, new, self.treasury, self.manifest.deployment_block, last, self.ranges)
        named = [self._asset(token, last) for token in self._unnamed_tokens(batch)]
        return TreasuryReading(new_assets, self._stamped(transfers, batch), named)

    def _unnamed_tokens(self, batch: Batch) -> list[str]:
        """The tokens the batch's proposals, drafts and revisions name (at most MAX_NAMED_TOKENS each) that the cache
        holds no name for: neither tracked nor named before."""
        wanted: dict[str, None] = {}
        for e in batch.events:
            if e.name in ACTION_EVENTS:
                named = treasury.tokens_named(_actions_of(e), self.manifest.contributions)
                wanted.update(dict.fromkeys(to_checksum_address(t) for t in named[:MAX_NAMED_TOKENS]))
        if not wanted:
            return []
        with self.engine.connect() as conn:
            known = set(conn.execute(sa.select(ASSETS.c.address).where(ASSETS.c.address.in_(list(wanted)))).scalars())
            known |= set(
                conn.execute(sa.select(NAMED_TOKENS.c.address).where(NAMED_TOKENS.c.address.in_(list(wanted)))).scalars()
            )
        return [token for token in wanted if token not in known]

    def _stamped(self, transfers: list[Transfer], batch: Batch) -> list[Transfer]:
        """Transfers with their block's time (for nodes that leave blockTimestamp out of logs)."""
        times = {b.number: b.timestamp for b in batch.blocks} | {e.block_number: e.timestamp for e in batch.events}
        stamped = []
        for t in transfers:
            if not t.timestamp:
                if t.block_number not in times:
                    block = self.rpc.block(t.block_number)
                    times[t.block_number] = block.timestamp if block else 0
                t = Transfer(**{**vars(t), "timestamp": times[t.block_number]})
            stamped.append(t)
        return stamped


def write_treasury(
    conn: Connection,
    batch: Batch,
    reading: TreasuryReading,
    done: int,
    treasury_address: str,
    balance_at: Callable[[int], int | None] = lambda block: None,
    time_of: Callable[[int], int | None] = lambda block: None,
    origin: int | None = None,
) -> None:
    """The batch's flows, the tracked tokens it changes, their balances, and any ether no log accounts for (dated by
    `balance_at`, the treasury's ether at a block, and `time_of`, a block's time; each None when unknown; `origin`: a block before the treasury existed)."""
    events = [e for e in batch.events if e.block_number > done]
    _remember_names(conn, reading.named, batch.last.number)
    for asset in map(_fitted, reading.new_assets):
        tracked_at = next(
            (e.block_number for e in events if e.name == "TokenTracked" and e.args["token"] == asset.address), batch.last.number
        )
        conn.execute(
            ASSETS.insert().values(
                address=asset.address,
                symbol=asset.symbol,
                name=asset.name,
                decimals=asset.decimals,
                tracked=True,
                tracked_block=tracked_at,
                balance="0",
            )
        )
    new_tokens = {a.address for a in reading.new_assets}
    transfers = [t for t in reading.transfers if t.block_number > done or t.token in new_tokens]
    earlier = _calls_in(conn, {t.tx_hash for t in transfers if t.block_number <= done})
    flows = treasury.flows_of(earlier + events, transfers, treasury_address)
    _insert_flows(conn, flows)
    _track_changes(conn, events)
    for token in {f.asset for f in flows if f.asset != ETH}:
        _add_to_balance(conn, token, treasury.net(flows, token))
    if batch.treasury_wei is not None:
        _unattributed_ether(conn, batch, batch.treasury_wei, done, balance_at, time_of, origin)


def _actions_of(e: Event) -> list[Action]:
    """The actions a ProposalCreated, InitiativeDrafted or InitiativeRevised event carries."""
    a = e.args
    return [Action(t, int(v), bytes.fromhex(c[2:])) for t, v, c in zip(a["targets"], a["values"], a["calldatas"])]


def _fitted(asset: Asset) -> Asset:
    """`asset` with its symbol and name as the cache can keep them: without NUL characters (PostgreSQL refuses them
    in text) and cut to the columns' sizes (a token names itself, so a name may be anything)."""
    symbol = asset.symbol.replace("\0", "")[:SYMBOL_CHARS]
    return Asset(asset.address, symbol, asset.name.replace("\0", "")[:NAME_CHARS], asset.decimals)


def _remember_names(conn: Connection, assets: list[Asset], block: int) -> None:
    """Keep the names of tokens that actions name (a token that answers as none is kept as such, not read again)."""
    if not assets:
        return
    addresses = [a.address for a in assets]
    held = set(conn.execute(sa.select(NAMED_TOKENS.c.address).where(NAMED_TOKENS.c.address.in_(addresses))).scalars())
    rows = [
        {"address": a.address, "symbol": a.symbol, "name": a.name, "decimals": a.decimals, "read_block": block}
        for a in map(_fitted, assets)
        if a.address not in held
    ]
    if rows:
        conn.execute(NAMED_TOKENS.insert(), rows)


def _calls_in(conn: Connection, tx_hashes: set[str]) -> list[Event]:
    """The CallExecuted events of these (already indexed) transactions, from the decision log."""
    from api.cache.tables import LOG

    if not tx_hashes:
        return []
    rows = conn.execute(sa.select(LOG).where(LOG.c.kind == "CallExecuted", LOG.c.tx_hash.in_(tx_hashes)).order_by(LOG.c.seq))
    return [
        Event(r.block_number, r.block_hash, r.tx_hash, r.log_index, r.timestamp, r.contract, r.kind, json.loads(r.data))
        for r in rows
    ]


def _insert_flows(conn: Connection, flows: list[Flow]) -> None:
    if flows:
        conn.execute(FLOWS.insert(), [_row(f) for f in flows])


def _row(f: Flow) -> dict:
    return {
        "block_number": f.block_number,
        "log_index": f.log_index,
        "tx_hash": f.tx_hash,
        "timestamp": f.timestamp,
        "direction": f.direction,
        "kind": f.kind,
        "asset": f.asset,
        "amount": str(f.amount),
        "counterparty": f.counterparty,
        "note": f.note,
        "operation_id": f.operation_id,
    }


def _track_changes(conn: Connection, events: list[Event]) -> None:
    for e in events:
        token = e.args.get("token")
        if e.name == "TokenTracked":
            conn.execute(
                ASSETS.update()
                .where(ASSETS.c.address == token)
                .values(tracked=True, tracked_block=e.block_number, untracked_block=None)
            )
        elif e.name == "TokenUntracked":
            conn.execute(ASSETS.update().where(ASSETS.c.address == token).values(tracked=False, untracked_block=e.block_number))


def _add_to_balance(conn: Connection, token: str, change: int) -> None:
    held = conn.execute(sa.select(ASSETS.c.balance).where(ASSETS.c.address == token)).scalar_one_or_none()
    if held is not None:
        conn.execute(ASSETS.update().where(ASSETS.c.address == token).values(balance=str(int(held) + change)))


def _recorded_net(conn: Connection, asset: str) -> int:
    rows = conn.execute(sa.select(FLOWS.c.direction, FLOWS.c.amount).where(FLOWS.c.asset == asset))
    return sum(int(amount) if direction == "in" else -int(amount) for direction, amount in rows)


def _unattributed_ether(
    conn: Connection,
    batch: Batch,
    balance: int,
    done: int,
    balance_at: Callable[[int], int | None],
    time_of: Callable[[int], int | None],
    origin: int | None,
) -> None:
    """Flows for the ether the timelock's balance shows and no log explains (in, or out if it shrank), each dated
    to the block where the balance shows it (governance.treasury.date_unlogged_ether), its note saying how exactly."""
    last = batch.last
    after = done if done >= 0 else batch.first_block - 1  # the balance is accounted for up to here
    # Ether dated in these blocks before (a batch ending here again, after a rollback) is dated anew.
    conn.execute(FLOWS.delete().where(FLOWS.c.block_number > after, FLOWS.c.log_index == -1, FLOWS.c.asset == ETH))
    total = _recorded_net(conn, ETH)
    residual = balance - total
    if residual == 0:
        return
    logged = conn.execute(sa.select(FLOWS.c.block_number, FLOWS.c.direction, FLOWS.c.amount).where(FLOWS.c.asset == ETH)).all()

    def residual_at(block: int) -> int | None:
        held = balance if block == last.number else balance_at(block)
        if held is None:
            return None
        return held - sum(int(a) if d == "in" else -int(a) for b, d, a in logged if b <= block)

    times = {b.number: b.timestamp for b in batch.blocks} | {e.block_number: e.timestamp for e in batch.events}
    times[last.number] = last.timestamp
    for found in treasury.date_unlogged_ether(residual_at, after, last.number, residual, origin):
        # Ether found back before this batch (an earlier batch could not date it) may land in a block that already has
        # its row: one row a block holds the net, as the key (block, log index -1) allows one.
        amount = found.amount + _take_unlogged_ether(conn, found.block)
        if amount == 0:
            continue
        direction, kind = ("in", "unattributed") if amount > 0 else ("out", "other")
        timestamp = times.get(found.block) or time_of(found.block) or last.timestamp
        flow = Flow(found.block, -1, "", timestamp, direction, kind, ETH, abs(amount), "", found.words())
        _insert_flows(conn, [flow])


def _take_unlogged_ether(conn: Connection, block: int) -> int:
    """The signed amount of the ether row already dated to `block` (0 if none), deleted so it can be written anew."""
    where = (FLOWS.c.block_number == block, FLOWS.c.log_index == -1, FLOWS.c.asset == ETH)
    row = conn.execute(sa.select(FLOWS.c.direction, FLOWS.c.amount).where(*where)).first()
    if row is None:
        return 0
    conn.execute(FLOWS.delete().where(*where))
    return int(row.amount) if row.direction == "in" else -int(row.amount)


def roll_back_treasury(conn: Connection, last: int) -> None:
    """Forget the treasury's flows after block `last`, tokens whose tracking the rolled-back blocks began, and names
    of tokens read after it; the tracked status and balances follow from what remains."""
    from api.cache.tables import LOG

    conn.execute(FLOWS.delete().where(FLOWS.c.block_number > last))
    conn.execute(NAMED_TOKENS.delete().where(NAMED_TOKENS.c.read_block > last))
    for token in list(conn.execute(sa.select(ASSETS.c.address)).scalars()):
        changes = conn.execute(
            sa.select(LOG.c.kind, LOG.c.block_number)
            .where(LOG.c.kind.in_(["TokenTracked", "TokenUntracked"]), LOG.c.subject == token, LOG.c.block_number <= last)
            .order_by(LOG.c.seq)
        ).all()
        if not changes:
            conn.execute(ASSETS.delete().where(ASSETS.c.address == token))
            conn.execute(FLOWS.delete().where(FLOWS.c.asset == token))
            continue
        first_tracked = next(block for kind, block in changes if kind == "TokenTracked")
        kind, block = changes[-1]
        tracked = kind == "TokenTracked"
        conn.execute(
            ASSETS.update()
            .where(ASSETS.c.address == token)
            .values(
                tracked=tracked,
                tracked_block=block if tracked else first_tracked,
                untracked_block=None if tracked else block,
                balance=str(_recorded_net(conn, token)),
            )
        )
