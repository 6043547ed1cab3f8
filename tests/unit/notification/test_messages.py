"""What a person reads: who, what pattern, why, and when the next touch is welcome — in every format."""

import json
from datetime import UTC, datetime

import pytest

from schemas import AlertLevel, Scope
from services.notification.channels.email import email_message
from services.notification.channels.slack import slack_message
from services.notification.channels.webhook import webhook_body
from services.notification.routing import EmailChannelConfig
from services.notification.wording import Notice, summary
from tests.harness.alerts import make_alert

MAIL = EmailChannelConfig.model_validate(
    {"type": "email", "host": "127.0.0.1", "sender": "Guard <guard@example.org>", "recipients": ["m@example.org"]}
)


def test_the_plain_text_says_who_what_why_and_when() -> None:
    notice = Notice(make_alert(AlertLevel.NUISANCE, sender="rep-7", contact="c-dana"))
    text = notice.text
    assert text.startswith("Sender rep-7 → contact c-dana (acme): becoming a nuisance.")
    assert "starting to feel like nagging" in text
    assert "- 6 touches in 12 days without a reply." in text
    assert "- 3 different channels used without an answer." in text
    assert "Pause until Thu 12 Nov 2026 09:00 UTC." in text


def test_team_alerts_speak_of_the_team_and_resolved_lifts_the_pause() -> None:
    assert Notice(make_alert(scope=Scope.TEAM)).headline.startswith("The team → contact c-1")
    resolved = Notice(make_alert(AlertLevel.RESOLVED)).text
    assert "back to normal" in resolved
    assert "No pause needed any more." in resolved
    assert "Why:" not in resolved


def test_held_back_alerts_are_mentioned_only_when_there_were_some() -> None:
    assert "2 further alerts were held back" not in Notice(make_alert()).text
    assert "2 further alerts about this relationship were held back" in Notice(make_alert(), held_back=2).text
    assert "1 further alert about this relationship was held back" in Notice(make_alert(), held_back=1).text


def test_summary_stays_one_line_for_the_make_run_printer() -> None:
    line = summary(make_alert(AlertLevel.WATCH))
    assert "\n" not in line
    assert line.startswith("Sender rep-1 → contact c-1 (acme): worth watching. 6 touches")


def test_slack_gets_block_kit_with_the_same_content_escaped() -> None:
    alert = make_alert(AlertLevel.STALKING, sender="rep<&>")
    message = slack_message(Notice(alert, held_back=3))
    blocks = message["blocks"]
    assert isinstance(blocks, list)
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": Notice(alert).headline}}
    rendered = json.dumps(blocks, ensure_ascii=False)
    assert "Please stop and let them come to you." in rendered
    assert "• 6 touches in 12 days without a reply." in rendered
    assert "*Next touch*" in rendered
    assert "3 further alerts" in rendered
    assert "rep&lt;&amp;&gt;" in str(message["text"])


def test_email_has_plain_text_and_html_and_a_message_id_from_the_delivery_id() -> None:
    message = email_message(Notice(make_alert(AlertLevel.WATCH)), MAIL, "msg_abc")
    assert message["Subject"] == "Rapport Guard: Sender rep-1 → contact c-1 (acme): worth watching"
    assert message["Message-ID"] == "<msg_abc@rapport-guard>"
    assert message["To"] == "m@example.org"
    plain = message.get_body(("plain",))
    rich = message.get_body(("html",))
    assert plain is not None
    assert rich is not None
    assert "Pause until Thu 12 Nov 2026 09:00 UTC." in plain.get_content()
    assert "<li>6 touches in 12 days without a reply.</li>" in rich.get_content()


def test_the_webhook_body_is_the_alert_in_a_standard_webhooks_envelope() -> None:
    alert = make_alert(AlertLevel.NUISANCE, at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    payload = json.loads(webhook_body(Notice(alert)))
    assert payload["type"] == "rapport_guard.alert.nuisance"
    assert payload["timestamp"] == "2026-11-02T09:00:00Z"
    assert payload["data"]["alert_id"] == alert.alert_id
    assert payload["data"]["reasons"][0]["rule"] == "unanswered_streak"
    assert "becoming a nuisance" in payload["data"]["summary"]


@pytest.mark.parametrize("level", list(AlertLevel))
def test_no_format_carries_an_address_or_a_number(level: AlertLevel) -> None:
    notice = Notice(make_alert(level))
    rendered = notice.text + json.dumps(slack_message(notice)) + webhook_body(notice).decode()
    assert "@" not in rendered
