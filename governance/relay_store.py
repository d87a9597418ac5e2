"""What the vote relay keeps about each ballot and each of its transactions, and the interface of the store that keeps it.

The relay writes a ballot to its store before it answers 202, and each of its transactions before
broadcasting it, so a restarted process, or another replica on the same database, carries on from
the store alone. The SQL implementation is `api/relay_store.py`; `governance` knows only this interface.

A ballot's status is the truth about it: `queued` (accepted, waiting for a batch), `sent` (in a relay
transaction not yet mined), `counted` (with the transaction that counted it, the relay's or anyone
else's) or `refused` (with the reason in words).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from governance.ballots import Ballot
from governance.vocabulary import SUPPORT_NAMES

QUEUED, SENT, COUNTED, REFUSED = "queued", "sent", "counted", "refused"
LIVE = (QUEUED, SENT)
# An initiative act (a signed draft, revision, withdrawal or support) is `done` once the chain holds it.
DONE = "done"


@dataclass
class BallotRecord:
    """One accepted ballot and where it is."""

    id: str  # the ballot's EIP-712 digest: the same signed contents are the same ballot
    ballot: Ballot
    signature: bytes
    status: str = QUEUED
    accepted_at: float = 0.0  # wall-clock seconds, comparable across replicas
    accepted_block: int = 0  # the chain head when it was accepted: where to look for whoever counted it
    relay_nonce: int | None = None  # the relay transaction carrying it, by the relay account's nonce
    tx_hash: str | None = None  # the relay's transaction while sent; once counted, the one that counted it
    block_number: int | None = None
    counted_by_relay: bool | None = None
    error: str | None = None
    batch_size: int | None = None
    attempts: int = 0  # relay transactions it has been sent in

    @property
    def live(self) -> bool:
        """Still on its way (it holds the voter's next nonce)."""
        return self.status in LIVE

    def public(self) -> dict:
        """The ballot as the API returns it (uint256 values as decimal strings)."""
        return {
            "id": self.id,
            "status": self.status,
            "tx_hash": self.tx_hash,
            "block_number": self.block_number,
            "counted_by_relay": self.counted_by_relay,
            "error": self.error,
            "batch_size": self.batch_size,
            "proposal_id": str(self.ballot.proposal_id),
            "voter": self.ballot.voter,
            "support": SUPPORT_NAMES[self.ballot.support],
            "nonce": str(self.ballot.nonce),
        }


@dataclass
class RelayTransaction:
    """One of the relay's transactions, by its account nonce; replaced at that nonce when stuck or dropped."""

    sender: str
    nonce: int
    to: str
    data: str  # 0x-hex calldata
    gas: int
    max_fee: int
    tip: int
    raw: str  # the latest signed transaction, 0x-hex: broadcast again if the node forgets it
    ballot_ids: list[str]
    sent_at: float  # wall-clock seconds of the latest broadcast
    hashes: list[str] = field(default_factory=list)  # every version at this nonce, oldest first; any may be mined
    done: bool = False


@dataclass
class ActRecord:
    """One signed initiative act the relay accepted: a member's draft, revision, withdrawal or support, and where it is.

    `data` is the whole call to the Initiatives contract (draftBySig, reviseBySig, withdrawBySig or postSupport), so
    the sender needs nothing else; `slot` is the member's free action it uses that UTC `day` (None: none, refused)."""

    id: str  # the EIP-712 digest the member signed: the same signed act is one ticket
    kind: str  # draft, revise, withdraw, support; submit (the relay's own, once the support is enough)
    member: str  # the author or the supporter
    initiative: int | None  # the initiative acted on (a draft's own, once known)
    data: bytes
    signature: bytes
    day: str  # YYYY-MM-DD (UTC) of acceptance
    slot: int | None = None
    status: str = QUEUED
    accepted_at: float = 0.0
    accepted_block: int = 0
    relay_nonce: int | None = None
    tx_hash: str | None = None  # the relay's transaction while sent; once done, the one that did it
    block_number: int | None = None
    by_relay: bool | None = None
    error: str | None = None
    attempts: int = 0

    @property
    def live(self) -> bool:
        return self.status in LIVE

    def public(self) -> dict:
        """The act as the API returns it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "member": self.member,
            "initiative": self.initiative,
            "status": self.status,
            "tx_hash": self.tx_hash,
            "block_number": self.block_number,
            "by_relay": self.by_relay,
            "error": self.error,
        }


class ActStore(Protocol):
    """Durable initiative acts and each member's free actions per day, shared by every API process on one database."""

    def add(self, record: ActRecord, allowance: int | None) -> ActRecord | None:
        """Keep a newly accepted act in one of its member's `allowance` free slots for its day (None: the relay's own
        act, in no slot); returns what is stored under its id (an earlier copy wins, using no slot), or None when
        every slot of the day is used."""
        ...

    def get(self, act_id: str) -> ActRecord | None: ...

    def acts(self, act_ids: list[str]) -> list[ActRecord]: ...

    def queued(self, limit: int) -> list[ActRecord]:
        """Up to `limit` queued acts, oldest first."""
        ...

    def counts(self) -> dict[str, int]:
        """How many acts are in each status."""
        ...

    def done_since(self, block_number: int) -> list[ActRecord]:
        """Acts done in block `block_number` or later (a reorganisation may yet undo them)."""
        ...

    def used(self, member: str, day: str) -> int:
        """How many free actions `member` has used on `day`."""
        ...

    def update(self, records: Sequence[ActRecord]) -> None:
        """Write the records' status fields, `slot` included (None: a refused act gave its free action back)."""
        ...


class RelayStore(Protocol):
    """Durable ballots and relay transactions, shared by every API process on one database."""

    acts: ActStore

    def add(self, record: BallotRecord) -> BallotRecord:
        """Keep a newly accepted ballot; returns what is stored under its id (an earlier live copy wins)."""
        ...

    def get(self, ballot_id: str) -> BallotRecord | None: ...

    def ballots(self, ballot_ids: list[str]) -> list[BallotRecord]:
        """The stored ballots with these ids, in acceptance order."""
        ...

    def live_of_voter(self, voter: str) -> list[BallotRecord]:
        """The voter's ballots still queued or sent, in nonce order."""
        ...

    def queued(self, limit: int) -> list[BallotRecord]:
        """Up to `limit` queued ballots, oldest first."""
        ...

    def in_flight_voters(self) -> set[str]:
        """Voters with a ballot in a relay transaction not yet mined."""
        ...

    def counted_since(self, block_number: int) -> list[BallotRecord]:
        """Ballots counted in block `block_number` or later (a reorganisation may yet take them away)."""
        ...

    def update(
        self, records: list[BallotRecord], transaction: RelayTransaction | None = None, acts: Sequence[ActRecord] = ()
    ) -> None:
        """Write the records' (and `acts`') status fields and the transaction (if any), all in one database
        transaction."""
        ...

    def pending_transactions(self, sender: str) -> list[RelayTransaction]:
        """`sender`'s transactions not yet settled, in nonce order."""
        ...

    def counts(self) -> dict[str, int]:
        """How many ballots are in each status."""
        ...

    def acquire_sender(self, sender: str) -> bool:
        """Whether this process may send for `sender` now: true for exactly one process per database."""
        ...

    def release_sender(self) -> None: ...
