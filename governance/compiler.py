"""Compile contracts/ with py-solc-x: a native solc if installed, else solc-js through a Node shim.

Imports are resolved here, so the standard JSON input is complete (every source's content) and is
exactly what a block explorer needs for verification. Artifacts are rebuilt only when that input
or the compiler changes.
"""

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import solcx
from solcx.exceptions import SolcError

from governance.config import PROJECT_ROOT, get_settings
from governance.errors import CompileError

CONTRACTS_DIR = PROJECT_ROOT / "contracts"
SHIM = Path(__file__).with_name("solcjs_shim.cjs")
COMPILER_SETTINGS = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "cancun",
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "metadata"]}},
}
IMPORT_RE = re.compile(r'^\s*import\s+(?:[^"\']*from\s+)?["\']([^"\']+)["\']\s*;', re.MULTILINE)


@dataclass(frozen=True)
class Artifact:
    """One compiled contract."""

    name: str
    abi: list
    bytecode: str
    deployed_bytecode: str

    @property
    def deployed_size(self) -> int:
        return (
            (len(self.deployed_bytecode) - 2) // 2
            if self.deployed_bytecode.startswith("0x")
            else len(self.deployed_bytecode) // 2
        )


def solc_binary() -> Path:
    """A native solc on PATH if there is one, otherwise the solc-js shim (needs `npm install`)."""
    native = shutil.which("solc")
    if native:
        return Path(native)
    if not (get_settings().node_modules / "solc").is_dir():
        raise CompileError("No Solidity compiler: install a native solc, or run `npm ci` for solc-js.")
    return SHIM


def _resolve(import_path: str, importer: str) -> str:
    """The source unit name of an import, relative to the project or node_modules."""
    if import_path.startswith("."):
        return str(Path(importer).parent.joinpath(import_path)).replace("\\", "/")
    return import_path


def _read_source(unit: str) -> str:
    for root in (PROJECT_ROOT, get_settings().node_modules):
        candidate = (root / unit).resolve()
        if candidate.is_file():
            return candidate.read_text()
    raise CompileError(f"Cannot find the Solidity source {unit!r} (is `npm ci` done?).")


def _normalise(unit: str) -> str:
    parts: list[str] = []
    for part in unit.split("/"):
        if part == "..":
            parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)


def standard_input(contracts_dir: Path = CONTRACTS_DIR) -> dict:
    """The complete standard JSON input: `contracts_dir`/*.sol and everything they import."""
    relative = contracts_dir.resolve().relative_to(PROJECT_ROOT).as_posix()
    pending = [f"{relative}/{p.name}" for p in sorted(contracts_dir.glob("*.sol"))]
    sources: dict[str, dict] = {}
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        content = _read_source(unit)
        sources[unit] = {"content": content}
        pending.extend(_normalise(_resolve(i, unit)) for i in IMPORT_RE.findall(content))
    return {"language": "Solidity", "sources": dict(sorted(sources.items())), "settings": COMPILER_SETTINGS}


def compile_contracts(
    force: bool = False, contracts_dir: Path = CONTRACTS_DIR, build_dir: Path | None = None
) -> dict[str, Artifact]:
    """Compile `contracts_dir` (or reuse the cached build) and return artifacts by contract name.

    Raises CompileError with the compiler's messages when the sources do not compile.
    """
    build_dir = build_dir or get_settings().build_dir
    binary = solc_binary()
    version = str(solcx.wrapper.get_solc_version(binary) if binary != SHIM else _shim_version())
    input_json = standard_input(contracts_dir)
    digest = hashlib.sha256((version + json.dumps(input_json, sort_keys=True)).encode()).hexdigest()
    info_path = build_dir / "build-info.json"
    if not force and info_path.is_file() and json.loads(info_path.read_text()).get("inputHash") == digest:
        return load_artifacts(build_dir)
    try:
        output = solcx.compile_standard(input_json, solc_binary=binary)
    except SolcError as exc:
        raise CompileError(f"Compilation failed:\n{exc.stderr_data or exc.stdout_data or exc}") from exc
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise CompileError("Compilation failed:\n" + "\n".join(errors))
    relative = contracts_dir.resolve().relative_to(PROJECT_ROOT).as_posix()
    _write_build(build_dir, input_json, output, version, digest, relative)
    return load_artifacts(build_dir)


def _shim_version() -> str:
    return solcx.wrapper.get_solc_version(SHIM, with_commit_hash=True).base_version


def _write_build(build_dir: Path, input_json: dict, output: dict, version: str, digest: str, own_dir: str) -> None:
    build_dir.mkdir(parents=True, exist_ok=True)
    (build_dir / "standard-input.json").write_text(json.dumps(input_json))
    for unit, contracts in output["contracts"].items():
        if not unit.startswith(own_dir + "/") and "TimelockController" not in contracts:
            continue
        for name, data in contracts.items():
            artifact = {
                "contractName": name,
                "sourceName": unit,
                "abi": data["abi"],
                "bytecode": "0x" + data["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + data["evm"]["deployedBytecode"]["object"],
                "metadata": data["metadata"],
            }
            (build_dir / f"{name}.json").write_text(json.dumps(artifact))
    # Written last: a build interrupted before this line is rebuilt next time.
    (build_dir / "build-info.json").write_text(json.dumps({"inputHash": digest, "solcVersion": version}))


def compiler_version() -> str:
    """The compiler version of the current build."""
    return json.loads((get_settings().build_dir / "build-info.json").read_text())["solcVersion"]


def load_artifacts(build_dir: Path | None = None) -> dict[str, Artifact]:
    """Artifacts of the last build, by contract name (Membership, CommonsGovernor, TimelockController…)."""
    build_dir = build_dir or get_settings().build_dir
    artifacts = {}
    for path in sorted(build_dir.glob("*.json")) if build_dir.is_dir() else []:
        if path.name in ("build-info.json", "standard-input.json"):
            continue
        data = json.loads(path.read_text())
        artifacts[data["contractName"]] = Artifact(data["contractName"], data["abi"], data["bytecode"], data["deployedBytecode"])
    if "CommonsGovernor" not in artifacts and build_dir == get_settings().build_dir:
        raise CompileError("No build of the contracts: run `commons compile`.")
    return artifacts
