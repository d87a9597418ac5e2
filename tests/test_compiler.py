"""The compiler: builds are reused until a source or setting changes; sizes fit; the standard JSON input is complete."""

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from governance import compiler
from governance.compiler import CONTRACTS_DIR, IMPORT_RE, PROJECT_ROOT, compile_contracts, load_artifacts
from governance.config import get_settings
from governance.errors import CompileError

SIZE_LIMIT = 24 * 1024  # EIP-170
INIT_CODE_LIMIT = 2 * SIZE_LIMIT  # EIP-3860
TINY = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// A stand-in named like the real governor, so the build counts as complete.
contract CommonsGovernor {{
    uint256 public answer = {answer};
}}
"""


@pytest.fixture(scope="module")
def full_build(tmp_path_factory) -> Path:
    """A private copy of the project's build (compiled here only if it is missing or stale)."""
    build_dir = tmp_path_factory.mktemp("full-build")
    default = get_settings().build_dir
    if default.is_dir():
        shutil.copytree(default, build_dir, dirs_exist_ok=True)
    compile_contracts(build_dir=build_dir)
    return build_dir


@pytest.fixture(scope="module")
def tiny_contracts():
    """A one-contract source tree inside the project (sources must live under it), removed afterwards."""
    path = Path(tempfile.mkdtemp(dir=PROJECT_ROOT, prefix=".test-contracts-"))
    (path / "CommonsGovernor.sol").write_text(TINY.format(answer=42))
    yield path
    shutil.rmtree(path)


@pytest.fixture(scope="module")
def tiny_build(tiny_contracts, tmp_path_factory) -> Path:
    build_dir = tmp_path_factory.mktemp("tiny-build")
    compile_contracts(contracts_dir=tiny_contracts, build_dir=build_dir)
    return build_dir


@pytest.fixture
def build_dir(tiny_build, tmp_path, monkeypatch):
    """A copy of the tiny build, where the settings (COMMONS_BUILD_DIR) point."""
    path = tmp_path / "build"
    shutil.copytree(tiny_build, path)
    monkeypatch.setenv("COMMONS_BUILD_DIR", str(path))
    get_settings.cache_clear()
    yield path
    monkeypatch.delenv("COMMONS_BUILD_DIR")
    get_settings.cache_clear()


@pytest.fixture
def tiny_source(tiny_contracts):
    """The tiny contract's file, restored after the test."""
    path = tiny_contracts / "CommonsGovernor.sol"
    yield path
    path.write_text(TINY.format(answer=42))


@pytest.fixture
def compiler_runs(monkeypatch) -> list:
    """Counts real compiler invocations (and still compiles)."""
    calls: list = []
    real = compiler.solcx.compile_standard

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(compiler.solcx, "compile_standard", counting)
    return calls


def mtimes(directory: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in directory.iterdir()}


def test_unchanged_sources_reuse_the_build(full_build, compiler_runs):
    before = mtimes(full_build)
    artifacts = compile_contracts(build_dir=full_build)
    assert compiler_runs == []
    assert mtimes(full_build) == before
    assert {"CommonsGovernor", "Membership", "TimelockController"} <= set(artifacts)


def test_build_dir_comes_from_the_settings(build_dir, tiny_contracts, compiler_runs):
    before = mtimes(build_dir)
    compile_contracts(contracts_dir=tiny_contracts)
    assert compiler_runs == []
    assert mtimes(build_dir) == before
    assert load_artifacts()["CommonsGovernor"].abi[0]["name"] == "answer"


def test_changed_source_is_rebuilt(build_dir, tiny_contracts, tiny_source, compiler_runs):
    tiny_source.write_text(TINY.format(answer=43))
    compile_contracts(contracts_dir=tiny_contracts)
    assert len(compiler_runs) == 1
    standard_input = json.loads((build_dir / "standard-input.json").read_text())
    assert any("answer = 43" in s["content"] for s in standard_input["sources"].values())


def test_changed_setting_is_rebuilt(build_dir, tiny_contracts, compiler_runs, monkeypatch):
    before = json.loads(json.loads((build_dir / "CommonsGovernor.json").read_text())["metadata"])
    monkeypatch.setattr(
        compiler, "COMPILER_SETTINGS", {**compiler.COMPILER_SETTINGS, "optimizer": {"enabled": True, "runs": 1000}}
    )
    compile_contracts(contracts_dir=tiny_contracts)
    assert len(compiler_runs) == 1
    after = json.loads(json.loads((build_dir / "CommonsGovernor.json").read_text())["metadata"])
    assert (before["settings"]["optimizer"]["runs"], after["settings"]["optimizer"]["runs"]) == (200, 1000)


def test_force_rebuilds_unchanged_sources(build_dir, tiny_contracts, compiler_runs):
    compile_contracts(force=True, contracts_dir=tiny_contracts)
    assert len(compiler_runs) == 1


def test_compile_error_is_reported_with_the_compilers_message(build_dir, tiny_contracts, tiny_source):
    tiny_source.write_text(TINY.format(answer="undefinedThing"))
    with pytest.raises(CompileError) as failed:
        compile_contracts(contracts_dir=tiny_contracts)
    assert "Compilation failed" in str(failed.value)
    assert "undefinedThing" in str(failed.value)


@pytest.mark.parametrize("name", ["CommonsGovernor", "Membership", "TimelockController"])
def test_contract_fits_the_size_limit(full_build, name):
    artifact = load_artifacts(full_build)[name]
    assert 0 < artifact.deployed_size < SIZE_LIMIT
    assert (len(artifact.bytecode) - 2) // 2 < INIT_CODE_LIMIT


def test_standard_input_holds_every_project_source(full_build):
    sources = json.loads((full_build / "standard-input.json").read_text())["sources"]
    for path in CONTRACTS_DIR.glob("*.sol"):
        assert sources[f"contracts/{path.name}"]["content"] == path.read_text()


def test_standard_input_resolves_every_import(full_build):
    sources = json.loads((full_build / "standard-input.json").read_text())["sources"]
    for unit, source in sources.items():
        for imported in IMPORT_RE.findall(source["content"]):
            resolved = compiler._normalise(compiler._resolve(imported, unit))
            assert resolved in sources, f"{unit} imports {imported}, missing from the standard input"


def test_standard_input_covers_what_the_compiler_used(full_build):
    """Every source named in a contract's metadata is in the standard input, so an explorer can verify it."""
    sources = json.loads((full_build / "standard-input.json").read_text())["sources"]
    for name in ("CommonsGovernor", "Membership", "TimelockController"):
        metadata = json.loads(json.loads((full_build / f"{name}.json").read_text())["metadata"])
        assert set(metadata["sources"]) <= set(sources), name


def test_standard_input_carries_the_build_settings(full_build):
    standard_input = json.loads((full_build / "standard-input.json").read_text())
    assert standard_input["language"] == "Solidity"
    assert standard_input["settings"]["evmVersion"] == "cancun"
    assert standard_input["settings"]["optimizer"] == {"enabled": True, "runs": 200}


def test_build_records_the_compiler_version(full_build):
    info = json.loads((full_build / "build-info.json").read_text())
    assert info["solcVersion"].startswith("0.8.")
