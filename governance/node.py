"""The local chain: an anvil process (npm `@foundry-rs/anvil`) with its state kept in a file.

Like ape-foundry's provider: start, wait until it answers, say where it listens, stop. Stopping
sends SIGTERM, on which anvil dumps its state; it also dumps every few seconds, so even a killed
node loses at most that much.
"""

import json
import os
import platform
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from web3 import Web3
from web3.types import RPCEndpoint

from governance.config import get_settings
from governance.errors import CommonsError, InvalidInput, NodeError
from governance.rpc import Rpc

STATE_DUMP_SECONDS = 5
# anvil writes the state of each block it evicts from memory to disk, with no limit unless told (about 1 MB a
# block for a test commons; foundry-rs/foundry#8392): a test run, or a day of 2-second blocks, fills a disk.
# It keeps this many, in a folder the node owns and removes when it stops; older state is pruned, as a
# hosted provider prunes it, and the indexer and audit already live with that.
PERSISTED_STATES = 256


def anvil_binary() -> Path:
    """The anvil executable: one on PATH, else the platform binary shipped by the npm package."""
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
    shipped = get_settings().node_modules / "@foundry-rs" / f"anvil-{platform.system().lower()}-{arch}" / "bin" / "anvil"
    if shipped.is_file():
        return shipped
    raise NodeError("anvil is not installed: run `npm ci` (package @foundry-rs/anvil).")


def rpc_answers(url: str, timeout: float = 1.0) -> bool:
    """Whether a JSON-RPC node answers `eth_chainId` at `url`."""
    try:
        Rpc(url, timeout).call("eth_chainId", [])
        return True
    except CommonsError:
        return False


def _resume_clock(url: str) -> None:
    """anvil forgets `evm_increaseTime` offsets on restart; without this the next block would be older
    than the last one and every timestamp-clocked checkpoint would break."""
    rpc = Rpc(url)
    latest = int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    gap = latest - int(time.time())
    if gap > 0:
        rpc.call("evm_increaseTime", [gap + 1])


class LocalNode:
    """An anvil node listening on 127.0.0.1:`port`, its chain state in `state_file` (None: in memory)."""

    def __init__(
        self,
        port: int,
        state_file: Path | None,
        block_time: float | None = None,
        log_file: Path | None = None,
        extra_args: tuple[str, ...] = (),
        state_interval: int = STATE_DUMP_SECONDS,
    ):
        """`state_interval`: seconds between state dumps (anvil also dumps when stopped)."""
        self.port = port
        self.state_interval = state_interval
        self.extra_args = extra_args
        self.state_file = state_file
        self.block_time = block_time
        self.log_file = log_file
        self.history_dir = history_dir_for(state_file, port)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        command = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(self.port), "--chain-id", "31337"]
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            command += ["--state", str(self.state_file), "--state-interval", str(self.state_interval)]
        if self.block_time:
            command += ["--block-time", str(self.block_time)]
        command += ["--cache-path", str(self.history_dir), "--max-persisted-states", str(PERSISTED_STATES)]
        return command + list(self.extra_args)

    def start(self, timeout: float = 20.0) -> str:
        """Start anvil in its own process group and return its URL once it answers.

        Raises NodeError if the port is taken or anvil does not answer within `timeout` seconds.
        """
        if rpc_answers(self.url):
            raise NodeError(f"Something already answers on {self.url}; stop it or choose another port.")
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        shutil.rmtree(self.history_dir, ignore_errors=True)  # a killed node's leftovers
        self.history_dir.mkdir(parents=True)
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NodeError(f"anvil exited with code {self.process.returncode}; see {self.log_file or 'its output'}.")
            if rpc_answers(self.url):
                _resume_clock(self.url)
                return self.url
            time.sleep(0.05)
        self.stop()
        raise NodeError(f"anvil did not answer on {self.url} within {timeout:.0f} s.")

    def stop(self, timeout: float = 20.0) -> None:
        """Stop anvil; it writes its state file on the way out."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.history_dir, ignore_errors=True)


def history_dir_for(state_file: Path | None, port: int) -> Path:
    """Where anvil keeps older blocks' state: beside its state file, or a temporary folder of its port's."""
    if state_file is not None:
        return state_file.parent / "anvil-history"
    return Path(tempfile.gettempdir()) / f"commons-anvil-history-{port}"


# The background node that `commons node start/stop` manages, tracked by a pid file.


def _pid_file() -> Path:
    return get_settings().state_dir / "anvil.pid"


def default_state_file() -> Path:
    return get_settings().state_dir / "anvil-state.json"


def start_background_node(port: int, block_time: float | None = None) -> tuple[str, int]:
    """Start the project's local node in the background; returns (url, pid)."""
    settings = get_settings()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    # 20 unlocked development accounts: enough for the demo commons.
    node = LocalNode(port, default_state_file(), block_time, settings.state_dir / "anvil.log", ("--accounts", "20"))
    url = node.start()
    assert node.process is not None
    _pid_file().write_text(json.dumps({"pid": node.process.pid, "url": url, "block_time": block_time}))
    return url, node.process.pid


def background_node() -> dict | None:
    """{pid, url, block_time} of the running background node, or None."""
    path = _pid_file()
    if not path.is_file():
        return None
    info = json.loads(path.read_text())
    try:
        os.kill(info["pid"], 0)
    except ProcessLookupError:
        path.unlink()
        return None
    return info


def stop_background_node(timeout: float = 20.0) -> bool:
    """Stop the background node (it saves its state first); False if none was running."""
    info = background_node()
    if info is None:
        return False
    os.kill(info["pid"], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(info["pid"], 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(info["pid"], signal.SIGKILL)
    _pid_file().unlink(missing_ok=True)
    shutil.rmtree(history_dir_for(default_state_file(), int(info["url"].rsplit(":", 1)[1])), ignore_errors=True)
    return True


def is_development_node(w3: Web3) -> bool:
    """Whether `w3` talks to a local anvil node (whose accounts are unlocked and whose clock can be moved)."""
    return "anvil" in w3.client_version.lower()


def advance_clock(w3: Web3, seconds: int) -> int:
    """Move a local node's clock `seconds` forward and mine a block there; returns that block's timestamp.

    Raises InvalidInput on any other node (a real chain's time cannot be moved) or for a negative duration.
    """
    if not is_development_node(w3):
        raise InvalidInput("Only a local anvil node's clock can be moved; this node is not one.")
    if seconds < 0:
        raise InvalidInput("The clock only moves forward.")
    w3.provider.make_request(RPCEndpoint("evm_increaseTime"), [seconds])
    w3.provider.make_request(RPCEndpoint("evm_mine"), [])
    return w3.eth.get_block("latest")["timestamp"]


@contextmanager
def mining_each_transaction(w3: Web3) -> Iterator[None]:
    """Meanwhile, a local node that mines on a timer mines each transaction at once (the demo's history would
    otherwise wait a block per transaction); afterwards it goes back to its timer. Elsewhere: nothing changes."""
    if not is_development_node(w3) or w3.provider.make_request(RPCEndpoint("anvil_getAutomine"), [])["result"]:
        yield
        return
    block_time = (background_node() or {}).get("block_time") or 1
    w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [True])
    try:
        yield
    finally:
        w3.provider.make_request(RPCEndpoint("evm_setIntervalMining"), [max(1, round(block_time))])
