"""A store that does not answer is named, with its server, on `/readyz` and in the 503 of every service that
waits for it; the URL (which may hold a password) never is."""

from pathlib import Path

from fastapi.testclient import TestClient

from services.devstack.ports import free_port
from services.notification.app import create_app as notification_app
from services.notification.settings import NotificationSettings
from services.scoring.app import create_app as scoring_app
from services.scoring.settings import ScoringSettings
from tests.harness.api_keys import operator_keys_file


def nowhere() -> tuple[str, str]:
    """A Redis URL with a password and nothing listening, and how messages may name it."""
    port = free_port()
    return f"redis://svc:s3cret-pw@127.0.0.1:{port}/0", f"Redis at 127.0.0.1:{port} (ConnectionError)"


def test_scoring_is_not_ready_and_answers_503_naming_its_state_store(tmp_path: Path) -> None:
    url, where = nowhere()
    operator, keys_file = operator_keys_file(tmp_path)
    settings = ScoringSettings(
        identity_hmac_key="identity-key-0123456789",
        kafka_bootstrap_servers="127.0.0.1:1",
        api_keys_file=keys_file,
        state_store_url=url,
        state_store_timeout_seconds=1,
    )
    client = TestClient(scoring_app(settings))  # no lifespan: the broker is never started
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()["reason"]) == (503, f"state store unavailable: {where}")
    check = client.post(
        "/v1/check",
        json={"sender": {"id": "rep-1"}, "contact": {"id": "c-1"}, "channel": "email"},
        headers=operator.headers,
    )
    assert (check.status_code, check.json()["detail"]) == (503, f"state store unavailable: {where}")
    assert "s3cret-pw" not in ready.text + check.text


def test_notification_is_not_ready_naming_its_cool_down_store() -> None:
    url, where = nowhere()
    settings = NotificationSettings(kafka_bootstrap_servers="127.0.0.1:1", notify_cooldown_store_url=url)
    ready = TestClient(notification_app(settings)).get("/readyz")
    assert (ready.status_code, ready.json()["reason"]) == (503, f"cool-down store unavailable: {where}")
    assert "s3cret-pw" not in ready.text
