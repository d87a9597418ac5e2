"""Where signing keys come from: one path from Settings for the steward command and the vote relay.

A key comes from an encrypted keystore file (with its password) or from the environment, never
from a command-line argument; messages name the setting to fix, never the key or the file's path.
"""

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr
from web3 import Web3

from governance.chain import KeySigner, NodeSigner, load_key_signer
from governance.config import Settings
from governance.errors import InvalidInput
from governance.node import is_development_node

# Asks for a keystore's password when none is configured (the CLI prompts on a terminal); None: don't ask.
PasswordPrompt = Callable[[Path], str | None]


def steward_signer(settings: Settings, prompt: PasswordPrompt | None = None) -> KeySigner:
    """The signing key of COMMONS_KEYSTORE (+ its password, or `prompt`) or COMMONS_PRIVATE_KEY.

    Raises ConfigurationError when neither is set or the keystore cannot be decrypted.
    """
    return _signer(settings.keystore, settings.keystore_password, settings.private_key, prompt)


def development_signer(w3: Web3, index: int) -> NodeSigner:
    """The local anvil node's unlocked development account `index`: the node signs, no key is involved.

    Raises InvalidInput on any other node, or for an account the node does not have.
    """
    if not is_development_node(w3):
        raise InvalidInput("--dev-account works only on a local anvil node; use a keystore or COMMONS_PRIVATE_KEY.")
    accounts = w3.eth.accounts
    if not 0 <= index < len(accounts):
        raise InvalidInput(f"The node has development accounts 0 to {len(accounts) - 1}, not {index}.")
    return NodeSigner(accounts[index])


def relayer_signer(settings: Settings) -> KeySigner:
    """The relay's own key (COMMONS_RELAYER_KEYSTORE / COMMONS_RELAYER_PRIVATE_KEY), else the signing key.

    Raises ConfigurationError when no key is configured or the keystore cannot be decrypted.
    """
    if settings.relayer_keystore or settings.relayer_private_key:
        return _signer(
            settings.relayer_keystore,
            settings.relayer_keystore_password or settings.keystore_password,
            settings.relayer_private_key,
            None,
            "COMMONS_RELAYER_",
        )
    return _signer(settings.keystore, settings.keystore_password, settings.private_key, None)


def _signer(
    keystore: Path | None,
    password: SecretStr | None,
    key: SecretStr | None,
    prompt: PasswordPrompt | None,
    prefix: str = "COMMONS_",
) -> KeySigner:
    plain_password = password.get_secret_value() if password else None
    if keystore and plain_password is None and prompt is not None:
        plain_password = prompt(keystore)
    return load_key_signer(str(keystore) if keystore else None, plain_password, key.get_secret_value() if key else None, prefix)


def secret_file_text(path: Path, make: Callable[[], str]) -> str:
    """The stripped text of the secret file at `path`, written first from `make()` with mode 0600 when there is none.
    The file appears whole (written aside, then linked into place), so of two processes starting together both read
    the one secret that was linked first, never an empty file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as file:
                file.write(make() + "\n")
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return path.read_text().strip()
