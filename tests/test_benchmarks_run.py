"""Every benchmark script starts exactly as its docstring says (`.venv/bin/python benchmarks/<name>.py`), from any
directory and with no PYTHONPATH: each is launched with `--help`, which must print its usage and do nothing else."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if 'if __name__ == "__main__":' in p.read_text())


def test_every_benchmark_is_found():
    names = {p.name for p in SCRIPTS}
    assert {"bench_api.py", "bench_indexer.py", "bench_million.py", "generate_history.py", "bench_gas.py"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_docstring_names_the_plain_command(script: Path):
    docstring = ast.get_docstring(ast.parse(script.read_text())) or ""
    assert f".venv/bin/python benchmarks/{script.name}" in docstring


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_benchmark_starts_without_pythonpath(script: Path, tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, str(script), "--help"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage:"), done.stdout[:500]
    assert list(tmp_path.iterdir()) == []  # --help wrote nothing (and started no node that keeps state)
