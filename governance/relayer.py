"""The gasless vote relay: checks members' signed ballots, keeps them, and lands them on-chain, paying the gas.

A ballot is checked when it arrives (signature, membership at the snapshot, voting open, not yet
voted, nonce, a simulation) and refused there with a reason, so a bad ballot costs nothing. A good
ballot is written to the relay's store (see `governance/relay_store.py`) before the relay answers,
so a restart or another replica carries on with it. `governance/relay_sender.py` sends the stored
ballots in batches through the `VoteBatcher` contract, which casts each ballot on its own: one that
went bad meanwhile (copied out of the mempool and counted by someone else, voting closed) is
skipped on-chain and never sinks the others.

A ballot is identified by its EIP-712 digest, so the same ballot sent twice, however the copies
race, is the same ticket and is counted once.
"""

import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from types import SimpleNamespace

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account.messages import encode_typed_data
from eth_typing import ChecksumAddress
from eth_utils import function_signature_to_4byte_selector, keccak
from web3 import Web3
from web3.types import RPCEndpoint

from governance.actions import text_bytes
from governance.ballots import Ballot, signer_of, typed_data
from governance.chain import KeySigner, revert_from
from governance.client import Commons, when
from governance.errors import BallotRefused, ConfigurationError, InvalidInput, RateLimited, RelayUnavailable, Reverted
from governance.initiative_relay import InitiativeRelay
from governance.relay_sender import RelaySender
from governance.relay_store import REFUSED, BallotRecord, RelayStore
from governance.vocabulary import PROPOSAL_STATES, parse_support

ACTIVE = PROPOSAL_STATES.index("active")
# The contract functions the relay calls: (signature, argument types).
CAST_EXTENDED = (
    "castVoteWithReasonAndParamsBySig(uint256,uint8,address,string,bytes,bytes)",
    ["uint256", "uint8", "address", "string", "bytes", "bytes"],
)
CAST_PLAIN = ("castVoteBySig(uint256,uint8,address,bytes)", ["uint256", "uint8", "address", "bytes"])
CAST_VOTES = ("castVotes(bytes[])", ["bytes[]"])
NONCES = ("nonces(address)", ["address"])
MAX_REASON_BYTES = 2000
RECENT_KEPT = 20_000


@dataclass
class RelayOptions:
    """How the relay batches, replaces and what it allows (from Settings; see governance/config.py)."""

    batch_window: float = 0.25
    max_batch: int = 50
    min_balance_wei: int = 10**16
    voter_rate_per_minute: int = 10
    client_rate_per_minute: int = 120
    # A relay transaction not mined after this many seconds is sent again at the same nonce with higher fees.
    replace_after: float = 30.0
    # How often the sending process looks at its queue and its transactions.
    poll_seconds: float = 0.05
    # Initiative acts (drafts, revisions, withdrawals, supports) the relay pays for per member and UTC day.
    initiative_actions_per_day: int = 5
    # Whether the relay puts an initiative to a vote (and pays for it) once a support it sent makes it enough.
    submit_initiatives: bool = True


class RateLimiter:
    """At most `limit` events per key in any 60-second window (a sliding log; small and exact)."""

    def __init__(self, limit: int, window: float = 60.0):
        self.limit, self.window = limit, window
        self._events: dict[str, deque] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, what: str, token: str | None = None) -> None:
        """Count one event for `key` (an event with a `token` already counted in the window counts once);
        raises RateLimited (with seconds to wait) past the limit."""
        now = time.monotonic()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0][0] <= now - self.window:
                events.popleft()
            if token is not None and any(seen == token for _, seen in events):
                return
            if len(events) >= self.limit:
                wait = int(events[0][0] + self.window - now) + 1
                raise RateLimited(f"Too many ballots from {what}: at most {self.limit} a minute. Try again in {wait} s.", wait)
            events.append((now, token))


class Relayer:
    """Accepts signed ballots into its store and lands them on-chain in batches from its own funded account."""

    def __init__(self, commons: Commons, signer: KeySigner, store: RelayStore, options: RelayOptions | None = None):
        """Raises ConfigurationError for a commons deployed without a VoteBatcher."""
        if not commons.manifest.vote_batcher:
            raise ConfigurationError(
                "This commons was deployed without a VoteBatcher contract, which the relay sends ballots through; "
                "redeploy it with this version of `commons deploy`."
            )
        self.commons = commons
        self.w3: Web3 = commons.w3
        self.signer = signer
        self.store = store
        self.options = options or RelayOptions()
        self.domain = commons.ballot_domain()
        self.batcher = Web3.to_checksum_address(commons.manifest.vote_batcher)
        self._recent: OrderedDict[str, BallotRecord] = OrderedDict()  # what this process's sender last wrote
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._balance, self._balance_checked_at = 0, float("-inf")
        self._voter_limit = RateLimiter(self.options.voter_rate_per_minute)
        self._client_limit = RateLimiter(self.options.client_rate_per_minute)
        # Members' initiative acts go through the same store and sender (a commons deployed before initiatives has none).
        self.initiatives = InitiativeRelay(self) if commons.manifest.initiatives else None
        self.sender = RelaySender(self)

    # ---- lifecycle ----------------------------------------------------------------------

    def start(self) -> "Relayer":
        """Start the sending thread (it sends only while this process holds the store's sender claim); returns self."""
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self.sender.run, args=(self._stopping,), name="relay-sender", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sending (what is stored stays stored; another process or a restart carries on)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.store.release_sender()

    # ---- reads --------------------------------------------------------------------------

    @property
    def address(self) -> ChecksumAddress:
        return self.signer.address

    def balance(self) -> int:
        return self.w3.eth.get_balance(self.address)

    def ticket(self, ticket_id: str) -> BallotRecord | None:
        """The stored ballot with this id (its EIP-712 digest), or None."""
        return self.store.get(ticket_id.lower())

    def recent(self, ticket_id: str) -> BallotRecord | None:
        """The ballot as this process's sender last wrote it (no database read), or None."""
        with self._lock:
            return self._recent.get(ticket_id)

    def noted(self, records: list[BallotRecord]) -> None:
        """Remember what the sender just wrote, for answers that wait on it."""
        with self._lock:
            for record in records:
                self._recent[record.id] = record
                self._recent.move_to_end(record.id)
            while len(self._recent) > RECENT_KEPT:
                self._recent.popitem(last=False)

    def next_nonce(self, voter: str) -> int:
        """The nonce the voter's next ballot must carry: the governor's, past any of their ballots still on the way."""
        chain_nonce = self.commons.governor.functions.nonces(voter).call()
        return max([chain_nonce, *(r.ballot.nonce + 1 for r in self.store.live_of_voter(voter))])

    def typed_data_for(self, proposal_id: int, support: str | int, voter: str, reason: str = "") -> dict:
        """The EIP-712 ExtendedBallot the voter's wallet should sign (with their next nonce).

        Raises InvalidInput for a malformed voter, support or reason.
        """
        voter = _checksum(voter)
        ballot = Ballot(proposal_id, parse_support(support), voter, self.next_nonce(voter), _checked_reason(reason))
        return typed_data(ballot, self.domain)

    def status(self) -> dict:
        """What the relay is doing: its account, balance, ballots and initiative acts by status, and whether this process
        sends."""
        counts = self.store.counts()
        balance = self.balance()
        return {
            "address": self.address,
            "balance_wei": str(balance),
            "min_balance_wei": str(self.options.min_balance_wei),
            "available": balance >= self.options.min_balance_wei,
            "queued": counts.get("queued", 0),
            "in_flight": counts.get("sent", 0),
            "counted": counts.get("counted", 0),
            "refused": counts.get("refused", 0),
            "sending_here": self.sender.holding,
            "last_error": self.sender.last_error,
            "initiative_acts": self.store.acts.counts() if self.initiatives is not None else {},
            "initiative_actions_per_day": self.options.initiative_actions_per_day,
            "batch_window_seconds": self.options.batch_window,
            "max_batch": self.options.max_batch,
        }

    # ---- accepting ballots --------------------------------------------------------------

    def submit(self, ballot: Ballot, signature: bytes, client: str = "anonymous") -> BallotRecord:
        """Check a signed ballot and store it; returns its ticket (the stored one for a ballot sent before).

        Raises BallotRefused (why it cannot count), InvalidInput (malformed), RateLimited, or
        RelayUnavailable (the relay cannot pay). Nothing is stored or sent for a refused ballot.
        """
        self._client_limit.hit(client, "this client")
        ballot = Ballot(
            ballot.proposal_id,
            parse_support(ballot.support),
            _checksum(ballot.voter),
            ballot.nonce,
            _checked_reason(ballot.reason),
            ballot.extended,
        )
        ticket_id = ballot_id(ballot, self.domain)
        existing = self.store.get(ticket_id)
        if existing is not None and existing.status != REFUSED:
            return existing  # idempotent: the same ballot is one ticket and one vote
        self._check_funds()
        try:
            self._check_counts(ballot, signature, ticket_id)
        except BallotRefused:
            # A copy of this very ballot accepted meanwhile (by this process or another) makes the checks
            # fail for this one (its nonce looks taken); the copy's ticket is this ballot's answer.
            existing = self.store.get(ticket_id)
            if existing is not None and existing.status != REFUSED:
                return existing
            raise
        # Counted only for ballots proven to be the voter's (the simulation checked the signature),
        # so nobody can use up someone else's allowance by sending forged ballots in their name.
        # Copies of one ballot racing in are one ballot.
        self._voter_limit.hit(ballot.voter, ballot.voter, token=ticket_id)
        record = BallotRecord(ticket_id, ballot, signature, accepted_at=time.time(), accepted_block=self.w3.eth.block_number)
        return self.store.add(record)

    def _check_funds(self) -> None:
        """RelayUnavailable if the relay cannot pay; the balance is re-read at most once a second."""
        now = time.monotonic()
        if now - self._balance_checked_at > 1.0:
            self._balance, self._balance_checked_at = self.balance(), now
        if self._balance < self.options.min_balance_wei:
            raise RelayUnavailable(
                f"The relay's account {self.address} has {Web3.from_wei(self._balance, 'ether')} ETH left, "
                "too little to pay for votes. Vote from your wallet instead, or ask a steward to top it up."
            )

    def earlier_live(self, ballot: Ballot, exclude: str | None = None) -> tuple[list[BallotRecord], int]:
        """The voter's other ballots still on their way whose nonce is not yet used (in nonce order), and the
        governor's nonce for the voter now."""
        chain_nonce = int.from_bytes(self.eth_call(self.commons.governor.address, _encode(NONCES, [ballot.voter])))
        live = self.store.live_of_voter(ballot.voter)
        return [r for r in live if r.id != exclude and r.ballot.nonce >= chain_nonce], chain_nonce

    def _check_counts(self, ballot: Ballot, signature: bytes, ticket_id: str) -> None:
        """Raise BallotRefused unless the ballot would count now.

        One simulation decides (the governor itself checks signature, state, membership at the
        snapshot, double votes and nonce), so a good ballot costs two calls; only a refused one
        pays for the individual checks that say why.
        """
        earlier, chain_nonce = self.earlier_live(ballot, exclude=ticket_id)
        # The governor signs over its own current nonce (the call does not carry one), so a ballot
        # claiming another nonce is not what the member signed for: refuse it before anything else.
        expected = earlier[-1].ballot.nonce + 1 if earlier else chain_nonce
        if ballot.nonce != expected:
            raise BallotRefused(
                "stale_nonce",
                f"The ballot carries nonce {ballot.nonce} but the next one for {ballot.voter} is "
                f"{expected}: fetch the ballot again and sign it anew.",
            )
        if not self.would_count([*earlier, BallotRecord(ticket_id, ballot, signature)]):
            raise self.why_refused(ballot, signature, exclude=ticket_id)

    def would_count(self, records: list[BallotRecord]) -> bool:
        """Whether the last of `records` counts if all are cast in this order now (a simulation)."""
        counted = self.simulate_batch(records)
        return counted is not None and bool(counted >> (len(records) - 1) & 1)

    def simulate_batch(self, records: list[BallotRecord]) -> int | None:
        """The VoteBatcher's answer to casting `records` now: bit i set if ballot i would count; None if it reverts."""
        try:
            output = self.eth_call(self.batcher, self.batch_data(records))
        except Reverted:
            return None
        return abi_decode(["uint256"], output)[0]

    def eth_call(self, to: str, data: bytes, block: str = "latest") -> bytes:
        """eth_call from the relay's account, straight through the provider (web3's middleware adds two
        requests per call, and this is the hot path of accepting a ballot). Raises Reverted with the reason."""
        call = {"from": self.address, "to": to, "data": "0x" + data.hex()}
        response = self.w3.provider.make_request(RPCEndpoint("eth_call"), [call, block])
        if "error" in response:
            error = response["error"]
            raise revert_from(SimpleNamespace(data=error.get("data"), message=error.get("message"))) from None
        return bytes.fromhex(response["result"][2:])

    def why_refused(self, ballot: Ballot, signature: bytes, exclude: str | None = None) -> BallotRefused:
        """The first check a ballot that would not count fails, as a BallotRefused in words."""
        g = self.commons.governor.functions
        pid, voter = ballot.proposal_id, ballot.voter
        signer = signer_of(ballot, self.domain, signature)
        if signer != voter:
            return BallotRefused(
                "bad_signature", f"The signature is not {voter}'s: it was made by {signer}, or for different ballot contents."
            )
        snapshot = g.proposalSnapshot(pid).call()
        if snapshot == 0:
            return BallotRefused("unknown_proposal", f"There is no proposal {pid} in this commons.")
        state = g.state(pid).call()
        if state != ACTIVE:
            opens = f"; it opens on {when(snapshot)}" if PROPOSAL_STATES[state] == "pending" else ""
            return BallotRefused(
                "voting_not_open", f"Voting on this proposal is not open (it is {PROPOSAL_STATES[state]}{opens})."
            )
        if g.hasVoted(pid, voter).call():
            return BallotRefused("already_voted", f"{voter} has already voted on this proposal.")
        rival = self.rival(ballot, exclude)
        if rival is not None:
            return BallotRefused(
                "already_pending", f"{voter} already has a ballot on its way for this proposal (ticket {rival.id})."
            )
        if g.getVotes(voter, snapshot).call() == 0:
            return BallotRefused(
                "not_member",
                f"{voter} had no vote when voting on this proposal began ({when(snapshot)}): "
                "not a member then, or their vote was delegated to another member.",
            )
        earlier, chain_nonce = self.earlier_live(ballot, exclude)
        if ballot.nonce != chain_nonce and not [r for r in earlier if r.ballot.nonce < ballot.nonce]:
            # The governor signs over its own nonce for the voter: this ballot can never count as signed.
            why = (
                f"an earlier ballot of {voter}'s (nonce {chain_nonce}) was not counted, so the governor will never reach "
                f"the nonce it was signed with ({ballot.nonce})"
                if ballot.nonce > chain_nonce
                else f"its nonce ({ballot.nonce}) was used by another ballot of {voter}'s"
            )
            return BallotRefused("stale_nonce", f"This ballot cannot count: {why}. Vote on this proposal again (sign it anew).")
        try:
            self.eth_call(self.commons.governor.address, self.call_data(BallotRecord("", ballot, signature)))
        except Reverted as exc:
            return BallotRefused("would_revert", f"The governor would refuse this ballot: {exc.reason}.")
        return BallotRefused("would_revert", "The governor would refuse this ballot after the voter's earlier ballots.")

    def rival(self, ballot: Ballot, exclude: str | None = None) -> BallotRecord | None:
        """Another live ballot of the same voter on the same proposal, if any."""
        return next(
            (r for r in self.store.live_of_voter(ballot.voter) if r.id != exclude and r.ballot.proposal_id == ballot.proposal_id),
            None,
        )

    # ---- encoding -------------------------------------------------------------------------

    def call_data(self, record: BallotRecord) -> bytes:
        """The governor call for one ballot (what Commons.plan_vote_by_signature encodes, without web3's
        ABI lookup, which costs milliseconds per call on the hot path)."""
        b = record.ballot
        if b.extended:
            return _encode(CAST_EXTENDED, [b.proposal_id, b.support, b.voter, b.reason, b"", record.signature])
        return _encode(CAST_PLAIN, [b.proposal_id, b.support, b.voter, record.signature])

    def batch_data(self, records: list[BallotRecord]) -> bytes:
        """The VoteBatcher call casting `records` in order, each on its own."""
        return _encode(CAST_VOTES, [[self.call_data(r) for r in records]])


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
    if len(text_bytes(reason, "reason")) > MAX_REASON_BYTES:
        raise InvalidInput(f"A reason may be at most {MAX_REASON_BYTES} bytes long.")
    return reason
