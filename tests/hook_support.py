"""A real HTTP receiver for webhook tests: it records every delivery (headers and body) and answers the status the
test sets; and an API process with the webhook worker, for the tests that run several."""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.helpers import act, free_port, propose, to_voting, vote


@dataclass
class Delivery:
    id: str
    timestamp: int
    signature: str
    body: bytes

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    answers: list[int] = field(default_factory=list)  # statuses to answer in turn; then 204
    holds: list[float] = field(default_factory=list)  # seconds to hold each request open (recorded) before answering
    released: threading.Event = field(default_factory=threading.Event)  # set: held requests are answered at once
    got: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/garden?token=secret"

    def ids(self) -> list[str]:
        with self.lock:
            return [d.id for d in self.got]

    def of_type(self, type_: str) -> list[Delivery]:
        with self.lock:
            return [d for d in self.got if d.payload["type"] == type_]


def start_receiver() -> Receiver:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with receiver.lock:
                receiver.got.append(
                    Delivery(
                        self.headers["webhook-id"],
                        int(self.headers["webhook-timestamp"]),
                        self.headers["webhook-signature"],
                        body,
                    )
                )
                status = receiver.answers.pop(0) if receiver.answers else 204
                hold = receiver.holds.pop(0) if receiver.holds else 0.0
            if hold:
                receiver.released.wait(hold)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:  # the sender is gone (a test killed its process mid-request)
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


def spawn_api_process(database_url: str, signing_key: str, log_path) -> tuple[subprocess.Popen, int]:
    """An API process (tests/hook_server.py) with its webhook worker on `database_url`, loopback receivers let through,
    its output in `log_path`, starting; and its port."""
    port = free_port()
    env = {**os.environ, "COMMONS_WEBHOOK_SIGNING_KEY": signing_key, "COMMONS_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"}
    with open(log_path, "ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.hook_server", database_url, str(port)], env=env, stdout=output, stderr=output
        )
    return process, port


def wait_serving(process: subprocess.Popen, port: int, seconds: float = 60) -> None:
    """Return once the API process on `port` serves (its webhook worker is then running); RuntimeError if it stops or
    does not answer within `seconds` (it is killed then)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API process on port {port} stopped with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/hooks/public-key", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)  # waiting for another process to start
    process.kill()
    raise RuntimeError(f"the API process on port {port} did not answer within {seconds:.0f} s")


def start_api_process(database_url: str, signing_key: str, log_path) -> subprocess.Popen:
    """spawn_api_process, returned once it serves."""
    process, port = spawn_api_process(database_url, signing_key, log_path)
    wait_serving(process, port)
    return process


def burst(commons, stewards, founders) -> None:
    """Fifteen events to deliver: three proposals, each voted on by four members."""
    for n in range(3):
        pid = propose(commons, stewards[n % 2], [act.pay(founders[3].address, n + 1)], f"Burst {n}")
        to_voting(commons, pid)
        for member in founders[:4]:
            vote(commons, member, pid, "for", f"yes {n}")
