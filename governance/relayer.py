"""The gasless vote relay: checks members' signed ballots and submits them in batches, paying the gas.

A ballot is checked when it arrives (signature, membership at the snapshot, voting open, not yet
voted, nonce, a simulation) and refused there with a reason, so a bad ballot costs nothing. Good
ballots wait up to `batch_window` seconds for company, then go on-chain together through the
governor's `multicall`. Because a multicall reverts as a whole, each batch is simulated again just
before sending and any ballot that would fail now (the member voted from their wallet meanwhile,
voting closed) is found by bisection and dropped, so one bad ballot never sinks the others.

The relayer keeps its own account nonce (sending back to back without waiting for receipts) and
a watcher thread follows receipts. A ballot is identified by its EIP-712 digest, so the same
ballot sent twice is the same ticket and the same transaction, once.
"""

import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from types import SimpleNamespace

from eth_account.messages import encode_typed_data
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, keccak
from hexbytes import HexBytes
from web3 import Web3

from governance.ballots import Ballot, SUPPORT_NAMES, parse_support, signer_of, typed_data
from governance.chain import GAS_HEADROOM, KeySigner, fee_fields, revert_from, simulate
from governance.client import Commons, when
from governance.errors import BallotRefused, InvalidInput, RateLimited, RelayUnavailable, Reverted
from governance.reverts import PROPOSAL_STATES

ACTIVE = PROPOSAL_STATES.index("active")
# The governor functions the relay calls: (signature, argument types).
CAST_EXTENDED = ("castVoteWithReasonAndParamsBySig(uint256,uint8,address,string,bytes,bytes)",
                 ["uint256", "uint8", "address", "string", "bytes", "bytes"])
CAST_PLAIN = ("castVoteBySig(uint256,uint8,address,bytes)", ["uint256", "uint8", "address", "bytes"])
MULTICALL = ("multicall(bytes[])", ["bytes[]"])
NONCES = ("nonces(address)", ["address"])
MAX_REASON_BYTES = 2000
TICKETS_KEPT = 20_000
MAX_SEND_ATTEMPTS = 3


@dataclass
class RelayOptions:
    """How the relay batches and what it allows (from Settings; see governance/config.py)."""

    batch_window: float = 0.25
    max_batch: int = 50
    min_balance_wei: int = 10**16
    voter_rate_per_minute: int = 10
    client_rate_per_minute: int = 120


@dataclass
class Ticket:
    """One accepted ballot on its way: queued → sent (tx hash) → mined, or dropped (with why)."""

    id: str
    ballot: Ballot
    signature: bytes
    status: str = "queued"
    tx_hash: str | None = None
    block_number: int | None = None
    error: str | None = None
    batch_size: int | None = None
    attempts: int = 0
    sent: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def live(self) -> bool:
        """Still on its way (it holds the voter's next nonce)."""
        return self.status in ("queued", "sent")

    def public(self) -> dict:
        """The ticket as the API returns it (uint256 values as decimal strings)."""
        return {
            "id": self.id, "status": self.status, "tx_hash": self.tx_hash, "block_number": self.block_number,
            "error": self.error, "batch_size": self.batch_size, "proposal_id": str(self.ballot.proposal_id),
            "voter": self.ballot.voter, "support": SUPPORT_NAMES[self.ballot.support], "nonce": str(self.ballot.nonce),
        }


class RateLimiter:
    """At most `limit` events per key in any 60-second window (a sliding log; small and exact)."""

    def __init__(self, limit: int, window: float = 60.0):
        self.limit, self.window = limit, window
        self._events: dict[str, deque] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, what: str) -> None:
        """Count one event for `key`; raises RateLimited (with seconds to wait) past the limit."""
        now = time.monotonic()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                wait = int(events[0] + self.window - now) + 1
                raise RateLimited(f"Too many ballots from {what}: at most {self.limit} a minute. Try again in {wait} s.", wait)
            events.append(now)


class Relayer:
    """Accepts signed ballots and lands them on-chain in batches from its own funded account."""

    def __init__(self, commons: Commons, signer: KeySigner, options: RelayOptions | None = None):
        self.commons = commons
        self.w3: Web3 = commons.w3
        self.signer = signer
        self.options = options or RelayOptions()
        self.domain = commons.ballot_domain()
        self._tickets: OrderedDict[str, Ticket] = OrderedDict()
        self._queue: deque[Ticket] = deque()
        self._inflight: dict[str, list[Ticket]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._nonce: int | None = None
        self._balance, self._balance_checked_at = 0, float("-inf")
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._voter_limit = RateLimiter(self.options.voter_rate_per_minute)
        self._client_limit = RateLimiter(self.options.client_rate_per_minute)

    # ---- lifecycle ----------------------------------------------------------------------

    def start(self) -> "Relayer":
        """Start the batching and receipt-watching threads; returns self."""
        if not self._threads:
            self._stopping.clear()
            for target, name in ((self._batch_loop, "relay-batcher"), (self._receipt_loop, "relay-receipts")):
                thread = threading.Thread(target=target, name=name, daemon=True)
                thread.start()
                self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop the threads (ballots still queued stay queued; nothing is half-sent)."""
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    # ---- reads --------------------------------------------------------------------------

    @property
    def address(self) -> str:
        return self.signer.address

    def balance(self) -> int:
        return self.w3.eth.get_balance(self.address)

    def ticket(self, ticket_id: str) -> Ticket | None:
        with self._lock:
            return self._tickets.get(ticket_id.lower())

    def next_nonce(self, voter: str) -> int:
        """The nonce the voter's next ballot must carry: the governor's, past any of their ballots still on the way."""
        chain_nonce = self.commons.governor.functions.nonces(voter).call()
        with self._lock:
            live = [t.ballot.nonce for t in self._tickets.values() if t.live and t.ballot.voter == voter]
        return max([chain_nonce, *(n + 1 for n in live)])

    def typed_data_for(self, proposal_id: int, support: str | int, voter: str, reason: str = "") -> dict:
        """The EIP-712 ExtendedBallot the voter's wallet should sign (with their next nonce).

        Raises InvalidInput for a malformed voter, support or reason.
        """
        voter = _checksum(voter)
        ballot = Ballot(proposal_id, parse_support(support), voter, self.next_nonce(voter), _checked_reason(reason))
        return typed_data(ballot, self.domain)

    # ---- accepting ballots --------------------------------------------------------------

    def submit(self, ballot: Ballot, signature: bytes, client: str = "anonymous") -> Ticket:
        """Check a signed ballot and queue it; returns its ticket (the existing one for a ballot sent before).

        Raises BallotRefused (why it cannot count), InvalidInput (malformed), RateLimited, or
        RelayUnavailable (the relay cannot pay). Nothing is sent for a refused ballot.
        """
        self._client_limit.hit(client, "this client")
        ballot = Ballot(ballot.proposal_id, parse_support(ballot.support), _checksum(ballot.voter), ballot.nonce,
                        _checked_reason(ballot.reason), ballot.extended)
        ticket_id = ballot_id(ballot, self.domain)
        existing = self.ticket(ticket_id)
        if existing is not None and existing.status != "dropped":
            return existing  # idempotent: the same ballot is one ticket and one transaction
        self._check_funds()
        self._check_counts(ballot, signature)
        # Counted only for ballots proven to be the voter's (the simulation checked the signature),
        # so nobody can use up someone else's allowance by sending forged ballots in their name.
        self._voter_limit.hit(ballot.voter, ballot.voter)
        ticket = Ticket(ticket_id, ballot, signature)
        with self._wake:
            prior = self._tickets.get(ticket_id)
            if prior is not None and prior.status != "dropped":
                return prior
            rival = self._rival(ballot)
            if rival is not None:
                raise BallotRefused("already_pending", f"{ballot.voter} already has a ballot on its way for this proposal "
                                    f"(ticket {rival.id}).")
            self._remember(ticket)
            self._queue.append(ticket)
            self._wake.notify_all()
        return ticket

    def _rival(self, ballot: Ballot) -> Ticket | None:
        """A live ticket of the same voter on the same proposal, if any."""
        return next((t for t in list(self._tickets.values()) if t.live and t.ballot.voter == ballot.voter
                     and t.ballot.proposal_id == ballot.proposal_id), None)

    def _check_funds(self) -> None:
        """RelayUnavailable if the relay cannot pay; the balance is re-read at most once a second."""
        now = time.monotonic()
        if now - self._balance_checked_at > 1.0:
            self._balance, self._balance_checked_at = self.balance(), now
        if self._balance < self.options.min_balance_wei:
            raise RelayUnavailable(f"The relay's account {self.address} has {Web3.from_wei(self._balance, 'ether')} ETH left, "
                                   "too little to pay for votes. Vote from your wallet instead, or ask a steward to top it up.")

    def _check_counts(self, ballot: Ballot, signature: bytes) -> None:
        """Raise BallotRefused unless the ballot would count now.

        One simulation decides (the governor itself checks signature, state, membership at the
        snapshot, double votes and nonce), so a good ballot costs two calls; only a refused one
        pays for the individual checks that say why.
        """
        governor = self.commons.governor
        chain_nonce = int.from_bytes(self._eth_call({"to": governor.address, "data": _encode(NONCES, [ballot.voter])}))
        # The voter's earlier ballots still on their way go first, as they will on-chain (nonce order).
        with self._lock:
            earlier = sorted((t for t in self._tickets.values()
                              if t.live and t.ballot.voter == ballot.voter and t.ballot.nonce >= chain_nonce),
                             key=lambda t: t.ballot.nonce)
        # The governor signs over its own current nonce (the call does not carry one), so a ballot
        # claiming another nonce is not what the member signed for: refuse it before anything else.
        expected = earlier[-1].ballot.nonce + 1 if earlier else chain_nonce
        if ballot.nonce != expected:
            raise BallotRefused("stale_nonce", f"The ballot carries nonce {ballot.nonce} but the next one for {ballot.voter} is "
                                f"{expected}: fetch the ballot again and sign it anew.")
        try:
            self._eth_call(self._batch_tx([*earlier, Ticket("", ballot, signature)]))
        except Reverted as exc:
            raise self._why_refused(ballot, signature, exc) from None

    def _eth_call(self, tx: dict, block: str = "latest") -> bytes:
        """eth_call straight through the provider: web3's middleware adds two requests per call, and
        this is the hot path of accepting a ballot. Raises Reverted with the decoded reason."""
        call = {"to": tx["to"], "data": HexBytes(tx["data"]).to_0x_hex()}
        if "from" in tx:
            call["from"] = tx["from"]
        response = self.w3.provider.make_request("eth_call", [call, block])
        if "error" in response:
            error = response["error"]
            raise revert_from(SimpleNamespace(data=error.get("data"), message=error.get("message"))) from None
        return bytes.fromhex(response["result"][2:])

    def _why_refused(self, ballot: Ballot, signature: bytes, reverted: Reverted) -> BallotRefused:
        """The first check a refused ballot fails, as a BallotRefused in words."""
        g = self.commons.governor.functions
        pid, voter = ballot.proposal_id, ballot.voter
        signer = signer_of(ballot, self.domain, signature)
        if signer != voter:
            return BallotRefused("bad_signature", f"The signature is not {voter}'s: it was made by {signer}, "
                                 "or for different ballot contents.")
        snapshot = g.proposalSnapshot(pid).call()
        if snapshot == 0:
            return BallotRefused("unknown_proposal", f"There is no proposal {pid} in this commons.")
        state = g.state(pid).call()
        if state != ACTIVE:
            opens = f"; it opens on {when(snapshot)}" if PROPOSAL_STATES[state] == "pending" else ""
            return BallotRefused("voting_not_open", f"Voting on this proposal is not open (it is {PROPOSAL_STATES[state]}{opens}).")
        if g.hasVoted(pid, voter).call():
            return BallotRefused("already_voted", f"{voter} has already voted on this proposal.")
        with self._lock:
            rival = self._rival(ballot)
        if rival is not None:
            return BallotRefused("already_pending", f"{voter} already has a ballot on its way for this proposal (ticket {rival.id}).")
        if g.getVotes(voter, snapshot).call() == 0:
            return BallotRefused("not_member", f"{voter} had no vote when voting on this proposal began ({when(snapshot)}): "
                                 "not a member then, or their vote was delegated to another member.")
        return BallotRefused("would_revert", f"The governor would refuse this ballot: {reverted.reason}.")

    def _remember(self, ticket: Ticket) -> None:
        """Keep the ticket (evicting the oldest finished ones past TICKETS_KEPT). Caller holds the lock."""
        self._tickets[ticket.id] = ticket
        while len(self._tickets) > TICKETS_KEPT:
            oldest_id, oldest = next(iter(self._tickets.items()))
            if oldest.live:
                break
            del self._tickets[oldest_id]

    # ---- building and simulating batches -------------------------------------------------

    def _call_data(self, ticket: Ticket) -> bytes:
        """The governor call for one ballot (what Commons.plan_vote_by_signature encodes, without web3's
        ABI lookup, which costs milliseconds per call on the hot path)."""
        b = ticket.ballot
        if b.extended:
            return _encode(CAST_EXTENDED, [b.proposal_id, b.support, b.voter, b.reason, b"", ticket.signature])
        return _encode(CAST_PLAIN, [b.proposal_id, b.support, b.voter, ticket.signature])

    def _batch_tx(self, tickets: list[Ticket]) -> dict:
        """One transaction for the tickets: the lone call itself, or a multicall of them."""
        calls = [self._call_data(t) for t in tickets]
        data = calls[0] if len(calls) == 1 else _encode(MULTICALL, [calls])
        return {"from": self.address, "to": self.commons.manifest.governor, "data": HexBytes(data), "value": 0}

    def _simulate(self, tickets: list[Ticket]) -> None:
        """Raise Reverted if sending these tickets now (after whatever the relay has in flight) would fail."""
        simulate(self.w3, self._batch_tx(tickets), "pending")

    def _first_failing(self, tickets: list[Ticket]) -> int:
        """The index of the first ticket whose prefix fails to simulate (bisection; the whole list fails)."""
        low, high = 0, len(tickets) - 1  # the prefix up to `high` fails; find the least such index
        while low < high:
            middle = (low + high) // 2
            try:
                self._simulate(tickets[: middle + 1])
                low = middle + 1
            except Reverted:
                high = middle
        return low

    def _viable(self, tickets: list[Ticket]) -> list[Ticket]:
        """The tickets minus any that would fail now; the dropped ones are marked with the reason."""
        tickets = list(tickets)
        while tickets:
            try:
                self._simulate(tickets)
                return tickets
            except Reverted:
                bad = tickets.pop(self._first_failing(tickets))
                try:
                    self._simulate([bad])
                    why = "it conflicted with another ballot in its batch"
                except Reverted as exc:
                    why = exc.reason
                self._finish(bad, "dropped", error=f"The governor refused this ballot: {why}.")
        return tickets

    # ---- the batching thread -------------------------------------------------------------

    def _take_batch(self) -> list[Ticket]:
        """Wait for a ticket, then for company (up to the window or a full batch); returns the batch."""
        with self._wake:
            while not self._queue and not self._stopping.is_set():
                self._wake.wait(timeout=0.5)
            if self._stopping.is_set():
                return []
            deadline = time.monotonic() + self.options.batch_window
            while len(self._queue) < self.options.max_batch and not self._stopping.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._wake.wait(timeout=left)
            return [self._queue.popleft() for _ in range(min(len(self._queue), self.options.max_batch))]

    def _batch_loop(self) -> None:
        while not self._stopping.is_set():
            batch = self._take_batch()
            if batch:
                try:
                    self._send(batch)
                except Exception as exc:  # keep relaying; the tickets say what went wrong
                    for ticket in batch:
                        if ticket.status == "queued":
                            self._finish(ticket, "failed", error=f"The relay could not send this ballot: {exc}")

    def _send(self, batch: list[Ticket]) -> None:
        """Simulate, drop what would fail, and send the rest as one transaction from the relay's own nonce."""
        tickets = self._viable(batch)
        if not tickets:
            return
        tx = self._batch_tx(tickets)
        tx["gas"] = int(self.w3.eth.estimate_gas(tx, "pending") * GAS_HEADROOM)
        tx["chainId"] = self.commons.manifest.chain_id
        tx.update(fee_fields(self.w3))
        tx_hash = self._send_with_nonce(tx)
        with self._lock:
            self._inflight[tx_hash] = tickets
            for ticket in tickets:
                ticket.status, ticket.tx_hash, ticket.batch_size = "sent", tx_hash, len(tickets)
                ticket.attempts += 1
                ticket.sent.set()

    def _send_with_nonce(self, tx: dict) -> str:
        """Sign and send with the relay's own nonce counter, resynchronising once if the node disagrees."""
        for attempt in range(2):
            if self._nonce is None or attempt:
                self._nonce = self.w3.eth.get_transaction_count(self.address, "pending")
            tx["nonce"] = self._nonce
            try:
                tx_hash = self.signer.send(self.w3, {k: v for k, v in tx.items() if k != "from"})
            except ValueError:  # nonce too low / already known: another sender used ours
                if attempt:
                    raise
                continue
            self._nonce += 1
            return tx_hash.to_0x_hex()
        raise AssertionError("unreachable")

    # ---- the receipt thread --------------------------------------------------------------

    def _receipt_loop(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                pending = list(self._inflight.items())
            for tx_hash, tickets in pending:
                try:
                    receipt = self.w3.eth.get_transaction_receipt(tx_hash)
                    # A receipt from a block reorganised away (or evm_revert'ed) is not this transaction's fate yet.
                    if self.w3.eth.get_block(receipt["blockNumber"])["hash"] != receipt["blockHash"]:
                        continue
                except Exception:  # not mined yet (web3 raises TransactionNotFound) or a node hiccup
                    continue
                with self._lock:
                    self._inflight.pop(tx_hash, None)
                if receipt["status"] == 1:
                    for ticket in tickets:
                        self._finish(ticket, "mined", block_number=receipt["blockNumber"])
                else:
                    self._retry(tickets)
            self._stopping.wait(0.05)

    def _retry(self, tickets: list[Ticket]) -> None:
        """A batch failed on-chain (state moved under it): queue its ballots again; the next simulation sorts them."""
        with self._wake:
            for ticket in tickets:
                if ticket.attempts >= MAX_SEND_ATTEMPTS:
                    ticket.status, ticket.error = "failed", "The ballot's transaction failed on-chain repeatedly."
                else:
                    ticket.status = "queued"
                    self._queue.appendleft(ticket)
            self._wake.notify_all()

    def _finish(self, ticket: Ticket, status: str, **facts) -> None:
        with self._lock:
            ticket.status = status
            for name, value in facts.items():
                setattr(ticket, name, value)
        ticket.sent.set()

    def status(self) -> dict:
        """What the relay is doing: its account, balance, and ballots queued or in flight."""
        with self._lock:
            queued, inflight = len(self._queue), sum(len(t) for t in self._inflight.values())
        balance = self.balance()
        return {"address": self.address, "balance_wei": str(balance), "min_balance_wei": str(self.options.min_balance_wei),
                "available": balance >= self.options.min_balance_wei,
                "queued": queued, "in_flight": inflight, "batch_window_seconds": self.options.batch_window,
                "max_batch": self.options.max_batch}


def ballot_id(ballot: Ballot, ballot_domain: dict) -> str:
    """A ballot's identity: its EIP-712 digest (the same for the same signed contents, whatever the signature bytes)."""
    signable = encode_typed_data(full_message=typed_data(ballot, ballot_domain))
    return "0x" + keccak(b"\x19\x01" + signable.header + signable.body).hex()


def parse_signature(text: str) -> bytes:
    """65 signature bytes from 0x-hex; InvalidInput otherwise."""
    try:
        signature = bytes.fromhex(text.removeprefix("0x"))
    except (ValueError, AttributeError):
        raise InvalidInput("The signature must be hex (0x followed by 130 hex digits).") from None
    if len(signature) != 65:
        raise InvalidInput(f"The signature must be 65 bytes, not {len(signature)}.")
    return signature


def _encode(function: tuple[str, list[str]], args: list) -> bytes:
    signature, types = function
    return function_signature_to_4byte_selector(signature) + abi_encode(types, args)


def _checksum(address: str) -> str:
    if not isinstance(address, str) or not Web3.is_address(address):
        raise InvalidInput(f"{address!r} is not an Ethereum address.")
    return Web3.to_checksum_address(address)


def _checked_reason(reason: str) -> str:
    if len(reason.encode()) > MAX_REASON_BYTES:
        raise InvalidInput(f"A reason may be at most {MAX_REASON_BYTES} bytes long.")
    return reason
