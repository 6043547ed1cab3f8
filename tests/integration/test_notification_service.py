"""The notification service as a real process on a real broker, delivering to real receivers on loopback.

Alerts are put on the alerts topic with a plain aiokafka producer, as scoring (or anyone) would. Each tenant in
the routing file sends its alerts to a different receiver, so one running service serves every scenario.
"""

import asyncio
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from schemas import Alert, AlertLevel, NotificationReceipt, Scope, contact_key
from services.devstack.ports import free_port
from services.notification.notifier import delivery_id
from services.runtime.topics import create_topics
from tests.harness.alerts import make_alert
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker
from tests.harness.receivers import (
    HttpReceiver,
    Reply,
    SmtpReceiver,
    delivery_ids,
    running,
    slack_receiver,
    webhook_receiver,
)
from tests.harness.stack import Stack, new_secret, own_topics, read_topic, running_stack

Records = list[tuple[bytes | None, bytes, dict[str, bytes]]]

SLACK_TOKEN_PATH = f"/services/T0/B0/{secrets.token_hex(12)}"
"""Slack's incoming-webhook URLs carry their credential in the path; it must never reach a log."""

TOPICS = own_topics(f"notify-{secrets.token_hex(3)}")
"""This module's own topics and consumer group: the session's stack runs a notification service of its own on the
default ones, and would deliver these alerts too (to its log), adding receipts the assertions here do not expect."""


def create_own_topics(bootstrap: str) -> None:
    topics = [name for setting, name in TOPICS.items() if setting.startswith("TOPIC_")]
    asyncio.run(create_topics(bootstrap, topics, partitions=3))


RETRIES = {
    "NOTIFY_MAX_ATTEMPTS": "4",
    "NOTIFY_BACKOFF_INITIAL_SECONDS": "0.2",
    "NOTIFY_BACKOFF_MAX_SECONDS": "0.5",
    "NOTIFY_ATTEMPT_TIMEOUT_SECONDS": "3",
}


@dataclass
class Receivers:
    crm: HttpReceiver
    slack: HttpReceiver
    smtp: SmtpReceiver
    flaky: HttpReceiver


def routing_file(path: Path, receivers: Receivers, dead_port: int) -> Path:
    everywhere = ["crm", "chat", "mail"]
    routing = {
        "channels": {
            "crm": {"type": "webhook", "url": receivers.crm.url, "secret": "${TEST_CRM_SECRET}"},
            "chat": {"type": "slack", "url": "${TEST_SLACK_URL}"},
            "mail": {
                "type": "email",
                "host": "127.0.0.1",
                "port": receivers.smtp.port,
                "security": "none",
                "sender": "Rapport Guard <guard@example.org>",
                "recipients": ["sales-managers@example.org"],
            },
            "flaky": {"type": "webhook", "url": receivers.flaky.url, "secret": "${TEST_FLAKY_SECRET}"},
            "gone": {"type": "webhook", "url": f"http://127.0.0.1:{dead_port}/hook", "secret": "${TEST_CRM_SECRET}"},
        },
        "routes": {
            "tenants": {
                "everywhere": dict.fromkeys(["watch", "nuisance", "stalking", "resolved", "team"], everywhere),
                "flaky": {"nuisance": ["flaky"]},
                "gone": {"nuisance": ["gone"]},
            }
        },
    }
    path.write_text(json.dumps(routing))  # JSON is YAML
    return path


async def publish(bootstrap: str, *alerts: Alert) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    try:
        for alert in alerts:
            await producer.send_and_wait(
                TOPICS["TOPIC_ALERTS"],
                alert.model_dump_json().encode(),
                key=contact_key(alert.tenant, alert.contact_id).encode(),
                headers=[("ce_id", alert.alert_id.encode()), ("ce_specversion", b"1.0")],
            )
    finally:
        await producer.stop()


def receipts_for(bootstrap: str, alert_ids: set[str], until: int) -> list[NotificationReceipt]:
    """Read receipts until `until` of them concern these alerts (other tests' alerts share the topic)."""

    def mine(records: Records) -> list[NotificationReceipt]:
        receipts = [NotificationReceipt.model_validate_json(value) for _, value, _ in records]
        return [receipt for receipt in receipts if receipt.alert_id in alert_ids]

    records = asyncio.run(read_topic(bootstrap, TOPICS["TOPIC_NOTIFICATIONS"], lambda rs: len(mine(rs)) >= until))
    return mine(records)


def outcomes(receipts: list[NotificationReceipt]) -> list[tuple[str, str, int]]:
    return sorted((r.channel, r.outcome.value, r.attempts) for r in receipts)


@pytest.fixture(scope="module")
def receivers() -> Iterator[Receivers]:
    crm, flaky, slack, smtp = (
        webhook_receiver(new_secret()),
        webhook_receiver(new_secret()),
        slack_receiver(),
        SmtpReceiver(),
    )
    smtp.start()
    try:
        with running(crm), running(flaky), running(slack):
            yield Receivers(crm, slack, smtp, flaky)
    finally:
        smtp.stop()


@pytest.fixture(scope="module")
def notifier(
    kafka: ApacheTestBroker | EmbeddedTestBroker, receivers: Receivers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("notification")
    env = {
        "NOTIFY_ROUTING_FILE": str(routing_file(logs / "routing.yaml", receivers, free_port())),
        "TEST_CRM_SECRET": str(receivers.crm.secret),
        "TEST_FLAKY_SECRET": str(receivers.flaky.secret),
        "TEST_SLACK_URL": receivers.slack.url + SLACK_TOKEN_PATH,
        **RETRIES,
        **TOPICS,
    }
    create_own_topics(kafka.bootstrap)
    with running_stack(kafka.bootstrap, logs, names=("notification",), **env) as stack:
        yield stack


def test_an_alert_reaches_the_crm_slack_and_a_mailbox_signed_and_in_words(
    notifier: Stack, receivers: Receivers
) -> None:
    alert = make_alert(AlertLevel.NUISANCE, tenant="everywhere", contact=f"c-{secrets.token_hex(4)}")
    asyncio.run(publish(notifier.bootstrap, alert))
    receipts = receipts_for(notifier.bootstrap, {alert.alert_id}, until=3)
    assert outcomes(receipts) == [("chat", "delivered", 1), ("crm", "delivered", 1), ("mail", "delivered", 1)]

    [webhook] = [r for r in receivers.crm.accepted() if r.json()["data"]["alert_id"] == alert.alert_id]
    assert webhook.headers["webhook-id"] == delivery_id(alert.alert_id, "crm")
    assert receivers.crm.problems() == []
    assert "becoming a nuisance" in webhook.json()["data"]["summary"]
    assert "6 touches in 12 days without a reply." in webhook.json()["data"]["summary"]

    [slack] = [r for r in receivers.slack.accepted() if alert.contact_id in r.json()["text"]]
    assert slack.json()["blocks"][0]["text"]["text"].endswith("becoming a nuisance")
    assert receivers.slack.problems() == []

    [mail] = [m for m in receivers.smtp.messages if alert.contact_id in str(m["Subject"])]
    plain = mail.get_body(("plain",))
    assert plain is not None
    assert "Pause until Thu 12 Nov 2026 09:00 UTC." in plain.get_content()

    service_log = notifier.processes["notification"].log_path.read_text()
    assert alert.alert_id in service_log
    assert SLACK_TOKEN_PATH not in service_log
    assert str(receivers.crm.secret) not in service_log
    assert "sales-managers@example.org" not in service_log


def test_a_repeat_for_the_same_pair_is_held_back_with_a_suppressed_receipt(
    notifier: Stack, receivers: Receivers
) -> None:
    contact = f"c-{secrets.token_hex(4)}"
    first = make_alert(AlertLevel.NUISANCE, tenant="everywhere", contact=contact)
    repeat = make_alert(AlertLevel.WATCH, tenant="everywhere", contact=contact)
    asyncio.run(publish(notifier.bootstrap, first, repeat))
    receipts = receipts_for(notifier.bootstrap, {first.alert_id, repeat.alert_id}, until=6)
    assert {(r.channel, r.outcome.value) for r in receipts if r.alert_id == repeat.alert_id} == {
        ("crm", "suppressed"),
        ("chat", "suppressed"),
        ("mail", "suppressed"),
    }
    assert not [r for r in receivers.crm.requests if r.json()["data"]["alert_id"] == repeat.alert_id]


def test_the_teams_alert_right_after_the_reps_about_the_same_contact_is_merged_into_one_message(
    notifier: Stack, receivers: Receivers
) -> None:
    contact = f"c-{secrets.token_hex(4)}"
    pair = make_alert(AlertLevel.NUISANCE, tenant="everywhere", contact=contact)
    team = make_alert(AlertLevel.NUISANCE, tenant="everywhere", contact=contact, scope=Scope.TEAM)
    elsewhere = make_alert(
        AlertLevel.NUISANCE, tenant="everywhere", contact=f"c-{secrets.token_hex(4)}", scope=Scope.TEAM
    )
    asyncio.run(publish(notifier.bootstrap, pair, team, elsewhere))
    ids = {pair.alert_id, team.alert_id, elsewhere.alert_id}
    records = asyncio.run(
        read_topic(
            notifier.bootstrap,
            TOPICS["TOPIC_NOTIFICATIONS"],
            lambda found: sum(NotificationReceipt.model_validate_json(v).alert_id in ids for _, v, _ in found) >= 9,
        )
    )
    told = {
        (receipt.alert_id, receipt.channel, receipt.outcome.value, headers.get("notify_reason", b"").decode())
        for receipt, headers in ((NotificationReceipt.model_validate_json(v), dict(h)) for _, v, h in records)
        if receipt.alert_id in ids
    }
    merged = {(team.alert_id, channel, "suppressed", "merged") for channel in ("crm", "chat", "mail")}
    assert {entry for entry in told if entry[0] == team.alert_id} == merged
    assert {entry[2] for entry in told if entry[0] != team.alert_id} == {"delivered"}, "another contact: its own"
    delivered = [r.json()["data"]["alert_id"] for r in receivers.crm.accepted()]
    assert (pair.alert_id in delivered, team.alert_id in delivered, elsewhere.alert_id in delivered) == (
        True,
        False,
        True,
    )


def test_a_receiver_that_fails_and_recovers_gets_its_alert_once(notifier: Stack, receivers: Receivers) -> None:
    receivers.flaky.script = [Reply(500), Reply(502)]
    alert = make_alert(AlertLevel.NUISANCE, tenant="flaky", contact=f"c-{secrets.token_hex(4)}")
    asyncio.run(publish(notifier.bootstrap, alert))
    receipts = receipts_for(notifier.bootstrap, {alert.alert_id}, until=3)
    assert outcomes(receipts) == [("flaky", "delivered", 3), ("flaky", "failed", 1), ("flaky", "failed", 2)]
    expected = delivery_id(alert.alert_id, "flaky")
    assert delivery_ids(receivers.flaky.requests).count(expected) == 3
    assert delivery_ids(receivers.flaky.accepted()).count(expected) == 1


def test_a_receiver_that_never_recovers_leaves_the_alert_on_the_dead_letter_topic(notifier: Stack) -> None:
    alert = make_alert(AlertLevel.NUISANCE, tenant="gone", contact=f"c-{secrets.token_hex(4)}")
    asyncio.run(publish(notifier.bootstrap, alert))
    receipts = receipts_for(notifier.bootstrap, {alert.alert_id}, until=4)
    final = [r for r in receipts if r.outcome != "failed"]
    assert [(r.channel, r.outcome.value, r.attempts, r.error) for r in final] == [
        ("gone", "dead_lettered", 4, "cannot connect to receiver")
    ]

    def dead(records: Records) -> list[tuple[bytes, dict[str, bytes]]]:
        return [(value, headers) for _, value, headers in records if headers.get("ce_id") == alert.alert_id.encode()]

    records = asyncio.run(read_topic(notifier.bootstrap, TOPICS["TOPIC_ALERTS_DLQ"], lambda rs: bool(dead(rs))))
    [(value, headers)] = dead(records)
    assert Alert.model_validate_json(value) == alert
    assert headers["dlq_error"] == b"delivery_failed"
    assert headers["dlq_detail"] == b"cannot connect to receiver"
    assert (headers["dlq_channel"], headers["dlq_attempts"]) == (b"gone", b"4")

    metrics = httpx.get(f"{notifier.url('notification')}/metrics", timeout=10).text
    assert 'rapport_notification_dead_lettered_total{channel="webhook"} 1.0' in metrics
    assert 'rapport_notification_retries_total{channel="webhook"}' in metrics


@pytest.mark.slow
def test_nothing_is_lost_when_the_notifier_is_killed_mid_delivery(
    kafka: ApacheTestBroker | EmbeddedTestBroker, tmp_path: Path
) -> None:
    secret = new_secret()
    with running(webhook_receiver(secret)) as crm:
        routing = tmp_path / "routing.yaml"
        routing.write_text(
            json.dumps(
                {
                    "channels": {"crm": {"type": "webhook", "url": crm.url, "secret": secret}},
                    "routes": {"tenants": {"crashy": {"nuisance": ["crm"]}}},
                }
            )
        )
        env = {
            "NOTIFY_ROUTING_FILE": str(routing),
            **RETRIES,
            "NOTIFY_ATTEMPT_TIMEOUT_SECONDS": "60",
            **TOPICS,
            "NOTIFICATION_GROUP_ID": f"notification-crash-{secrets.token_hex(4)}",
        }
        create_own_topics(kafka.bootstrap)
        alerts = [
            make_alert(AlertLevel.NUISANCE, tenant="crashy", contact=f"c-{secrets.token_hex(4)}") for _ in range(6)
        ]
        expected = {delivery_id(alert.alert_id, "crm") for alert in alerts}
        crm.hold(request_number=3, then=Reply(503))  # the receiver stalls, then fails: only a retry can deliver
        with running_stack(kafka.bootstrap, tmp_path, names=("notification",), **env) as stack:
            asyncio.run(publish(stack.bootstrap, *alerts))
            assert crm.holding.wait(120), "the third delivery never started"
            service = stack.processes["notification"]
            service.kill()
            crm.release()
            service.start()
            service.wait_ready()
            crm.wait_for(lambda receiver: expected <= set(delivery_ids(receiver.accepted())), seconds=120)

    assert set(delivery_ids(crm.accepted())) == expected, "every alert arrives (the receiver drops repeats by id)"
    [cut_off] = delivery_ids([request for request in crm.requests if request.status == 503])
    assert cut_off in delivery_ids(crm.accepted()), "the delivery cut off by the kill was made again after the restart"
    assert crm.problems() == []
