"""Bad notification settings stop the service at start, naming the variable or the routing field."""

from pathlib import Path

import pytest

from services.notification import main
from services.notification.settings import NotificationSettings


def test_a_bad_value_is_named(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NOTIFY_MAX_ATTEMPTS", "0")
    monkeypatch.setenv("NOTIFY_COOLDOWN_STORE_URL", "postgres://x")
    with pytest.raises(SystemExit):
        NotificationSettings.load()
    err = capsys.readouterr().err
    assert "NOTIFY_MAX_ATTEMPTS: Input should be greater than or equal to 1" in err
    assert "NOTIFY_COOLDOWN_STORE_URL: String should match pattern" in err


def test_backoff_cap_below_its_start_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_BACKOFF_INITIAL_SECONDS", "10")
    monkeypatch.setenv("NOTIFY_BACKOFF_MAX_SECONDS", "1")
    with pytest.raises(SystemExit):
        NotificationSettings.load()


def test_kafka_keeps_the_partition_for_as_long_as_one_alert_can_take() -> None:
    settings = NotificationSettings(
        notify_max_attempts=10,
        notify_attempt_timeout_seconds=30,
        notify_backoff_initial_seconds=1,
        notify_backoff_max_seconds=60,
    )
    assert settings.delivery_budget_seconds() == 10 * 30 + (1 + 2 + 4 + 8 + 16 + 32 + 60 + 60 + 60)
    assert settings.max_poll_interval_ms() >= settings.delivery_budget_seconds() * 1000
    assert NotificationSettings().max_poll_interval_ms() == 300_000


def test_a_wrong_routing_file_stops_the_service_naming_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    routing = tmp_path / "routing.yaml"
    routing.write_text("routes:\n  default:\n    stalking: [pager]\n")
    monkeypatch.setenv("NOTIFY_ROUTING_FILE", str(routing))
    with pytest.raises(SystemExit) as stopped:
        main.main()
    assert stopped.value.code == 2
    assert "routing.routes.default.stalking.0: unknown channel 'pager'" in capsys.readouterr().err
