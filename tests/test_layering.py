"""The layering rule (docs/architecture.md): governance/ knows the chain, not HTTP or SQL; api/ never
reaches into the CLI; a route never imports another route. Read from the source, not by importing it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB_OR_SQL = ("fastapi", "starlette", "sqlmodel", "sqlalchemy", "alembic", "api", "scripts")


def imported_modules(path: Path) -> set[str]:
    """Every module a Python file imports, at any depth of the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def top_level(module: str) -> str:
    return module.split(".", 1)[0]


@pytest.mark.parametrize("path", sorted((ROOT / "governance").rglob("*.py")), ids=lambda p: p.name)
def test_governance_imports_neither_the_web_nor_sql_layers(path):
    offending = {m for m in imported_modules(path) if top_level(m) in WEB_OR_SQL}
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


@pytest.mark.parametrize("path", sorted((ROOT / "api").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_api_does_not_import_the_command_line(path):
    offending = {m for m in imported_modules(path) if top_level(m) == "scripts"}
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


@pytest.mark.parametrize("path", sorted((ROOT / "api" / "routes").glob("*.py")), ids=lambda p: p.name)
def test_a_route_does_not_import_another_route(path):
    offending = {m for m in imported_modules(path) if m.startswith("api.routes")}
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


def test_the_layering_check_sees_a_forbidden_import(tmp_path):
    # The rule must be able to fail: a module importing fastapi inside a function is caught.
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from fastapi import FastAPI\n    return FastAPI\n")
    assert "fastapi" in imported_modules(sample)
