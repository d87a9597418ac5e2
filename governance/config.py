"""Settings read from the environment (prefix COMMONS_); the only place that reads it."""

from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Where the chain and the cache are, and where a signing key comes from."""

    model_config = SettingsConfigDict(env_prefix="COMMONS_", extra="ignore")

    rpc_url: str = "http://127.0.0.1:8545"
    state_dir: Path = PROJECT_ROOT / ".state"
    build_dir: Path = PROJECT_ROOT / "build"
    node_modules: Path = PROJECT_ROOT / "node_modules"
    database_url: str = ""
    # A signing key: an encrypted keystore file (password from COMMONS_KEYSTORE_PASSWORD or a
    # prompt) or the key itself in COMMONS_PRIVATE_KEY. Never from a command-line argument.
    keystore: Path | None = None
    keystore_password: SecretStr | None = None
    private_key: SecretStr | None = None
    # Blocks to wait before indexing a block, for chains that reorg deeper than anvil does.
    confirmations: int = 0
    local_port: int = 8545
    # The vote relay pays gas for members' signed ballots. Its key comes from its own keystore or
    # COMMONS_RELAYER_PRIVATE_KEY (falling back to the signing key above); never from code.
    relayer_keystore: Path | None = None
    relayer_keystore_password: SecretStr | None = None
    relayer_private_key: SecretStr | None = None
    # Ballots arriving within this window go on-chain together (one multicall), up to the batch size.
    relay_batch_window_seconds: float = 0.25
    relay_max_batch: int = 50
    # Below this balance the relay answers 503 instead of accepting ballots it could not pay for.
    relay_min_balance_wei: int = 10**16
    # Ballots accepted per voter and per client address, per minute.
    relay_voter_rate_per_minute: int = 10
    relay_client_rate_per_minute: int = 120
    # The RPC URL a member's wallet is offered when it must add the commons' chain (public, no secrets).
    public_rpc_url: str = ""

    @property
    def deployments_dir(self) -> Path:
        return self.state_dir / "deployments"

    @property
    def cache_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.state_dir / 'commons.db'}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests call `get_settings.cache_clear()` after changing the environment."""
    return Settings()
