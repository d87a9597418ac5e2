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
    # /api/health answers 503 once the API's indexer has kept failing (and retrying) for longer than this.
    indexer_unhealthy_after_seconds: float = 300
    # Reading a hosted provider: calls the node did not answer (reset, 5xx, 429) are repeated this many times; a
    # backfill keeps this many eth_getLogs ranges in flight; requests per second to start from (0: learnt from 429s).
    rpc_retries: int = 8
    rpc_in_flight: int = 8
    rpc_requests_per_second: float = 0
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
    # Initiative acts (drafts, revisions, withdrawals, supports) the relay pays for, per member and UTC day.
    relay_initiative_actions_per_day: int = 5
    # Whether the relay puts an initiative to a vote (paying its gas) once the support it posted makes it enough.
    relay_submit_initiatives: bool = True
    # The RPC URL a member's wallet is offered when it must add the commons' chain (public, no secrets). When unset
    # the API offers none: COMMONS_RPC_URL may carry a provider key.
    public_rpc_url: str = ""
    # The API's limits, checked before a request is parsed (api/limits.py). Bodies past these sizes answer 413: a
    # ballot is a few hundred bytes, a signed draft carries its Markdown text, and no other route takes a body.
    relay_max_body_bytes: int = 64 * 1024
    max_body_bytes: int = 1024
    # Writes (POST…) per client address (IPv6: per /64) and from everyone together, per minute; past them, 429.
    write_client_rate_per_minute: int = 600
    write_global_rate_per_minute: int = 6000
    # Reverse proxies (comma-separated IPs or CIDR networks) whose X-Forwarded-For names the client. Empty: the
    # peer's own address is the client, whatever the headers say.
    trusted_proxies: str = ""
    # Signed webhooks (api/hooks/): deliveries run in every API process unless this is false. Their ed25519 key is
    # COMMONS_WEBHOOK_SIGNING_KEY (Standard Webhooks' whsk_… form) or a key file (default: made on first use in the
    # state directory, readable by its owner only); never in the repository or a log.
    webhooks: bool = True
    webhook_signing_key: SecretStr | None = None
    webhook_key_file: Path | None = None
    # Webhook targets on loopback, link-local, private or metadata addresses are refused unless inside one of these
    # networks (comma-separated CIDR; for a receiver on the same machine in development and tests).
    webhook_allowed_networks: str = ""
    # Where the page is published, for links in webhooks (e.g. https://garden.example.org); empty: links are paths.
    public_url: str = ""
    # Email reminders to members who have not voted (api/reminders/): sent by every API process while smtp_host is
    # set (each reminder once across them). The SMTP password only from the environment; never logged. security:
    # "starttls" (port 587), "ssl" (port 465) or "none" (a relay on this machine). Sign-in (EIP-4361) checks the
    # domain and URI of public_url when set; without it, only a page on this machine (localhost) can sign in.
    reminders: bool = True
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str = ""
    smtp_password: SecretStr | None = None
    smtp_from: str = ""
    # The HMAC secret of unsubscribe links and sign-in sessions: this, else a key file made on first use in the
    # state directory (readable by its owner only).
    reminder_secret: SecretStr | None = None
    reminder_key_file: Path | None = None

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
