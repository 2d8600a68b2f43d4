"""A real HTTP receiver for webhook tests: a loopback server in a thread that records every
POST and answers it the way the test asks (a status, extra headers, failures first, a delay)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    answered: int

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


class Receiver:
    """Records every POST and answers ``status`` with ``headers``, or 500 while ``fail_next``
    is above zero, after ``delay`` seconds. ``arrived`` is set once the first body is read."""

    def __init__(
        self, status: int = 204, headers: dict[str, str] | None = None, delay: float = 0.0
    ) -> None:
        self.requests: list[Received] = []
        self.fail_next = 0
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    answer = status
                    if receiver.fail_next > 0:
                        answer, receiver.fail_next = 500, receiver.fail_next - 1
                    receiver.requests.append(
                        Received(
                            self.path, {k.lower(): v for k, v in self.headers.items()}, body, answer
                        )
                    )
                receiver.arrived.set()
                time.sleep(delay)
                self.send_response(answer)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # keep the test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def received(self, path: str, case_id: str | None = None) -> list[Received]:
        """The requests to ``path`` (about ``case_id``, when given), oldest first."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path == path and (case_id is None or r.json["case_id"] == case_id)
            ]


@contextmanager
def receiving(
    status: int = 204, headers: dict[str, str] | None = None, delay: float = 0.0
) -> Iterator[Receiver]:
    """A started ``Receiver``, shut down on exit."""
    r = Receiver(status, headers, delay)
    r.thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()
        r.thread.join(5)
