"""`make run`'s program: it names its broker, the demo prints an alert, and Ctrl-C leaves no process behind."""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from services.devstack.ports import free_port
from services.runtime.standard_webhooks import decode_secret, signed_headers

ROOT = Path(__file__).resolve().parents[2]


def descendants(pid: int) -> set[int]:
    children = set()
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            child = int(status.parent.name)
            children |= {child} | descendants(child)
    return children


def own_webhook(port: str, secret: str) -> str:
    """A user's own signed webhook, as the README shows it: the status of its one item."""
    item = {
        "event_id": "own-1",
        "tenant": "demo",
        "occurred_at": "2026-11-02T09:30:00Z",
        "sender": {"id": "rep-17"},
        "contact": {"id": "contact-own"},
        "channel": "email",
        "direction": "outbound",
        "kind": "message",
    }
    body = json.dumps({"events": [item]}).encode()
    headers = signed_headers(decode_secret(secret), "msg-own-1", body, int(time.time()))
    response = httpx.post(f"http://127.0.0.1:{port}/v1/webhooks/generic", content=body, headers=headers, timeout=10)
    assert response.status_code == 202, response.text
    return str(response.json()["results"][0]["status"])


@pytest.mark.slow
def test_demo_prints_an_alert_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"KAFKA_BOOTSTRAP_SERVERS", "GENERIC_WEBHOOK_SECRET"}}
    env = {k: v for k, v in env.items() if k != "API_KEYS_FILE"}
    scoring_port = free_port()
    env |= {"INGEST_PORT": str(free_port()), "SCORING_PORT": str(scoring_port), "NOTIFY_PORT": str(free_port())}
    env["DEMO_API_KEY"] = demo_key = "rg_demo_" + secrets.token_hex(12)
    output = tmp_path / "run.out"
    with output.open("wb") as out:
        runner = subprocess.Popen(
            [sys.executable, "-m", "services.devstack.run"], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while b"ALERT [STALKING] " not in output.read_bytes():  # current news, not only a historical record
            assert runner.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.2)
        check = {"tenant": "demo", "sender": {"id": "rep-sam"}, "contact": {"id": "contact-dana"}, "channel": "email"}
        scoring = f"http://127.0.0.1:{scoring_port}/v1/check"
        assert httpx.post(scoring, json=check, timeout=10).status_code == 401
        answer = httpx.post(scoring, json=check, headers={"Authorization": f"Bearer {demo_key}"}, timeout=10)
        assert answer.json()["decision"] == "block", "the printed key is the one the scorer accepts"
        printed = re.search(r"signed with the secret made up for this run: (whsec_\S+) ", output.read_text())
        assert printed, "the made-up webhook secret is shown, so a user can sign webhooks of their own"
        assert own_webhook(env["INGEST_PORT"], printed[1]) == "accepted"
        children = descendants(runner.pid)
        assert len(children) >= 4, "broker and three services run as separate processes"
        assert (tmp_path / ".run" / "broker").exists(), "make run records its broker's address"
        runner.send_signal(signal.SIGINT)
        assert runner.wait(60) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
    text = output.read_text()
    broker = re.search(r"^broker: (apache|embedded) at (127\.0\.0\.1:\d+)$", text, re.MULTILINE)
    assert broker, text
    assert re.search(r"^  started in \d+\.\d s$", text, re.MULTILINE), text
    assert f"kcat -b {broker[2]} " in text, "the banner shows how to tail the alerts on the real address"
    assert re.search(r"^ALERT \[WATCH(, historical)?\] Sender rep-sam → contact contact-dana", text, re.MULTILINE)
    assert "ALERT [STALKING] Sender rep-sam" in text, "the pursuit is still going on: news, not a historical record"
    assert f"API key (operator: every tenant, every scope): {demo_key}" in text
    assert f"curl -s http://127.0.0.1:{scoring_port}/v1/check -H 'Authorization: Bearer {demo_key}'" in text
    assert demo_key not in (tmp_path / ".run" / "api-keys.yaml").read_text(), "only its hash is written"
    assert "mentee-lee" not in text, "the healthy mentorship raises no alert"
    still_running = [pid for pid in children if Path(f"/proc/{pid}").exists()]
    assert still_running == []
    assert not (tmp_path / ".run" / "broker").exists()
