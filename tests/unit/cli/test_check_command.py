"""`rapport-guard check` against a small HTTP server on 127.0.0.1 that answers like the scoring service."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from services.cli.main import main


class FakeScoring(BaseHTTPRequestHandler):
    answer: ClassVar[tuple[int, dict[str, Any]]] = (200, {})
    seen: ClassVar[list[tuple[str, dict[str, str], Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeScoring.seen.append((self.path, dict(self.headers), body))
        status, answer = FakeScoring.answer
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def scoring() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeScoring)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeScoring.seen.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def decision(name: str) -> dict[str, Any]:
    return {
        "decision": name,
        "level": "watch",
        "tier": "stranger",
        "nuisance_score": 30.0,
        "rapport_score": 0.0,
        "reasons": [{"rule": "min_gap", "message": "1 day since the last touch; at least 2 days for a stranger"}],
        "next_allowed_at": "2026-12-05T09:00:00Z",
        "sender_id": "rep-1",
        "contact_id": "c-1",
    }


@pytest.mark.parametrize(("name", "status"), [("allow", 0), ("warn", 1), ("block", 2)])
def test_the_exit_status_is_the_decision(
    scoring: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, name: str, status: int
) -> None:
    monkeypatch.setenv("RAPPORT_API_KEY", "rk_test_123")
    FakeScoring.answer = (200, decision(name))
    argv = ["check", "--url", scoring, "--tenant", "acme", "--sender", "rep-1", "--contact-email", "dana@example.org"]
    assert main([*argv, "--channel", "email", "--contact-timezone", "Europe/Berlin"]) == status
    out = capsys.readouterr().out
    assert out.startswith(f"{name} (level watch")
    assert "min_gap: 1 day since the last touch" in out
    path, headers, body = FakeScoring.seen[-1]
    assert path == "/v1/check"
    assert headers["Authorization"] == "Bearer rk_test_123"
    assert body == {
        "tenant": "acme",
        "sender": {"id": "rep-1"},
        "contact": {"email": "dana@example.org", "timezone": "Europe/Berlin"},
        "channel": "email",
    }


def test_a_refusal_or_an_unreachable_service_exits_3(scoring: str, capsys: pytest.CaptureFixture[str]) -> None:
    FakeScoring.answer = (401, {"detail": "missing API key"})
    argv = ["--sender", "rep-1", "--contact", "c-1", "--channel", "sms", "--api-key", "k"]
    assert main(["check", "--url", scoring, *argv]) == 3
    assert "answered 401" in capsys.readouterr().err
    assert main(["check", "--url", "http://127.0.0.1:9", *argv]) == 3
    assert "cannot reach" in capsys.readouterr().err


def test_a_mistyped_command_line_exits_3_not_block(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse's usage error is 2, which a script would read as "block"."""
    with pytest.raises(SystemExit) as stopped:
        main(["check", "--sender", "rep-1", "--contact", "c-1", "--channel", "fax"])
    assert stopped.value.code == 3
    assert "invalid choice: 'fax'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        main(["check", "--contact", "c-1", "--channel", "email"])
    assert stopped.value.code == 3
