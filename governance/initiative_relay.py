"""The relay's side of initiatives: members' signed drafts, revisions, withdrawals and supports, checked, kept within
each member's free actions of the day, and their fate read back from the chain.

An act is checked when it arrives (the signature is the member's, the member is a member now and not a wallet
contract, and a simulation of the call the relay would send passes) and refused there with a reason, so a bad act
costs nothing. A good one takes one of its member's free actions of the UTC day (`initiative_actions_per_day`) and
is written to the relay's store before the relay answers, so a restart or another replica sends it; the relay's
sender (`governance/relay_sender.py`) sends each in a transaction of its own, at the relay account's nonces. Once a
support it sent gives an initiative the support it needs, the relay puts it to a vote (`submit_initiatives`).

An act is identified by the EIP-712 digest its member signed, so copies are one ticket. Copies sent to the chain by
anyone else do the member's act, never the copier's: the signature names the author, and its nonce is used once.
"""

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from eth_account.messages import encode_typed_data
from eth_utils import is_address, keccak, to_bytes, to_checksum_address
from web3.logs import DISCARD

from governance.actions import Action, text_bytes
from governance.client import when
from governance.errors import BallotRefused, InvalidInput, RateLimited, Reverted
from governance.initiatives import (
    AuthorSignature,
    Initiatives,
    author_typed_data,
    proposal_message,
    signer_of,
    support_domain,
    support_typed_data,
)
from governance.relay_store import DONE, QUEUED, REFUSED, ActRecord

if TYPE_CHECKING:
    from governance.relayer import Relayer

KINDS = ("draft", "revise", "withdraw", "support")
WHAT = {"draft": "draft", "revise": "revision", "withdraw": "withdrawal", "support": "support", "submit": "submission"}
# How long a signed draft, revision or withdrawal may wait to be sent: long enough for a queue, short enough that a
# signature found later is useless.
DEADLINE_SECONDS = 3600
DAY_SECONDS = 24 * 3600
# A signed act whose deadline (a support's expiry) is nearer than this is refused when it arrives: it would pass a
# simulation on the latest block and revert once mined later, at the relay's cost.
LAPSE_MARGIN_SECONDS = 600
# The most text and action calldata (bytes) a relayed draft or revision carries: each free action costs the relay at
# most about 0.4 M gas of calldata and event data (a longer text goes from the member's wallet).
MAX_RELAYED_BYTES = 16 * 1024
# An act the contract refuses in the relay's own mined transactions although every simulation passed is refused
# after this many tries.
MAX_ATTEMPTS = 3


@dataclass
class SignedAct:
    """What a member signed and sends to the relay: `deadline` is the support's expiry for a support."""

    kind: str
    member: str
    signature: bytes
    initiative: int = 0
    nonce: int = 0
    deadline: int = 0
    proposal: list[Action] = field(default_factory=list)
    text: str = ""


def digest(typed: dict) -> str:
    """The EIP-712 digest of `typed`: an act's identity."""
    signable = encode_typed_data(full_message=typed)
    return "0x" + keccak(b"\x19\x01" + signable.header + signable.body).hex()


def next_midnight(now: float) -> datetime:
    """The next 00:00 UTC after `now`, when members' free actions renew."""
    return datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def utc_day(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")


class InitiativeRelay:
    """Accepts members' signed initiative acts into the relay's store and reads their fate from the chain."""

    def __init__(self, relayer: "Relayer"):
        self.relayer = relayer
        self.commons = relayer.commons
        self.initiatives = Initiatives(relayer.commons)
        self.contract = self.initiatives.contract
        self.address = self.contract.address
        self.domain = support_domain(relayer.commons)
        self.store = relayer.store.acts
        self.allowance = relayer.options.initiative_actions_per_day
        self.submit_when_ready = relayer.options.submit_initiatives
        # Wall-clock seconds, which decide the UTC day of a member's free actions (replicas share it; tests set it).
        self.clock: Callable[[], float] = time.time

    # ---- what members sign --------------------------------------------------------------

    def typed_data(
        self,
        kind: str,
        member: str,
        initiative: int = 0,
        proposal: list[Action] | None = None,
        text: str = "",
        days: int = 14,
        revision: int | None = None,
    ) -> dict:
        """The EIP-712 typed data `member` signs for the relay to send `kind`: a draft, revision or withdrawal with a
        fresh nonce and a deadline DEADLINE_SECONDS away, or support of `initiative` valid for `days`, for the
        `revision` the member read (when given).

        Raises InvalidInput for an unknown kind, initiative, or malformed actions or text; BallotRefused (too_large)
        for more text and actions than a free action carries, or (revised_since_read) when the author revised the initiative after the member read `revision`: a support's
        typed data shows a wallet only the text's hash, so it must be for the text the member read."""
        member = _checksum(member)
        now = self.commons.chain_time()
        if kind == "support":
            if not 1 <= days <= 365:
                raise InvalidInput("Support may last from 1 to 365 days.")
            typed = self.initiatives.support_typed_data(initiative, member, now + days * DAY_SECONDS)
            current = typed["message"]["revision"]
            if revision is not None and revision != current:
                raise BallotRefused(
                    "revised_since_read",
                    f"The author has revised initiative {initiative} since you read it (you read revision {revision}; "
                    f"it is at revision {current} now): read the new text before supporting it.",
                )
            return typed
        if kind not in KINDS:
            raise InvalidInput(f"The relay sends a draft, revise, withdraw or support, not {kind!r}.")
        if (size := _size(proposal or [], text)) > MAX_RELAYED_BYTES:
            raise BallotRefused("too_large", _too_large(kind, size))
        nonce = secrets.randbits(128)  # any unused number: the contract keeps which ones each author used
        return self.initiatives.author_typed_data(kind, member, nonce, now + DEADLINE_SECONDS, initiative, proposal, text)

    def _typed_of(self, act: SignedAct) -> dict:
        """The typed data the member must have signed for `act` (support: of the initiative's current revision)."""
        if act.kind == "support":
            view = self.initiatives.initiative(act.initiative)
            nonce = self.contract.functions.supportNonce(act.initiative, act.member).call()
            return support_typed_data(
                self.domain, act.initiative, view.revision, act.member, nonce, view.actions, view.description, act.deadline
            )
        message: dict = {"author": act.member, "nonce": act.nonce, "deadline": act.deadline}
        if act.kind != "withdraw":
            message["proposal"] = proposal_message(act.proposal, act.text)
        if act.kind != "draft":
            message["initiative"] = act.initiative
        if act.kind == "revise":
            message["revision"] = self.contract.functions.initiative(act.initiative).call()[1]
        return author_typed_data(self.domain, act.kind, message)

    def _signed_revision(self, act: SignedAct, typed: dict) -> int | None:
        """The earlier revision of the initiative `act`'s support signature is for, if any."""
        message = typed["message"]
        for revision, (text, proposal) in enumerate(self.initiatives.revisions(act.initiative)[:-1]):
            earlier = support_typed_data(
                self.domain, act.initiative, revision, act.member, message["nonce"], proposal, text, act.deadline
            )
            if signer_of(earlier, act.signature) == act.member:
                return revision
        return None

    def _call_of(self, act: SignedAct) -> bytes:
        """The call to the Initiatives contract that does `act`."""
        if act.kind == "support":
            return to_bytes(
                hexstr=self.contract.encode_abi("postSupport", args=[act.initiative, act.member, act.deadline, act.signature])
            )
        signed = AuthorSignature(act.member, act.nonce, act.deadline, act.signature)
        plan = self.initiatives.plan_by_signature(act.kind, signed, act.initiative, act.proposal, act.text)
        return to_bytes(hexstr=plan.data) if isinstance(plan.data, str) else bytes(plan.data)

    # ---- accepting ----------------------------------------------------------------------

    def accept(self, act: SignedAct, client: str = "anonymous") -> ActRecord:
        """Check a signed act and keep it for sending; returns its ticket (the stored one for an act sent before).

        Raises BallotRefused (why it cannot be done, in words), InvalidInput (malformed), RateLimited (too many
        requests from this client, or the member's free actions of the day are used) or RelayUnavailable."""
        relayer = self.relayer
        relayer._client_limit.hit(client, "this client")
        if act.kind not in KINDS:
            raise InvalidInput(f"The relay sends a draft, revise, withdraw or support, not {act.kind!r}.")
        act.member = _checksum(act.member)
        if (size := _size(act.proposal, act.text)) > MAX_RELAYED_BYTES:
            raise BallotRefused("too_large", _too_large(act.kind, size))
        typed = self._typed_of(act)
        act_id = digest(typed)
        existing = self.store.get(act_id)
        if existing is not None and existing.status != REFUSED:
            return existing  # idempotent: the same signed act is one ticket
        what = WHAT[act.kind]
        signer = signer_of(typed, act.signature)
        if signer != act.member and act.kind == "support":
            earlier = self._signed_revision(act, typed)
            if earlier is not None:
                raise BallotRefused(
                    "bad_signature",
                    f"{act.member} signed revision {earlier} of initiative {act.initiative}, whose author has revised "
                    f"the text since (revision {typed['message']['revision']} now): read it and sign again to support it.",
                )
        if signer != act.member:
            raise BallotRefused(
                "bad_signature",
                f"The signature is not {act.member}'s {what} of this text and these actions, in this commons and on this "
                f"chain (it was made by {signer}, or for something else: a revised text, another initiative or chain).",
            )
        if self.commons.w3.eth.get_code(to_checksum_address(act.member)):
            raise BallotRefused(
                "wallet_contract",
                f"{act.member} is a wallet contract; the relay does not send its {what}: send it from the wallet.",
            )
        if not self.commons.membership.functions.isMember(act.member).call():
            raise BallotRefused(
                "not_member", f"{act.member} is not a member of this commons now; the relay pays only for members' {what}s."
            )
        relayer._check_funds()
        now_on_chain = self.commons.chain_time()
        if now_on_chain <= act.deadline < now_on_chain + LAPSE_MARGIN_SECONDS:
            raise BallotRefused(
                "lapses_too_soon",
                f"This {what} is signed to count only until {when(act.deadline)}, too soon for the relay to have it "
                f"mined in time (it needs {LAPSE_MARGIN_SECONDS // 60} minutes): sign it again with a later "
                f"{'expiry' if act.kind == 'support' else 'deadline'}, or send it from your wallet.",
            )
        data = self._call_of(act)
        if act.kind == "support":
            # Posting a signature again changes nothing; refused, so a signature seen on-chain cannot be replayed
            # here to spend its supporter's free actions and the relay's gas.
            posted = self._done_by(ActRecord(act_id, "support", act.member, act.initiative, data, act.signature, ""))
            if posted is not None:
                raise BallotRefused(
                    "already_posted", f"This signature of support is on-chain already (transaction {posted[0]}); it counts."
                )
        try:
            relayer.eth_call(self.address, data)
        except Reverted as exc:
            existing = self.store.get(act_id)  # a copy accepted meanwhile makes this one look done already
            if existing is not None and existing.status != REFUSED:
                return existing
            raise BallotRefused("would_revert", f"The Initiatives contract would refuse this {what}: {exc.reason}.") from None
        now = self.clock()
        initiative = act.initiative if act.kind != "draft" else None
        record = ActRecord(
            act_id, act.kind, act.member, initiative, data, act.signature, utc_day(now),
            accepted_at=now, accepted_block=self.commons.w3.eth.block_number,
        )  # fmt: skip
        stored = self.store.add(record, self.allowance)
        if stored is None:
            renews = next_midnight(now)
            wait = int(renews.timestamp() - now) + 1
            raise RateLimited(
                f"You have used your {self.allowance} free actions today; post it from your wallet or try again after "
                f"{renews:%H:%M} UTC (in {_duration(wait)}).",
                wait,
            )
        return stored

    def allowance_of(self, member: str) -> dict:
        """A member's free actions today: used, allowed, and when they renew (ISO time, UTC)."""
        member = _checksum(member)
        now = self.clock()
        used = self.store.used(member, utc_day(now))
        return {
            "member": member,
            "used": used,
            "allowed": self.allowance,
            "left": max(0, self.allowance - used),
            "renews_at": next_midnight(now).isoformat(),
        }

    # ---- the truth about one act --------------------------------------------------------

    def settle(self, record: ActRecord, receipt: dict | None, ours: list[str]) -> None:
        """Set `record` from the relay's transaction `receipt` (None: another transaction took its nonce)."""
        if receipt is not None and receipt["status"] == 1:
            record.status, record.error, record.by_relay = DONE, None, True
            record.tx_hash, record.block_number = receipt["transactionHash"].to_0x_hex(), receipt["blockNumber"]
            if record.kind == "draft":
                for event in self.contract.events.InitiativeDrafted().process_receipt(receipt, errors=DISCARD):
                    record.initiative = event["args"]["id"]
            self._submit_if_ready(record)
            return
        self.resolve(record, ours, tried=receipt is not None)
        self._submit_if_ready(record)

    def _submit_if_ready(self, record: ActRecord) -> None:
        """Once a support is done and its initiative has the support it needs from signatures lasting past
        LAPSE_MARGIN_SECONDS, queue its submission (the relay's own act: it uses no member's free actions). Someone
        else submitting first settles it as done by them."""
        if not self.submit_when_ready or record.kind != "support" or record.status != DONE or record.initiative is None:
            return
        try:
            view = self.initiatives.initiative(record.initiative)
            # A signature lapsing before the submission is mined would revert it at the relay's cost: left out.
            lasting = [s for s in view.signatures if s.expiry >= self.commons.chain_time() + LAPSE_MARGIN_SECONDS]
            if view.status != "open" or 1 + len(lasting) < view.needed:
                return
            plan = self.initiatives.plan_submit(record.initiative, lasting)
        except InvalidInput:
            return
        data = to_bytes(hexstr=plan.data) if isinstance(plan.data, str) else bytes(plan.data)
        now = self.clock()
        submission = ActRecord(
            "0x" + keccak(data).hex(), "submit", self.relayer.address, record.initiative, data, b"", utc_day(now),
            accepted_at=now, accepted_block=record.block_number or 0,
        )  # fmt: skip
        self.store.add(submission, None)

    def resolve(self, record: ActRecord, ours: list[str], tried: bool = False) -> None:
        """Set `record` from the chain now: done (by whichever transaction did it), queued again, or refused (why).
        `tried`: the relay's own transaction for it just failed on-chain; refused then, the act keeps its member's
        free action (the relay paid for the revert), else refused it gives it back."""
        done = self._done_by(record)
        if done is not None:
            record.status, record.error = DONE, None
            record.tx_hash, record.block_number, initiative = done
            record.initiative = initiative if initiative is not None else record.initiative
            record.by_relay = record.tx_hash in ours
            return
        try:
            self.relayer.eth_call(self.address, record.data)
        except Reverted as exc:
            record.status, record.relay_nonce, record.tx_hash = REFUSED, None, None
            record.error = f"The Initiatives contract refused this {WHAT[record.kind]}: {exc.reason}."
            if not tried:
                record.slot = None  # refused before the relay paid for it: it costs its member nothing
            return
        if tried and record.attempts >= MAX_ATTEMPTS:
            # The relay paid for it on-chain: it keeps its free action (a member cannot make the relay pay for
            # reverts without end by undoing their act from the wallet just before it is mined).
            record.status, record.relay_nonce, record.tx_hash = REFUSED, None, None
            record.error = (
                f"The Initiatives contract refused this {WHAT[record.kind]} on-chain {record.attempts} times although it "
                "passed every check before sending; send it from your wallet."
            )
            return
        record.status, record.relay_nonce, record.tx_hash = QUEUED, None, None

    def _done_by(self, record: ActRecord) -> tuple[str, int, int | None] | None:
        """(transaction, block, initiative) that did `record`'s act on the canonical chain, or None."""
        start = max(record.accepted_block, self.commons.manifest.deployment_block)
        events = self.contract.events
        signature = record.signature.hex()
        if record.kind == "submit":
            found = events.InitiativeSubmitted().get_logs(from_block=start, argument_filters={"id": record.initiative})
        elif record.kind == "support":
            candidates = events.SupportPosted().get_logs(
                from_block=start, argument_filters={"id": record.initiative, "supporter": record.member}
            )
            found = [e for e in candidates if bytes(e["args"]["signature"]) == record.signature]
        else:
            args = self.contract.decode_function_input(record.data)[1]
            author, nonce = args["signed"]["author"], args["signed"]["nonce"]
            if not self.contract.functions.authorNonceUsed(author, nonce).call():
                return None
            event = {
                "draft": events.InitiativeDrafted,
                "revise": events.InitiativeRevised,
                "withdraw": events.InitiativeWithdrawn,
            }
            filters = {"author": author} if record.kind == "draft" else {"id": record.initiative}
            candidates = event[record.kind]().get_logs(from_block=start, argument_filters=filters)
            # The transaction that used the nonce carries the signature in its input (however it called the contract).
            found = [
                e
                for e in candidates
                if signature in bytes(self.commons.w3.eth.get_transaction(e["transactionHash"])["input"]).hex()
            ]
        if not found:
            return None
        first = found[0]
        initiative = first["args"]["id"] if record.kind == "draft" else None
        return first["transactionHash"].to_0x_hex(), first["blockNumber"], initiative


def _size(proposal: list[Action], text: str) -> int:
    """The bytes of text and action calldata a relayed act carries; InvalidInput for a text that is not Unicode."""
    return len(text_bytes(text)) + sum(len(a.calldata) for a in proposal)


def _too_large(kind: str, size: int) -> str:
    return (
        f"This {WHAT.get(kind, kind)} carries {size:,} bytes of text and actions; the relay sends at most "
        f"{MAX_RELAYED_BYTES:,} for free: shorten it or post it from your wallet."
    )


def _checksum(address: str) -> str:
    if not isinstance(address, str) or not is_address(address):
        raise InvalidInput(f"{address!r} is not an Ethereum address.")
    return to_checksum_address(address)


def _duration(seconds: int) -> str:
    """'3 h 12 min', '12 min' or '40 s'."""
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{seconds} s"
