"""Initiatives: members draft proposals, other members co-sign them, and enough support puts them to a vote.

The EIP-712 definition of a signature of support (the same the page and the relay use), plans for every act on
the Initiatives contract, and reads of initiatives from its events. A supporter signs the exact proposal
(actions and text), the initiative and its revision, their own nonce for it (withdrawing support bumps it) and an
expiry; the contract checks all of that again when the initiative is submitted.
"""

from dataclasses import dataclass, field

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.logs import DISCARD

from governance import actions as act
from governance.actions import Action
from governance.client import Commons, Plan, when
from governance.compiler import load_artifacts
from governance.errors import InvalidInput, Reverted
from governance.reverts import moment

STATUSES = ("none", "open", "withdrawn", "submitted")

SUPPORT_TYPES = {
    "Support": [
        {"name": "initiative", "type": "uint256"},
        {"name": "revision", "type": "uint256"},
        {"name": "supporter", "type": "address"},
        {"name": "nonce", "type": "uint256"},
        {"name": "proposal", "type": "Proposal"},
        {"name": "expiry", "type": "uint256"},
    ],
    "Proposal": [
        {"name": "targets", "type": "address[]"},
        {"name": "values", "type": "uint256[]"},
        {"name": "calldatas", "type": "bytes[]"},
        {"name": "descriptionHash", "type": "bytes32"},
    ],
}
PROPOSAL_TYPE = SUPPORT_TYPES["Proposal"]
# What an author signs for someone else (the relay) to send: Initiatives.sol's DRAFT, REVISION and WITHDRAWAL_TYPEHASH.
AUTHOR_TYPES = {
    "draft": {
        "Draft": [
            {"name": "author", "type": "address"},
            {"name": "proposal", "type": "Proposal"},
            {"name": "nonce", "type": "uint256"},
            {"name": "deadline", "type": "uint256"},
        ],
        "Proposal": PROPOSAL_TYPE,
    },
    "revise": {
        "Revision": [
            {"name": "initiative", "type": "uint256"},
            {"name": "revision", "type": "uint256"},
            {"name": "author", "type": "address"},
            {"name": "proposal", "type": "Proposal"},
            {"name": "nonce", "type": "uint256"},
            {"name": "deadline", "type": "uint256"},
        ],
        "Proposal": PROPOSAL_TYPE,
    },
    "withdraw": {
        "Withdrawal": [
            {"name": "initiative", "type": "uint256"},
            {"name": "author", "type": "address"},
            {"name": "nonce", "type": "uint256"},
            {"name": "deadline", "type": "uint256"},
        ]
    },
}
DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
# How long a signature of support stays valid unless the supporter chooses otherwise.
DEFAULT_SUPPORT_DAYS = 14


@dataclass(frozen=True)
class SupportSignature:
    """One member's signed support for one revision of an initiative."""

    initiative: int
    revision: int
    supporter: str
    nonce: int
    expiry: int
    signature: bytes


@dataclass(frozen=True)
class AuthorSignature:
    """An author's signed draft, revision or withdrawal, for anyone (the relay) to send; the nonce is used once."""

    author: str
    nonce: int
    deadline: int
    signature: bytes


@dataclass
class InitiativeView:
    """An initiative as the chain shows it now: its latest text and actions, and who supports it."""

    id: int
    author: str
    revision: int
    status: str  # open, withdrawn, expired, proposed
    description: str
    actions: list[Action]
    actions_in_words: list[str]
    revised_at: int
    expires_at: int
    proposal_id: int = 0
    supporters: list[str] = field(default_factory=list)  # with a signature that would count now
    signatures: list[SupportSignature] = field(default_factory=list)
    needed: int = 0  # members whose support (the author's included) it needs now
    author_is_member: bool = True  # `submit` refuses an initiative whose author has left

    @property
    def title(self) -> str:
        return act.proposal_title(self.description)

    @property
    def support_count(self) -> int:
        """The author (while a member, as `submit` counts) and every supporter whose signature counts now."""
        return int(self.author_is_member or self.status == "proposed") + len(self.supporters)

    @property
    def progress(self) -> str:
        """'4 of 5 supporters', the author included; says so when the author has left, as the API does."""
        words = f"{self.support_count} of {self.needed} supporters"
        if self.status == "open" and not self.author_is_member:
            words += "; its author is no longer a member, so it cannot be put to a vote"
        return words


def member_in_words(address: str, handle: str | None) -> str:
    """'@ada (0x…)' as the API names a member in words, or the bare address of anyone else."""
    return f"@{handle} ({address})" if handle else address


def initiative_proposed_by(origin: dict, contract: str, named=member_in_words) -> str:
    """'@ada (0x…) through initiative 3, supported by 4 members, put to a vote by the Initiatives contract (0x…)': who
    proposed a proposal that an initiative became, in truth (on-chain its proposer is the contract). `origin` is the
    InitiativeSubmitted entry's initiative, author, author_handle and supporters; `named` names a member."""
    n = len(origin["supporters"])
    return (
        f"{named(origin['author'], origin['author_handle'])} through initiative {origin['id']}, "
        f"supported by {n} member{'s' if n != 1 else ''}, put to a vote by the Initiatives contract ({contract})"
    )


def support_domain(commons: Commons) -> dict:
    """The Initiatives contract's EIP-712 domain (the commons' name, version '1')."""
    m = commons.manifest
    return {"name": m.name, "version": "1", "chainId": m.chain_id, "verifyingContract": m.initiatives}


def support_typed_data(
    signature_domain: dict,
    initiative: int,
    revision: int,
    supporter: str,
    nonce: int,
    proposal: list[Action],
    text: str,
    expiry: int,
) -> dict:
    """The EIP-712 typed data of a signature of support, as `eth_signTypedData_v4` and eth-account take it."""
    return {
        "types": {"EIP712Domain": DOMAIN_TYPE, **SUPPORT_TYPES},
        "primaryType": "Support",
        "domain": signature_domain,
        "message": {
            "initiative": initiative,
            "revision": revision,
            "supporter": supporter,
            "nonce": nonce,
            "proposal": proposal_message(proposal, text),
            "expiry": expiry,
        },
    }


def proposal_message(proposal: list[Action], text: str) -> dict:
    """The `Proposal` struct of typed data: the actions and the hash of the text."""
    return {
        "targets": [a.target for a in proposal],
        "values": [a.value for a in proposal],
        "calldatas": ["0x" + a.calldata.hex() for a in proposal],
        "descriptionHash": "0x" + keccak(text=text).hex(),
    }


def author_typed_data(signature_domain: dict, kind: str, message: dict) -> dict:
    """The EIP-712 typed data of an author's signed `kind` (draft, revise or withdraw) with `message`'s fields."""
    types = AUTHOR_TYPES[kind]
    return {
        "types": {"EIP712Domain": DOMAIN_TYPE, **types},
        "primaryType": next(iter(types)),
        "domain": signature_domain,
        "message": message,
    }


def sign_support(typed: dict, account: LocalAccount) -> bytes:
    """The 65-byte signature of the support in `typed` by `account`."""
    return bytes(account.sign_message(encode_typed_data(full_message=typed)).signature)


def signer_of(typed: dict, signature: bytes) -> str:
    """The address that signed the support in `typed`; InvalidInput if the signature is malformed."""
    try:
        return Account.recover_message(encode_typed_data(full_message=typed), signature=signature)
    except Exception as exc:  # eth-keys raises several types for a bad signature
        raise InvalidInput(f"The signature of support is malformed: {exc}") from exc


class Initiatives:
    """The Initiatives contract of one commons: plans for its acts and reads of its initiatives."""

    def __init__(self, commons: Commons):
        if not commons.manifest.initiatives:
            raise InvalidInput("This commons was deployed before initiatives existed; it has no Initiatives contract.")
        self.commons = commons
        address = Web3.to_checksum_address(commons.manifest.initiatives)
        self.contract = commons.w3.eth.contract(address=address, abi=load_artifacts()["Initiatives"].abi)

    # ---- reads -------------------------------------------------------------------------

    def count(self) -> int:
        return self.contract.functions.initiativeCount().call()

    def needed(self) -> int:
        """Members whose support (the author's included) an initiative needs now."""
        return self.contract.functions.supportNeeded().call()

    def revisions(self, initiative_id: int) -> list[tuple[str, list[Action]]]:
        """Every text and actions an initiative has had, revision 0 (the draft) first, from its events.

        Raises InvalidInput if there is no such initiative."""
        start = self.commons.manifest.deployment_block
        events = self.contract.events
        logs = events.InitiativeDrafted().get_logs(from_block=start, argument_filters={"id": initiative_id})
        logs += events.InitiativeRevised().get_logs(from_block=start, argument_filters={"id": initiative_id})
        if not logs:
            raise InvalidInput(f"There is no initiative {initiative_id} in this commons.")
        ordered = [log["args"] for log in sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"]))]
        return [
            (a["description"], [Action(t, v, bytes(c)) for t, v, c in zip(a["targets"], a["values"], a["calldatas"])])
            for a in ordered
        ]

    def _texts(self, initiative_id: int) -> tuple[str, list[Action]]:
        """The latest text and actions of an initiative."""
        return self.revisions(initiative_id)[-1]

    def initiative(self, initiative_id: int) -> InitiativeView:
        """Initiative `initiative_id` now, with the signatures that would count if it were submitted now.

        Raises InvalidInput if there is no such initiative.
        """
        author, revision, status, revised_at, _, proposal_id, expires_at = self.contract.functions.initiative(
            initiative_id
        ).call()
        if status == 0:
            raise InvalidInput(f"There is no initiative {initiative_id} in this commons.")
        description, proposal = self._texts(initiative_id)
        now = self.commons.chain_time()
        word = STATUSES[status]
        if word == "submitted":
            word = "proposed"
        elif word == "open" and now > expires_at:
            word = "expired"
        view = InitiativeView(
            id=initiative_id,
            author=author,
            revision=revision,
            status=word,
            description=description,
            actions=proposal,
            actions_in_words=[reading.words for reading in self.commons.read_actions(proposal)],
            revised_at=revised_at,
            expires_at=expires_at,
            proposal_id=proposal_id,
            needed=self.needed(),
            author_is_member=self.commons.membership.functions.isMember(author).call(),
        )
        if word == "open":
            view.signatures = self.counting_signatures(view, now)
            view.supporters = [s.supporter for s in view.signatures]
        return view

    def counting_signatures(self, view: InitiativeView, now: int) -> list[SupportSignature]:
        """The posted signatures that would count now, one per supporter (the latest), in ascending address order."""
        logs = self.contract.events.SupportPosted().get_logs(
            from_block=self.commons.manifest.deployment_block, argument_filters={"id": view.id}
        )
        latest: dict[str, SupportSignature] = {}
        for log in sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"])):
            a = log["args"]
            latest[a["supporter"]] = SupportSignature(
                view.id, a["revision"], a["supporter"], a["nonce"], a["expiry"], bytes(a["signature"])
            )
        nonce_of = self.contract.functions.supportNonce
        is_member = self.commons.membership.functions.isMember
        counting = [
            s
            for s in latest.values()
            if s.revision == view.revision
            and s.expiry >= now
            and s.nonce == nonce_of(view.id, s.supporter).call()
            and is_member(s.supporter).call()
        ]
        return sorted(counting, key=lambda s: int(s.supporter, 16))

    def initiatives(self) -> list[InitiativeView]:
        """Every initiative, newest first."""
        return [self.initiative(i) for i in range(self.count(), 0, -1)]

    # ---- signatures --------------------------------------------------------------------

    def support_typed_data(self, initiative_id: int, supporter: str, expiry: int) -> dict:
        """What `supporter` signs to support the current revision of initiative `initiative_id` until `expiry`."""
        view = self.initiative(initiative_id)
        nonce = self.contract.functions.supportNonce(initiative_id, supporter).call()
        return support_typed_data(
            support_domain(self.commons), initiative_id, view.revision, supporter, nonce, view.actions, view.description, expiry
        )

    # ---- plans (writes) ----------------------------------------------------------------

    def _plan(self, kind: str, summary: str, details: list[str], function: str, args: list) -> Plan:
        return Plan(kind, summary, details, self.commons.manifest.initiatives, self.contract.encode_abi(function, args=args))

    def _checked(self, proposal: list[Action], description: str) -> tuple[list, list[str]]:
        if not proposal:
            raise InvalidInput("An initiative needs at least one action.")
        if not description.strip().startswith("#"):
            raise InvalidInput("The initiative's text must start with a '# Title' line.")
        if act.shown_text(description) != description:
            raise InvalidInput("The initiative's text must not end with '#proposer=…'; the contract adds it.")
        args = [[a.target for a in proposal], [a.value for a in proposal], [a.calldata for a in proposal], description]
        return args, [reading.words for reading in self.commons.read_actions(proposal)]

    def plan_draft(self, proposal: list[Action], description: str) -> Plan:
        """Draft an initiative of `proposal` with `description` (Markdown, first line '# Title')."""
        args, words = self._checked(proposal, description)
        return self._plan("draft", f"Draft the initiative “{act.proposal_title(description)}”", words, "draft", args)

    def plan_revise(self, initiative_id: int, proposal: list[Action], description: str) -> Plan:
        """Replace initiative `initiative_id`'s actions and text (its author only); earlier signatures stop counting."""
        args, words = self._checked(proposal, description)
        words.append("Signatures of support for the earlier text stop counting; supporters sign again.")
        title = act.proposal_title(description)
        return self._plan("revise", f"Revise initiative {initiative_id} as “{title}”", words, "revise", [initiative_id, *args])

    def author_typed_data(
        self, kind: str, author: str, nonce: int, deadline: int, initiative_id: int = 0, proposal=None, text: str = ""
    ) -> dict:
        """What `author` signs for the relay to send a draft, revision or withdrawal (`kind`); InvalidInput for an
        unknown kind or, for a draft or revision, malformed actions or text."""
        message: dict = {"author": author, "nonce": nonce, "deadline": deadline}
        if kind in ("draft", "revise"):
            self._checked(proposal or [], text)
            message["proposal"] = proposal_message(proposal or [], text)
        if kind in ("revise", "withdraw"):
            message["initiative"] = initiative_id
        if kind == "revise":
            message["revision"] = self.contract.functions.initiative(initiative_id).call()[1]
        if kind not in AUTHOR_TYPES:
            raise InvalidInput(f"An author signs a draft, revise or withdraw, not {kind!r}.")
        return author_typed_data(support_domain(self.commons), kind, message)

    def plan_by_signature(
        self, kind: str, signed: AuthorSignature, initiative_id: int = 0, proposal=None, text: str = ""
    ) -> Plan:
        """Send an author's signed draft, revision or withdrawal (anyone may; the author pays nothing)."""
        signature = (signed.author, signed.nonce, signed.deadline, signed.signature)
        if kind == "withdraw":
            return self._plan(
                "withdraw",
                f"Withdraw initiative {initiative_id} for {signed.author}",
                [],
                "withdrawBySig",
                [initiative_id, signature],
            )
        args, words = self._checked(proposal or [], text)
        title = act.proposal_title(text)
        if kind == "draft":
            return self._plan("draft", f"Draft “{title}” for {signed.author}", words, "draftBySig", [*args, signature])
        return self._plan(
            "revise",
            f"Revise initiative {initiative_id} as “{title}” for {signed.author}",
            words,
            "reviseBySig",
            [initiative_id, *args, signature],
        )

    def plan_withdraw(self, initiative_id: int) -> Plan:
        view = self.initiative(initiative_id)
        return self._plan(
            "withdraw", f"Withdraw initiative {initiative_id} “{view.title}” for good", [], "withdraw", [initiative_id]
        )

    def plan_post_support(self, support: SupportSignature) -> Plan:
        """Post a signature of support (anyone may; the supporter pays nothing)."""
        view = self.initiative(support.initiative)
        return self._plan(
            "sign",
            f"Support initiative {support.initiative} “{view.title}” as {support.supporter}",
            [f"The signature counts until {when(support.expiry)}, unless withdrawn or the text is revised."],
            "postSupport",
            [support.initiative, support.supporter, support.expiry, support.signature],
        )

    def plan_withdraw_support(self, initiative_id: int) -> Plan:
        view = self.initiative(initiative_id)
        return self._plan(
            "unsign",
            f"Withdraw your support for initiative {initiative_id} “{view.title}”",
            [],
            "withdrawSupport",
            [initiative_id],
        )

    def plan_submit(self, initiative_id: int, signatures: list[SupportSignature] | None = None) -> Plan:
        """Put initiative `initiative_id` to a vote with `signatures` (default: every one that counts now).

        Raises InvalidInput, in words, when it is not open or its support falls short.
        """
        view = self.initiative(initiative_id)
        if view.status == "expired":
            raise InvalidInput(
                f"Initiative {initiative_id} expired on {moment(view.expires_at)} without enough support; only an open "
                "initiative can be put to a vote, and its author may draft it again."
            )
        if view.status != "open":
            shown = f"proposed as {self.commons.label(view.proposal_id)}" if view.status == "proposed" else view.status
            raise InvalidInput(f"Initiative {initiative_id} is {shown}; only an open initiative can be put to a vote.")
        chosen = view.signatures if signatures is None else sorted(signatures, key=lambda s: int(s.supporter, 16))
        if signatures is None and 1 + len(chosen) < view.needed:
            raise InvalidInput(
                f"Initiative {initiative_id} has {1 + len(chosen)} of {view.needed} supporters (the author included); "
                f"it needs {view.needed - 1 - len(chosen)} more."
            )
        args = [
            initiative_id,
            [a.target for a in view.actions],
            [a.value for a in view.actions],
            [a.calldata for a in view.actions],
            view.description,
            [(s.supporter, s.expiry, s.signature) for s in chosen],
        ]
        plan = self._plan(
            "submit",
            f"Put initiative {initiative_id} “{view.title}” to a vote ({1 + len(chosen)} of {view.needed} supporters)",
            view.actions_in_words,
            "submit",
            args,
        )
        return plan

    def submitted_proposal(self, receipt: dict) -> tuple[int, int]:
        """(initiative id, proposal id) from the receipt of a submission; Reverted if it holds none."""
        for event in self.contract.events.InitiativeSubmitted().process_receipt(receipt, errors=DISCARD):
            return event["args"]["id"], event["args"]["proposalId"]
        raise Reverted("the transaction put no initiative to a vote")
