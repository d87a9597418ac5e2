"""EIP-712 ballots: the one definition the CLI, the relay and the web client share.

A ballot is the Governor's `ExtendedBallot` (the reason travels with the vote) or, without a
reason, its plain `Ballot`. The voter's nonce is part of what is signed, so a ballot counts once.
"""

from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount

from governance.errors import InvalidInput

BALLOT_TYPES = {
    "Ballot": [
        {"name": "proposalId", "type": "uint256"},
        {"name": "support", "type": "uint8"},
        {"name": "voter", "type": "address"},
        {"name": "nonce", "type": "uint256"},
    ],
}
EXTENDED_BALLOT_TYPES = {
    "ExtendedBallot": [
        {"name": "proposalId", "type": "uint256"},
        {"name": "support", "type": "uint8"},
        {"name": "voter", "type": "address"},
        {"name": "nonce", "type": "uint256"},
        {"name": "reason", "type": "string"},
        {"name": "params", "type": "bytes"},
    ],
}


@dataclass(frozen=True)
class Ballot:
    """A member's vote as signed: proposal, support (0 against, 1 for, 2 abstain), voter, nonce, reason."""

    proposal_id: int
    support: int
    voter: str
    nonce: int
    reason: str = ""
    extended: bool = True

    def message(self) -> dict:
        message = {"proposalId": self.proposal_id, "support": self.support, "voter": self.voter, "nonce": self.nonce}
        if self.extended:
            message.update(reason=self.reason, params=b"")
        return message


def domain(governor_name: str, chain_id: int, governor: str) -> dict:
    """The Governor's EIP-712 domain (version '1')."""
    return {"name": governor_name, "version": "1", "chainId": chain_id, "verifyingContract": governor}


def typed_data(ballot: Ballot, ballot_domain: dict) -> dict:
    """The full EIP-712 typed data, as `eth_signTypedData_v4` and eth-account take it."""
    types = EXTENDED_BALLOT_TYPES if ballot.extended else BALLOT_TYPES
    message = ballot.message()
    if ballot.extended:
        message["params"] = "0x"
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            **types,
        },
        "primaryType": next(iter(types)),
        "domain": ballot_domain,
        "message": message,
    }


def sign(ballot: Ballot, ballot_domain: dict, account: LocalAccount) -> bytes:
    """The 65-byte signature of `ballot` by `account`."""
    return bytes(account.sign_message(encode_typed_data(full_message=typed_data(ballot, ballot_domain))).signature)


def signer_of(ballot: Ballot, ballot_domain: dict, signature: bytes) -> str:
    """The address that signed `ballot`; InvalidInput if the signature is malformed."""
    try:
        return Account.recover_message(encode_typed_data(full_message=typed_data(ballot, ballot_domain)), signature=signature)
    except Exception as exc:  # eth-keys raises several types for a bad signature
        raise InvalidInput(f"The ballot signature is malformed: {exc}") from exc
