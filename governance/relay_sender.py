"""The relay's sending side: batches of stored ballots through the VoteBatcher, the relay account's nonces
and fees, and each ballot's fate read back from the chain.

Exactly one process sends for a relayer account (the store's sender claim). Each round it first looks
after its transactions: settles those mined, gives back the ballots of a nonce that another
transaction from the account used, broadcasts again one the node forgot (dropped from the mempool),
and replaces one that is stuck (its fee cap under the base fee, or unmined for `replace_after`
seconds) at the same nonce with fees 12.5% higher. Then it sends the next batch at the node's next
nonce for the account, which also steps over transactions anyone else sent from it. Every
transaction is written to the store before it is broadcast, so a process killed at any moment
leaves nothing the next one cannot finish; the governor counts a ballot at most once.
"""

import logging
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from eth_abi import decode as abi_decode
from eth_typing import HexStr
from eth_utils import keccak, to_checksum_address
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import TxParams

from governance.chain import GAS_HEADROOM, fee_fields
from governance.redaction import redact
from governance.relay_store import COUNTED, QUEUED, REFUSED, SENT, ActRecord, BallotRecord, RelayTransaction

if TYPE_CHECKING:
    from governance.relayer import Relayer

log = logging.getLogger("commons.relay")

VOTE_CAST = keccak(text="VoteCast(address,uint256,uint8,uint256,string)")
VOTE_CAST_WITH_PARAMS = keccak(text="VoteCastWithParams(address,uint256,uint8,uint256,string,bytes)")
VOTE_FIELDS = {
    VOTE_CAST: ["uint256", "uint8", "uint256", "string"],
    VOTE_CAST_WITH_PARAMS: ["uint256", "uint8", "uint256", "string", "bytes"],
}
# A node takes a replacement only with both fees raised by at least 10%.
FEE_BUMP_NUMERATOR, FEE_BUMP_DENOMINATOR = 9, 8
REBROADCAST_SECONDS = 1.0
# A ballot every check passes before sending but that the governor refuses in the relay's own mined transactions this
# many times is refused: its voter's wallet contract tells a simulation one thing and the chain another.
MAX_ATTEMPTS = 3
# What one ballot may burn on-chain whatever a simulation said: the VoteBatcher's BALLOT_GAS past the 63/64 rule.
WALLET_BALLOT_GAS = 300_000 * 64 // 63 + 20_000
# A ballot counted in one of the last CONFIRMATIONS blocks is checked against the chain again whenever the head
# changes (at most once per REORG_CHECK_SECONDS): a reorganisation that takes its vote away queues it again.
CONFIRMATIONS = 64
REORG_CHECK_SECONDS = 1.0
# Initiative acts sent per round at most (each is a transaction of its own).
ACTS_PER_ROUND = 10


class RelaySender:
    """Sends one relayer's stored ballots and follows its transactions until every ballot is counted or refused."""

    def __init__(self, relayer: "Relayer"):
        self.relayer = relayer
        self.w3 = relayer.w3
        self.store = relayer.store
        self.options = relayer.options
        self.address = relayer.address
        self.governor = relayer.commons.governor
        self.holding = False  # whether this process is the one sending
        self.last_error: str | None = None
        self._rebroadcast_at: dict[int, float] = {}  # nonce → when its transaction was last broadcast or found known
        self._watched_head: bytes | None = None  # the head's hash when watch() last read receipts
        self._counted_in: dict[str, tuple[int, bytes]] = {}  # tx hash → (block number, block hash) it was mined in
        self._reorg_checked: tuple[float, bytes | None] = (float("-inf"), None)  # when, and the head's hash then
        self._canonical: dict[int, bytes | None] = {}  # height → the canonical block's hash, under that head

    def run(self, stopping: threading.Event) -> None:
        """Send and follow until `stopping` is set; only while this process holds the store's sender claim."""
        while not stopping.is_set():
            try:
                self.holding = self.store.acquire_sender(self.address)
                if self.holding:
                    self.round()
            except Exception as exc:  # keep relaying: a node or database hiccup is retried, and shown in status()
                self.last_error = f"{type(exc).__name__}: {redact(str(exc))}"  # shown by /api/relay/status
                log.warning("relay: %s", self.last_error)
                stopping.wait(1.0)
            stopping.wait(self.options.poll_seconds if self.holding else 1.0)
        self.holding = False

    def round(self) -> None:
        """Look after the relay's transactions and recently counted ballots, then send the next batch if one is ready."""
        self.watch()
        self.check_counted()
        self.send_next_batch()
        if self.relayer.initiatives is not None:
            self.send_next_acts()

    # ---- sending ----------------------------------------------------------------------------

    def send_next_batch(self) -> None:
        """Send the queued ballots that would count now as one transaction, once the batch is full or its window is over."""
        options = self.options
        queued = self.store.queued(options.max_batch * 4)
        if not queued or (len(queued) < options.max_batch and time.time() - queued[0].accepted_at < options.batch_window):
            return
        # A voter whose earlier ballot is in a transaction not yet mined waits for it: their nonce follows it.
        busy = self.store.in_flight_voters()
        batch = [r for r in queued if r.ballot.voter not in busy][: options.max_batch]
        if not batch:
            return
        # A voter whose account has code (a smart wallet, an EIP-7702 account) may approve a ballot in a simulation and
        # burn its whole BALLOT_GAS on-chain: such ballots go one to a transaction, with room for that, so they never
        # starve anyone else's.
        wallets = {v for v in {r.ballot.voter for r in batch} if self.w3.eth.get_code(to_checksum_address(v))}
        wallet = batch[0].ballot.voter in wallets  # the oldest ballot goes first, so neither kind waits for ever
        batch = batch[:1] if wallet else [r for r in batch if r.ballot.voter not in wallets]
        counted = self.relayer.simulate_batch(batch)
        good = []
        for i, record in enumerate(batch):
            if counted is not None and counted >> i & 1:
                good.append(record)
            else:
                self.resolve(record, ours=[])
                if record.status != QUEUED:  # one that would count alone waits for the next batch
                    self._write([record])  # at once: the voter's later ballots are judged without it
        if good:
            self._send(good)

    def send_next_acts(self) -> None:
        """Send each queued initiative act that the contract would take now, one transaction each; settle one that it
        would not (done by someone else meanwhile, or refused) unless an act of the relay's is still on its way."""
        acts = self.relayer.initiatives
        assert acts is not None
        queued = self.store.acts.queued(ACTS_PER_ROUND)
        if not queued:
            return
        waiting = any(t.to == acts.address for t in self.store.pending_transactions(self.address))
        for record in queued:
            call = {"from": self.address, "to": acts.address, "data": "0x" + record.data.hex()}
            try:
                gas = int(self.w3.eth.estimate_gas(cast(TxParams, call), "latest") * GAS_HEADROOM)
            except (ContractLogicError, Web3RPCError):
                if not waiting:  # an act may follow one still on its way (a support after its initiative's revision)
                    acts.resolve(record, ours=[])
                    if record.status != QUEUED:
                        self._write([], acts=[record])
                continue
            fees = fee_fields(self.w3)
            tx = RelayTransaction(
                self.address, self._next_nonce(), acts.address, call["data"], gas, fees["maxFeePerGas"],
                fees["maxPriorityFeePerGas"], "", [record.id], time.time(),
            )  # fmt: skip
            self._sign(tx)
            record.status, record.relay_nonce, record.tx_hash, record.attempts = (
                SENT,
                tx.nonce,
                tx.hashes[-1],
                record.attempts + 1,
            )
            self._write([], tx, acts=[record])  # written before it is broadcast: a crash now leaves it for the next round
            self._broadcast(tx)

    def _send(self, records: list[BallotRecord]) -> None:
        data = self.relayer.batch_data(records)
        call = {"from": self.address, "to": self.relayer.batcher, "data": "0x" + data.hex()}
        # Room for one ballot to burn its whole BALLOT_GAS whatever the estimate saw: a wallet's, or an account that
        # became a wallet (an EIP-7702 delegation) while the batch waited. Gas left unused is not paid for.
        gas = int(self.w3.eth.estimate_gas(cast(TxParams, call), "latest") * GAS_HEADROOM) + WALLET_BALLOT_GAS
        fees = fee_fields(self.w3)
        tx = RelayTransaction(
            self.address,
            self._next_nonce(),
            self.relayer.batcher,
            call["data"],
            gas,
            fees["maxFeePerGas"],
            fees["maxPriorityFeePerGas"],
            "",
            [r.id for r in records],
            time.time(),
        )
        self._sign(tx)
        for record in records:
            record.status, record.relay_nonce, record.tx_hash = SENT, tx.nonce, tx.hashes[-1]
            record.batch_size, record.attempts = len(records), record.attempts + 1
        self._write(records, tx)  # written before it is broadcast: a crash now leaves it for the next round
        self._broadcast(tx)

    def _next_nonce(self) -> int:
        """The node's next nonce for the account (past anything anyone sent from it), and past the relay's own."""
        ours = [t.nonce + 1 for t in self.store.pending_transactions(self.address)]
        return max([self.w3.eth.get_transaction_count(self.address, "pending"), *ours])

    def _sign(self, tx: RelayTransaction) -> None:
        signed = self.relayer.signer.account.sign_transaction(
            {
                "type": 2,
                "chainId": self.relayer.commons.manifest.chain_id,
                "nonce": tx.nonce,
                "to": HexStr(tx.to),
                "data": HexStr(tx.data),
                "gas": tx.gas,
                "maxFeePerGas": tx.max_fee,
                "maxPriorityFeePerGas": tx.tip,
                "value": 0,
            }
        )
        tx.raw = signed.raw_transaction.to_0x_hex()
        tx.hashes.append(signed.hash.to_0x_hex())

    def _broadcast(self, tx: RelayTransaction) -> None:
        self._rebroadcast_at[tx.nonce] = time.monotonic()
        try:
            self.w3.eth.send_raw_transaction(HexStr(tx.raw))
        except Web3RPCError as exc:
            # "nonce too low" (another transaction took it) and "already known" are sorted out by the next
            # watch(): the nonce's ballots are given back, or the transaction is found mined or pending.
            self.last_error = f"The node refused relay transaction {tx.hashes[-1]} (nonce {tx.nonce}): {redact(str(exc))}"
            log.warning("relay: %s", self.last_error)

    # ---- following transactions -------------------------------------------------------------

    def watch(self) -> None:
        """Settle, give back, rebroadcast or replace each of the relay's transactions not yet settled."""
        pending = self.store.pending_transactions(self.address)
        if not pending:
            return
        head = self.w3.eth.get_block("latest")
        # Receipts and the account's nonce change only with a new head: look at them once per head. By hash, not number:
        # after a reorganisation the new head may have the number the old one had.
        new_block = bytes(head["hash"]) != self._watched_head
        if new_block:
            used = self.w3.eth.get_transaction_count(self.address, "latest")  # read before the receipts: see below
        for tx in pending:
            receipt = self._receipt(tx) if new_block else None
            if receipt is not None:
                self._settle(tx, receipt)
            elif new_block and tx.nonce < used:  # the nonce was mined before we looked, and not in any of our versions
                self._settle(tx, None)
            elif tx.max_fee < head.get("baseFeePerGas", 0) or time.time() - tx.sent_at > self.options.replace_after:
                self._replace(tx)
            elif time.monotonic() - self._rebroadcast_at.get(tx.nonce, 0.0) > REBROADCAST_SECONDS:
                self._rebroadcast_at[tx.nonce] = time.monotonic()
                if not self._known(tx):  # dropped from the mempool, or never broadcast (a crash before it)
                    self._broadcast(tx)
        self._watched_head = bytes(head["hash"])

    def check_counted(self) -> None:
        """Give back to the queue (or settle anew) each ballot counted, and each initiative act done, in a recent block
        that is no longer on the canonical chain: "counted" and "done" must stay the truth after a reorganisation."""
        checked_at, checked_head = self._reorg_checked
        if time.monotonic() - checked_at < REORG_CHECK_SECONDS:
            return
        head = self.w3.eth.get_block("latest")
        self._reorg_checked = (time.monotonic(), bytes(head["hash"]))
        # Every record is checked each time, even under an unchanged head: one counted after the last check may sit in
        # a block the chain has already left (a head reorganised back to the one checked last). The canonical hash of
        # each height is read once per head.
        if bytes(head["hash"]) != checked_head:
            self._canonical = {}
        canonical = self._canonical
        since = max(0, head["number"] - CONFIRMATIONS)
        recent: list[BallotRecord | ActRecord] = [*self.store.counted_since(since)]
        if self.relayer.initiatives is not None:
            recent += self.store.acts.done_since(since)
        by_tx: dict[str, list[BallotRecord | ActRecord]] = {}
        for record in recent:
            by_tx.setdefault(str(record.tx_hash), []).append(record)
        self._counted_in = {h: where for h, where in self._counted_in.items() if h in by_tx}
        gone: list[BallotRecord | ActRecord] = []
        for tx_hash, records in by_tx.items():
            where = self._counted_in.get(tx_hash) or self._mined_in(tx_hash)
            if where is not None and where[0] not in canonical:
                block = self.w3.eth.get_block(where[0]) if where[0] <= head["number"] else None
                canonical[where[0]] = bytes(block["hash"]) if block is not None else None
            if where is None or canonical[where[0]] != where[1]:
                self._counted_in.pop(tx_hash, None)
                gone.extend(records)
            else:
                self._counted_in[tx_hash] = where
        gone_ballots, gone_acts = [], []
        for record in gone:
            log.warning("relay: %s was done in a block a reorganisation removed; checking it again", record.id)
            if isinstance(record, ActRecord):
                assert self.relayer.initiatives is not None
                record.tx_hash = record.block_number = record.by_relay = None
                self.relayer.initiatives.resolve(record, ours=[])
                gone_acts.append(record)
            else:
                record.tx_hash = record.block_number = record.counted_by_relay = None
                self.resolve(record, ours=[])
                gone_ballots.append(record)
        if gone:
            self._write(gone_ballots, acts=gone_acts)

    def _mined_in(self, tx_hash: str) -> tuple[int, bytes] | None:
        try:
            receipt = self.w3.eth.get_transaction_receipt(HexStr(tx_hash))
        except TransactionNotFound:
            return None
        return receipt["blockNumber"], bytes(receipt["blockHash"])

    def _receipt(self, tx: RelayTransaction) -> dict | None:
        """The receipt of whichever version of `tx` was mined on the canonical chain, or None."""
        for tx_hash in tx.hashes:
            try:
                receipt = self.w3.eth.get_transaction_receipt(HexStr(tx_hash))
            except TransactionNotFound:
                continue
            # A receipt from a block reorganised (or evm_revert'ed) away is not this transaction's fate.
            if self.w3.eth.get_block(receipt["blockNumber"])["hash"] == receipt["blockHash"]:
                return dict(receipt)
        return None

    def _known(self, tx: RelayTransaction) -> bool:
        for tx_hash in tx.hashes:
            try:
                self.w3.eth.get_transaction(HexStr(tx_hash))
                return True
            except TransactionNotFound:
                continue
        return False

    def _replace(self, tx: RelayTransaction) -> None:
        """Send `tx` again at its nonce with both fees raised (at least 12.5%, and over today's base fee)."""
        fresh = fee_fields(self.w3)
        tx.tip = max(tx.tip * FEE_BUMP_NUMERATOR // FEE_BUMP_DENOMINATOR + 1, fresh["maxPriorityFeePerGas"])
        tx.max_fee = max(tx.max_fee * FEE_BUMP_NUMERATOR // FEE_BUMP_DENOMINATOR + 1, fresh["maxFeePerGas"], tx.tip)
        tx.sent_at = time.time()
        self._sign(tx)
        records = self._live_ballots_of(tx)
        for record in records:
            record.tx_hash = tx.hashes[-1]
        acts = self._live_acts_of(tx)
        for act in acts:
            act.tx_hash = tx.hashes[-1]
        self._write(records, tx, acts=acts)
        log.info("relay: replaced the transaction at nonce %s with %s (fee cap %s)", tx.nonce, tx.hashes[-1], tx.max_fee)
        self._broadcast(tx)

    def _live_ballots_of(self, tx: RelayTransaction) -> list[BallotRecord]:
        return [r for r in self.store.ballots(tx.ballot_ids) if r.live and r.relay_nonce == tx.nonce]

    def _live_acts_of(self, tx: RelayTransaction) -> list[ActRecord]:
        if self.relayer.initiatives is None or tx.to != self.relayer.initiatives.address:
            return []
        return [r for r in self.store.acts.acts(tx.ballot_ids) if r.live and r.relay_nonce == tx.nonce]

    def _settle(self, tx: RelayTransaction, receipt: dict | None) -> None:
        """Each ballot of `tx`: counted by it, else whatever the chain says now (counted by someone else,
        refused, or back in the queue); `receipt` None when another transaction took the nonce."""
        acts = self._live_acts_of(tx)
        for act in acts:
            assert self.relayer.initiatives is not None
            self.relayer.initiatives.settle(act, receipt, ours=tx.hashes)
        records = self._live_ballots_of(tx)
        votes = self._votes_in(receipt) if receipt is not None and receipt["status"] == 1 else {}
        for record in records:
            b = record.ballot
            if receipt is not None and votes.get((b.voter, b.proposal_id)) == (b.support, b.reason):
                record.status, record.error, record.counted_by_relay = COUNTED, None, True
                record.tx_hash, record.block_number = receipt["transactionHash"].to_0x_hex(), receipt["blockNumber"]
            else:
                self.resolve(record, ours=tx.hashes)
                if record.status == QUEUED and receipt is not None and receipt["status"] == 1:
                    self._refuse_if_skipped_too_often(record)
                if not record.live:
                    self.store.update([record])  # at once: the voter's later ballots are judged without it
        tx.done = True
        self._rebroadcast_at.pop(tx.nonce, None)
        self._write(records, tx, acts=acts)

    def _refuse_if_skipped_too_often(self, record: BallotRecord) -> None:
        """A ballot skipped on-chain although it passes every simulation is sent at most MAX_ATTEMPTS times."""
        if record.attempts < MAX_ATTEMPTS:
            return
        voter = record.ballot.voter
        why = (
            f"{voter} is a wallet contract that approves this ballot in a simulation but not in a real transaction"
            if self.w3.eth.get_code(to_checksum_address(voter))
            else "for a reason a simulation before sending could not see"
        )
        record.status, record.relay_nonce, record.tx_hash = REFUSED, None, None
        record.error = (
            f"The governor refused this ballot on-chain {record.attempts} times although it passed every check before "
            f"sending: {why}. Vote from the wallet itself."
        )

    def _votes_in(self, receipt: dict) -> dict[tuple[str, int], tuple[int, str]]:
        """{(voter, proposal id): (support, reason)} of the votes the governor recorded in a receipt."""
        votes: dict[tuple[str, int], tuple[int, str]] = {}
        for entry in receipt["logs"]:
            if entry["address"] != self.governor.address or not entry["topics"]:
                continue
            types = VOTE_FIELDS.get(bytes(entry["topics"][0]))
            if types is not None:
                proposal_id, support, _weight, reason, *_ = abi_decode(types, bytes(entry["data"]))
                votes[(to_checksum_address(bytes(entry["topics"][1])[-20:]), proposal_id)] = (support, reason)
        return votes

    # ---- the truth about one ballot ---------------------------------------------------------

    def resolve(self, record: BallotRecord, ours: list[str]) -> None:
        """Set `record` from the chain now: counted (by whichever transaction did it), refused (why), or queued again."""
        b = record.ballot
        functions = self.governor.functions
        if functions.hasVoted(b.proposal_id, b.voter).call():
            vote = self._vote_of(record)
            used = functions.nonces(b.voter).call() > b.nonce
            if vote is not None and used and (vote["support"], vote["reason"]) == (b.support, b.reason):
                record.status, record.error = COUNTED, None
                record.tx_hash, record.block_number = vote["tx_hash"], vote["block_number"]
                record.counted_by_relay = vote["tx_hash"] in ours
            else:
                where = f" in transaction {vote['tx_hash']}" if vote is not None else ""
                record.status = REFUSED
                record.error = f"{b.voter} had already voted on this proposal{where}, so this ballot was not counted."
            return
        earlier = [r for r in self.relayer.earlier_live(b, exclude=record.id)[0] if r.ballot.nonce < b.nonce]
        if self.relayer.would_count([*earlier, record]):
            record.status, record.relay_nonce, record.tx_hash, record.batch_size = QUEUED, None, None, None
        else:
            record.status = REFUSED
            record.error = str(self.relayer.why_refused(b, record.signature, exclude=record.id))

    def _vote_of(self, record: BallotRecord) -> dict | None:
        """The voter's vote on the ballot's proposal, found in the governor's logs since the ballot was accepted."""
        b = record.ballot
        logs = self.w3.eth.get_logs(
            {
                "address": self.governor.address,
                "fromBlock": max(record.accepted_block, self.relayer.commons.manifest.deployment_block),
                "toBlock": "latest",
                "topics": [["0x" + VOTE_CAST.hex(), "0x" + VOTE_CAST_WITH_PARAMS.hex()], "0x" + "00" * 12 + b.voter[2:].lower()],
            }
        )
        for entry in reversed(logs):
            proposal_id, support, _weight, reason, *_ = abi_decode(VOTE_FIELDS[bytes(entry["topics"][0])], bytes(entry["data"]))
            if proposal_id == b.proposal_id:
                return {
                    "support": support,
                    "reason": reason,
                    "tx_hash": entry["transactionHash"].to_0x_hex(),
                    "block_number": entry["blockNumber"],
                }
        return None

    def _write(self, records: list[BallotRecord], tx: RelayTransaction | None = None, acts: Sequence[ActRecord] = ()) -> None:
        self.store.update(records, tx, acts=acts)
        self.relayer.noted(records)
