"""The deployment manifest: what was deployed where, which every other command reads."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from governance.actions import Addresses
from governance.config import get_settings
from governance.errors import ConfigurationError


@dataclass
class CommonsSettings:
    """Governance settings chosen at deploy; afterwards changeable only by proposal."""

    voting_delay: int = 60
    voting_period: int = 3 * 24 * 3600
    quorum_percent: int = 30
    late_quorum_extension: int = 24 * 3600
    timelock_delay: int = 24 * 3600


@dataclass
class Manifest:
    name: str
    chain_id: int
    membership: str
    governor: str
    timelock: str
    deployment_block: int
    deployer: str
    deployed_at: int
    compiler_version: str
    settings: CommonsSettings
    founders: list[dict] = field(default_factory=list)  # {"address", "handle"}
    stewards: list[str] = field(default_factory=list)
    transactions: dict[str, str] = field(default_factory=dict)

    @property
    def addresses(self) -> Addresses:
        return Addresses(self.membership, self.governor, self.timelock)

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
        raise ConfigurationError(f"No commons is deployed on chain {chain_id} (no manifest at {path}); run `commons deploy` or give --manifest.")
    try:
        manifest = Manifest.from_json(path.read_text())
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigurationError(f"The manifest {path} is damaged: {exc}") from exc
    if manifest.chain_id != chain_id:
        raise ConfigurationError(f"The manifest {path} is for chain {manifest.chain_id}, but the node is chain {chain_id}.")
    return manifest
