"""Real receivers on 127.0.0.1 for the notification tests: a Standard Webhooks endpoint that checks signatures,
a Slack-shaped incoming webhook, and an SMTP server (aiosmtpd). Each records what arrived and can be told to
fail, hang, or go away and come back.
"""

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.devstack.ports import free_port
from services.runtime.standard_webhooks import SignatureError, decode_secret, verify


@dataclass(frozen=True)
class Reply:
    """How to answer one request: a status, after an optional delay (a delay past the sender's timeout = a hang)."""

    status: int = 200
    delay: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()


OK = Reply()


@dataclass
class Request:
    headers: dict[str, str]
    body: bytes
    status: int
    problem: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)


Check = Callable[[dict[str, str], bytes], str | None]
"""Returns None when the request is well-formed, else what is wrong with it."""


class HttpReceiver:
    """An HTTP server in a thread. Replies come from `script` in order, then `default`."""

    def __init__(self, check: Check, success_body: bytes = b"", secret: str | None = None) -> None:
        self.check = check
        self.secret = secret
        """The Standard Webhooks secret this receiver verifies with, if it is a webhook endpoint."""
        self.success_body = success_body
        self.port = free_port()
        self.script: list[Reply] = []
        self.default = OK
        self.requests: list[Request] = []
        self.seen = 0
        self.cut_off = 0
        """Requests whose body ended before its content-length: the sender died mid-send, as a real server sees it."""
        self.lock = threading.Lock()
        self.hold_request: int | None = None
        self.held_reply = OK
        self.holding = threading.Event()
        self.released = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _next_reply(self) -> Reply:
        with self.lock:
            return self.script.pop(0) if self.script else self.default

    def _record(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)

    def hold(self, request_number: int, then: Reply = OK) -> None:
        """The n-th request (counting from 1) is answered with `then` only after `release()`; `holding` is set
        while it waits."""
        self.hold_request = request_number
        self.held_reply = then

    def release(self) -> None:
        self.released.set()

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:
                    with receiver.lock:
                        receiver.cut_off += 1
                    return
                headers = {name.lower(): value for name, value in self.headers.items()}
                problem = receiver.check(headers, body)
                with receiver.lock:
                    receiver.seen += 1
                    held = receiver.seen == receiver.hold_request
                if held:
                    receiver.holding.set()
                    receiver.released.wait(120)
                reply = receiver.held_reply if held else receiver._next_reply()
                reply = reply if problem is None else Reply(400)
                time.sleep(reply.delay)
                receiver._record(Request(headers, body, reply.status, problem))
                payload = receiver.success_body if reply.status == 200 else (problem or "failing on purpose").encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers:
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the sender gave up (timeout) or was killed; what it sent is recorded all the same

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accepted(self) -> list[Request]:
        with self.lock:
            return [request for request in self.requests if 200 <= request.status < 300]

    def problems(self) -> list[str]:
        with self.lock:
            return [request.problem for request in self.requests if request.problem]

    def wait_for(self, predicate: Callable[["HttpReceiver"], bool], seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not predicate(self):
            if time.monotonic() > deadline:
                seen = [(request.headers.get("webhook-id"), request.status) for request in self.requests]
                raise TimeoutError(f"receiver on {self.port} never saw what the test waited for; it saw {seen}")
            time.sleep(0.05)


def webhook_receiver(secret: str) -> HttpReceiver:
    """Accepts only requests whose Standard Webhooks signature verifies with `secret`, like a careful CRM."""
    key = decode_secret(secret)

    def check(headers: dict[str, str], body: bytes) -> str | None:
        try:
            verify([key], headers, body, datetime.now(UTC))
        except SignatureError as exc:
            return f"bad signature: {exc}"
        return None

    return HttpReceiver(check, secret=secret)


def slack_receiver() -> HttpReceiver:
    """Checks the shape Slack's incoming webhooks accept, and answers `ok` as Slack does."""

    def check(headers: dict[str, str], body: bytes) -> str | None:
        try:
            message = json.loads(body)
        except ValueError:
            return "invalid_payload: not JSON"
        if not isinstance(message.get("text"), str) or not isinstance(message.get("blocks"), list):
            return "invalid_payload: needs text and blocks"
        if not all(isinstance(block, dict) and "type" in block for block in message["blocks"]):
            return "invalid_blocks"
        return None

    return HttpReceiver(check, success_body=b"ok")


@contextmanager
def running(receiver: HttpReceiver) -> Iterator[HttpReceiver]:
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


def delivery_ids(requests: list[Request]) -> list[str]:
    return [request.headers["webhook-id"] for request in requests]


@dataclass
class SmtpReceiver:
    """aiosmtpd on a fixed free port, so it can be stopped and started again at the same address."""

    port: int = field(default_factory=free_port)
    messages: list[EmailMessage] = field(default_factory=list)
    refuse_with: list[str] = field(default_factory=list)
    """SMTP replies to give to the next DATA commands instead of accepting ("451 ...", "550 ...")."""
    _controller: Controller | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse_with:
            return self.refuse_with.pop(0)
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"SMTP receiver got {len(self.messages)} of {count} messages")
            time.sleep(0.05)
