"""A real HTTP receiver for webhook tests: it records every delivery (headers and body) and answers the status the
test sets; and an API process with the webhook worker, for the tests that run several."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver
