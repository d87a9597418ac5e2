"""Connecting to a node, signing, simulating and sending transactions; reverts become `Reverted`."""

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import (
    BlockNotFound,
    ContractCustomError,
    ContractLogicError,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)
from web3.types import TxParams

from governance.errors import ConfigurationError, RetryableError, Reverted
from governance.redaction import redact, redact_url
from governance.reverts import decode_revert, sentence

GAS_HEADROOM = 1.2
# With the timestamp clock, a vote checkpoint written in a later second than the estimate's block
# takes a fresh storage slot (~20k more); a transaction may write up to three of them.
CHECKPOINT_ALLOWANCE = 66_000


def connect(rpc_url: str, timeout: float = 30.0) -> Web3:
    """A Web3 connected to `rpc_url`; raises RetryableError if the node does not answer."""
    # web3 asks for the chain id around every call and transaction (its validation); a node's chain id never changes,
    # so it is asked once: on a hosted provider that is two requests fewer per contract read.
    provider = Web3.HTTPProvider(
        rpc_url, request_kwargs={"timeout": timeout}, cache_allowed_requests=True, cacheable_requests={"eth_chainId"}
    )
    w3 = Web3(provider)
    try:
        _ = w3.eth.chain_id  # the first request: does anything answer?
    except (requests.RequestException, OSError) as exc:
        raise RetryableError(f"No chain node answers at {redact_url(rpc_url)} (start one with `commons node start`).") from exc
    return w3


class Signer(Protocol):
    """Who sends a transaction: a local key, or an account the node itself unlocks (anvil's dev accounts)."""

    address: ChecksumAddress

    def send(self, w3: Web3, tx: dict) -> HexBytes: ...


@dataclass
class KeySigner:
    """Signs locally with a key from a keystore or the environment; the key never leaves the process."""

    account: LocalAccount

    @property
    def address(self) -> ChecksumAddress:
        return self.account.address

    def send(self, w3: Web3, tx: dict) -> HexBytes:
        signed = self.account.sign_transaction(tx)
        return w3.eth.send_raw_transaction(signed.raw_transaction)

    def __repr__(self) -> str:  # never print the key
        return f"KeySigner({self.address})"


@dataclass
class NodeSigner:
    """An account unlocked by a development node (anvil): the node signs, no key is held here."""

    address: ChecksumAddress

    def send(self, w3: Web3, tx: dict) -> HexBytes:
        return w3.eth.send_transaction(cast(TxParams, tx))


def load_key_signer(keystore: str | None, password: str | None, private_key: str | None, prefix: str = "COMMONS_") -> KeySigner:
    """A signer from an encrypted keystore file (with its password) or a private key; errors name the settings as
    `prefix`KEYSTORE_PASSWORD and so on (COMMONS_RELAYER_ for the relay's own key).

    Raises ConfigurationError when neither is available or the keystore cannot be decrypted.
    """
    if keystore:
        try:
            with open(keystore) as handle:
                encrypted = handle.read()
        except OSError as exc:
            raise ConfigurationError(f"Cannot read the keystore file {Path(keystore).name}: {exc.strerror}.") from exc
        if password is None:
            raise ConfigurationError(f"The keystore needs a password ({prefix}KEYSTORE_PASSWORD or the prompt).")
        try:
            return KeySigner(Account.from_key(Account.decrypt(encrypted, password)))
        # Not a keystore at all (the bare key, a JSON string, another format) fails deeper than a wrong password does.
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigurationError(
                f"Cannot decrypt the keystore file {Path(keystore).name}: wrong password or damaged file."
            ) from exc
    if private_key:
        try:
            return KeySigner(Account.from_key(private_key))
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"{prefix}PRIVATE_KEY does not hold a valid private key.") from exc
    raise ConfigurationError(f"No signing key: set {prefix}KEYSTORE (and its password) or {prefix}PRIVATE_KEY.")


def revert_from(exc: object) -> Reverted:
    """A `Reverted` with a sentence from a web3 call error (or anything with its `data` and `message`)."""
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
        name, args = decode_revert(bytes.fromhex(data[2:]))
        return Reverted(sentence(name, args), name, args)
    error = (getattr(exc, "rpc_response", None) or {}).get("error")  # the node's own words, e.g. insufficient funds
    message = error.get("message") if isinstance(error, dict) else None
    return Reverted(message or str(getattr(exc, "message", None) or exc))


def simulate(w3: Web3, tx: dict, block: Any = "latest") -> bytes:
    """Run `tx` as an eth_call; returns its output or raises `Reverted` with the decoded reason."""
    call = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value", "gas")}
    try:
        return bytes(w3.eth.call(cast(TxParams, call), block))
    except (ContractCustomError, ContractLogicError) as exc:
        raise revert_from(exc) from None
    except Web3RPCError as exc:
        raise revert_from(exc) from None


def transact(w3: Web3, signer: Signer, to: str | None, data: bytes | str, value: int = 0, nonce: int | None = None) -> dict:
    """Simulate, then sign and send one transaction and wait for its receipt.

    Returns the receipt. Raises `Reverted` (in words) if the simulation or the mined transaction
    fails, RetryableError if the node stops answering.
    """
    tx: dict = {"from": signer.address, "data": HexBytes(data), "value": value}
    if to is not None:
        tx["to"] = to
    # At the pending block: the chain's current time, as the transaction will see it (a local node that
    # mines only on transactions keeps its last block's time while it waits).
    simulate(w3, tx, "pending")
    try:
        tx["gas"] = int(w3.eth.estimate_gas(cast(TxParams, tx), "pending") * GAS_HEADROOM) + CHECKPOINT_ALLOWANCE
        tx["nonce"] = w3.eth.get_transaction_count(signer.address, "pending") if nonce is None else nonce
        tx["chainId"] = w3.eth.chain_id
        tx.update(fee_fields(w3))
        tx_hash = signer.send(w3, tx)
        receipt = wait_for_canonical_receipt(w3, tx_hash)
    except (ContractCustomError, ContractLogicError) as exc:
        raise revert_from(exc) from None
    except (requests.RequestException, TimeExhausted) as exc:
        raise RetryableError(f"The node did not confirm the transaction in time: {redact(str(exc))}") from exc
    if receipt["status"] != 1:
        # Re-run at the mined block's parent to learn why it failed.
        simulate(w3, tx, receipt["blockNumber"] - 1)
        raise Reverted(
            f"transaction {receipt['transactionHash'].to_0x_hex()} failed on-chain "
            f"(gas used {receipt['gasUsed']:,} of {tx['gas']:,})"
        )
    return dict(receipt)


def wait_for_canonical_receipt(w3: Web3, tx_hash: HexBytes, timeout: float = 120.0, poll: float = 0.02) -> dict:
    """The receipt of `tx_hash` once its block is on the canonical chain.

    A node may still hold a receipt from a block that was reorganised (or `evm_revert`ed) away; a
    transaction sent again with the same fields has the same hash, so such a stale receipt would
    otherwise be taken for the new one. Raises TimeExhausted after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            receipt = w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            receipt = None
        if receipt is not None:
            try:
                if w3.eth.get_block(receipt["blockNumber"])["hash"] == receipt["blockHash"]:
                    return dict(receipt)
            except BlockNotFound:
                pass
        if time.monotonic() > deadline:
            raise TimeExhausted(f"transaction {HexBytes(tx_hash).to_0x_hex()} was not mined within {timeout:.0f} s")
        time.sleep(poll)


def fee_fields(w3: Web3) -> dict:
    """EIP-1559 fees with room for the base fee to double."""
    base = w3.eth.get_block("latest").get("baseFeePerGas", 0)
    tip = w3.to_wei(1, "gwei")
    return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}
