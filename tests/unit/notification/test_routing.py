"""The routing file: every mistake is found at start, named by its field, and never echoes a secret."""

import base64
import secrets
from pathlib import Path

import pytest

from schemas import AlertLevel, Scope
from services.notification.routing import (
    EmailChannelConfig,
    Routing,
    RoutingFileError,
    WebhookChannelConfig,
    load_routing,
)
from tests.harness.alerts import make_alert

EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "notification" / "routing.example.yaml"
SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(text)
    return path


def problem(path: Path) -> str:
    with pytest.raises(RoutingFileError) as caught:
        load_routing(path)
    return str(caught.value)


def test_without_a_file_every_alert_goes_to_the_log() -> None:
    routing = load_routing(None)
    for level in AlertLevel:
        assert routing.channels_for(make_alert(level)) == ["log"]
    assert routing.channels_for(make_alert(scope=Scope.TEAM)) == ["log"]


def test_the_shipped_example_is_valid_and_reads_secrets_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/xyz")
    monkeypatch.setenv("SMTP_PASSWORD", "pw")
    routing = load_routing(EXAMPLE)
    crm = routing.channels["crm"]
    mail = routing.channels["sales-managers"]
    assert isinstance(crm, WebhookChannelConfig)
    assert crm.secret.get_secret_value() == SECRET
    assert isinstance(mail, EmailChannelConfig)
    assert SECRET not in repr(routing)
    assert routing.channels_for(make_alert(AlertLevel.STALKING, tenant="globex")) == [
        "log",
        "crm",
        "sales-slack",
        "sales-managers",
    ]


def test_a_tenant_override_replaces_only_the_levels_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/xyz")
    monkeypatch.setenv("SMTP_PASSWORD", "pw")
    routing = load_routing(EXAMPLE)
    assert routing.channels_for(make_alert(AlertLevel.WATCH, tenant="acme")) == ["log"]
    assert routing.channels_for(make_alert(AlertLevel.NUISANCE, tenant="acme")) == ["log", "crm", "sales-slack"]
    assert routing.channels_for(make_alert(scope=Scope.TEAM, tenant="acme")) == ["log", "crm", "sales-managers"]


def test_an_empty_list_sends_a_level_nowhere() -> None:
    routing = Routing.model_validate({"routes": {"tenants": {"quiet": {"watch": []}}}})
    assert routing.channels_for(make_alert(AlertLevel.WATCH, tenant="quiet")) == []


def test_an_unknown_channel_is_named_with_where_it_is_used(tmp_path: Path) -> None:
    message = problem(write(tmp_path, "routes:\n  tenants:\n    acme:\n      stalking: [log, crm]\n"))
    assert "routing.routes.tenants.acme.stalking.1: unknown channel 'crm'" in message
    assert "NOTIFY_ROUTING_FILE" in message


def test_a_bad_webhook_secret_is_named_but_not_printed(tmp_path: Path) -> None:
    short = "whsec_" + base64.b64encode(b"too-short").decode()
    message = problem(
        write(tmp_path, f"channels:\n  crm:\n    type: webhook\n    url: http://127.0.0.1:1/x\n    secret: {short}\n")
    )
    assert "routing.channels.crm.webhook.secret" in message
    assert "24-64 bytes" in message
    assert short not in message


def test_a_missing_environment_variable_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    message = problem(write(tmp_path, "channels:\n  team-slack:\n    type: slack\n    url: ${NOT_SET_ANYWHERE}\n"))
    assert "routing.channels.team-slack.url: environment variable NOT_SET_ANYWHERE is not set" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("channels:\n  s:\n    type: pager\n", "routing.channels.s: Input tag 'pager' found using 'type'"),
        ("channels:\n  s:\n    type: slack\n    url: not a url\n", "routing.channels.s.slack.url: must be an http(s)"),
        (
            "channels:\n  m:\n    type: email\n    host: h\n    sender: a@example.org\n    recipients: []\n",
            "routing.channels.m.email.recipients: List should have at least 1 item",
        ),
        (
            "channels:\n  m:\n    type: email\n    host: h\n    sender: a@example.org\n"
            "    recipients: [b@example.org]\n    username: u\n",
            "username and password go together",
        ),
        ("routes:\n  default:\n    wach: [log]\n", "routing.routes.default.wach: Extra inputs are not permitted"),
        ("channels:\n  log:\n    type: slack\n    url: http://x.example\n", "'log' is built in"),
        ("- just\n- a list\n", "must be a mapping"),
        ("channels: [\n", "cannot read routing"),
    ],
)
def test_mistakes_name_the_field_and_the_problem(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in problem(write(tmp_path, text))


def test_the_compose_routing_sends_problems_to_the_mail_catcher() -> None:
    routing = load_routing(EXAMPLE.with_name("routing.compose.yaml"))
    inbox = routing.channels["team-inbox"]
    assert isinstance(inbox, EmailChannelConfig)
    assert (inbox.host, inbox.port) == ("mailpit", 1025)
    assert routing.channels_for(make_alert(AlertLevel.STALKING, tenant="any")) == ["log", "team-inbox"]
    assert routing.channels_for(make_alert(AlertLevel.WATCH, tenant="any")) == ["log"]
