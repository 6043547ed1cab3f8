"""A CRM's REST API on a real socket on 127.0.0.1: documented response bodies by path, failures on demand."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fixtures.crm import load


def api_fixture(name: str, **changes: Any) -> Any:
    """`tests/fixtures/crm/api/<name>.json` without its `_source`, top-level keys replaced by `changes`."""
    body = load(f"api/{name}.json")
    body.pop("_source", None)
    return body | changes


@dataclass
class Failure:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    remaining: int | None = None
    """How many more requests fail; None: until `heal()`."""


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class FakeCrmApi:
    def __init__(self) -> None:
        self.bodies: dict[str, Any] = {}
        self.seen: list[Seen] = []
        self.failure: Failure | None = None
        self.delay_seconds = 0.0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, path: str, body: Any) -> None:
        self.bodies[path] = body

    def fail(self, status: int, headers: dict[str, str] | None = None, times: int | None = None) -> None:
        self.failure = Failure(status, headers or {}, times)

    def heal(self) -> None:
        self.failure = None
        self.delay_seconds = 0.0

    def calls(self, path_prefix: str = "") -> int:
        with self._lock:
            return sum(1 for seen in self.seen if seen.path.startswith(path_prefix))

    def _respond(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("content-length") or 0)
        if length:
            handler.rfile.read(length)
        with self._lock:
            self.seen.append(
                Seen(
                    handler.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in handler.headers.items()},
                )
            )
            failure = self.failure
            if failure is not None and failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self.failure = None
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if failure is not None:
            self._send(handler, failure.status, {"message": "failing on purpose"}, failure.headers)
        elif parts.path in self.bodies:
            self._send(handler, 200, self.bodies[parts.path])
        else:
            self._send(handler, 404, {"message": "resource not found"})

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(payload)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api._respond(self)

            def do_POST(self) -> None:
                api._respond(self)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests look at `seen`."""

        return Handler


@contextmanager
def running_crm_api() -> Iterator[FakeCrmApi]:
    api = FakeCrmApi()
    thread = threading.Thread(target=api.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield api
    finally:
        api.server.shutdown()
        api.server.server_close()
