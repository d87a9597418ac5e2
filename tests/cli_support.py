"""Running the `commons` command as a steward would: a real process against the test anvil node."""

import os
import subprocess
import sys

import pytest

from governance.manifest import save

# Sub-commands that find no commons through --manifest.
WITHOUT_MANIFEST = ("node", "compile", "deploy", "demo")


@pytest.fixture
def run(commons, tmp_path):
    """run(*args, key=…, extra_env=…, stdin=…): the command's CompletedProcess; the commons' manifest is passed for you."""
    manifest_path = save(commons.manifest, tmp_path / "manifest.json")
    text = tmp_path / "proposal.md"
    text.write_text("# Pay for seeds\n\nSpring seeds for the beds.\n")

    def run_cli(*args: str, key: str | None = None, extra_env: dict | None = None, stdin=None) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMMONS_") and k != "COLUMNS"}
        env.update(COMMONS_RPC_URL=commons.w3.provider.endpoint_uri, COMMONS_STATE_DIR=str(tmp_path / "state"))
        if key:
            env["COMMONS_PRIVATE_KEY"] = key
        env.update(extra_env or {})
        command = [sys.executable, "-m", "scripts.cli", *args]
        if args[0] not in WITHOUT_MANIFEST and args[:2] != ("relay", "status") and "--help" not in args:
            command += ["--manifest", str(manifest_path)]
        return subprocess.run(command, capture_output=True, stdin=stdin, text=True, env=env, timeout=120)

    run_cli.text = text
    return run_cli
