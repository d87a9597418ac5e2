"""The deployment manifest: what was deployed where, which every other command reads."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eth_typing import ChecksumAddress

from governance.config import get_settings
from governance.errors import ConfigurationError
from governance.vocabulary import Addresses


@dataclass
class CommonsSettings:
    """Governance settings chosen at deploy; afterwards changeable only by proposal."""

    voting_delay: int = 60
    voting_period: int = 3 * 24 * 3600
    quorum_percent: int = 30
    late_quorum_extension: int = 24 * 3600
    timelock_delay: int = 24 * 3600
    # Initiatives: the share of members (basis points, author included, never fewer than 3 members) whose support
    # puts an initiative to a vote, and how long one stays open after its latest draft or revision.
    initiative_support_bps: int = 1000
    initiative_lifetime: int = 14 * 24 * 3600


@dataclass
class Manifest:
    name: str
    chain_id: int
    membership: ChecksumAddress
    governor: ChecksumAddress
    timelock: ChecksumAddress
    deployment_block: int
    deployer: ChecksumAddress
    deployed_at: int
    compiler_version: str
    settings: CommonsSettings
    founders: list[dict] = field(default_factory=list)  # {"address", "handle"}
    stewards: list[str] = field(default_factory=list)
    transactions: dict[str, str] = field(default_factory=dict)
    # The VoteBatcher the relay sends ballots through ("" for a commons deployed before it existed).
    vote_batcher: str = ""
    # The Contributions contract (attributed contributions, tracked tokens); "" for a commons deployed before it.
    contributions: str = ""
    # The Initiatives contract (members' drafts and co-signatures); "" for a commons deployed before it.
    initiatives: str = ""

    @property
    def addresses(self) -> Addresses:
        """The commons' contracts by role: the three every commons has, and Initiatives and Contributions when it has
        them ("" when not), so that calls to any of them are built and read in words."""
        return Addresses(self.membership, self.governor, self.timelock, self.initiatives, self.contributions)

    def indexed_contracts(self) -> dict[str, str]:
        """{role: address} of every contract whose events the indexer reads: the three every commons has, and
        Contributions and Initiatives when the commons has them."""
        contracts: dict[str, str] = dict(self.addresses.by_role())
        if self.contributions:
            contracts["contributions"] = self.contributions
        if self.initiatives:
            contracts["initiatives"] = self.initiatives
        return contracts

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        data = json.loads(text)
        data["settings"] = CommonsSettings(**data["settings"])
        return cls(**data)


def default_path(chain_id: int) -> Path:
    return get_settings().deployments_dir / f"{chain_id}.json"


def save(manifest: Manifest, path: Path | None = None) -> Path:
    """Write the manifest (atomically) to `path` or the default place for its chain."""
    path = path or default_path(manifest.chain_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(manifest.to_json())
    temporary.replace(path)
    return path


def load(chain_id: int, path: Path | None = None) -> Manifest:
    """The manifest at `path`, else the one for `chain_id`; ConfigurationError if there is none."""
    path = path or default_path(chain_id)
    if not path.is_file():
        raise ConfigurationError(
            f"No commons is deployed on chain {chain_id} (no manifest at {path}); run `commons deploy` or give --manifest."
        )
    try:
        manifest = Manifest.from_json(path.read_text())
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigurationError(f"The manifest {path} is damaged: {exc}") from exc
    if manifest.chain_id != chain_id:
        raise ConfigurationError(f"The manifest {path} is for chain {manifest.chain_id}, but the node is chain {chain_id}.")
    return manifest
