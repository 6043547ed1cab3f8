"""The Kafka side on FastStream's in-memory broker: receipts, dead letters with error headers, garbage."""

import json
from datetime import timedelta
from typing import Any

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaTimeoutError
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from schemas import AlertLevel, Erasure, NotificationReceipt
from services.notification.cooldown import PairNotices
from services.notification.cooldown_store import MemoryCooldownStore
from services.notification.notifier import Notifier
from services.notification.retries import RetryPolicy
from services.notification.routing import Routing
from services.notification.settings import NotificationSettings
from services.notification.stream import NotificationStream
from services.runtime.erasures import ErasedContacts
from tests.harness.alerts import T0, make_alert
from tests.unit.notification.fakes import ScriptedChannel, retryable

SETTINGS = NotificationSettings.model_construct()


async def no_pause(seconds: float) -> None:
    return None


def wire(channel: ScriptedChannel) -> tuple[KafkaBroker, dict[str, list[Any]]]:
    broker = KafkaBroker()
    notifier = Notifier(
        Routing.model_validate(
            {
                "channels": {"crm": {"type": "webhook", "url": "http://127.0.0.1:1/", "secret": "whsec_" + "a" * 40}},
                "routes": {"default": {"watch": ["crm", "log"]}},
            }
        ),
        {"crm": channel, "log": ScriptedChannel("log", kind="log")},
        store=MemoryCooldownStore(timedelta(days=1)),
        cooldown=timedelta(hours=24),
        retry=RetryPolicy(max_attempts=2, initial_seconds=1, max_seconds=1, attempt_timeout_seconds=1),
        clock=lambda: T0,
        sleep=no_pause,
    )
    NotificationStream(broker, SETTINGS, lambda: T0, notifier)
    received: dict[str, list[Any]] = {"receipts": [], "dlq": []}

    @broker.subscriber(SETTINGS.topic_notifications)
    async def receipts(msg: KafkaMessage) -> None:
        receipt = NotificationReceipt.model_validate_json(msg.body)
        record = msg.raw_message
        assert not isinstance(record, tuple)
        received["receipts"].append((receipt.channel, receipt.outcome.value, receipt.attempts, record.key))

    @broker.subscriber(SETTINGS.topic_alerts_dlq)
    async def dlq(msg: KafkaMessage) -> None:
        received["dlq"].append((msg.body, msg.headers))

    return broker, received


async def test_an_alert_is_delivered_and_receipted_under_its_contact_key() -> None:
    broker, received = wire(ScriptedChannel("crm"))
    async with TestKafkaBroker(broker) as test_broker:
        payload = json.loads(make_alert(AlertLevel.WATCH, contact="c-9").model_dump_json())
        await test_broker.publish(payload, SETTINGS.topic_alerts, key=b"acme:c-9")
    assert sorted(received["receipts"]) == [("crm", "delivered", 1, b"acme:c-9"), ("log", "delivered", 1, b"acme:c-9")]
    assert received["dlq"] == []


async def test_a_channel_that_keeps_failing_leaves_the_alert_on_the_dead_letter_topic_with_the_error() -> None:
    broker, received = wire(ScriptedChannel("crm", failures=retryable(5)))
    alert = make_alert(AlertLevel.WATCH)
    body = alert.model_dump_json().encode()
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(body, SETTINGS.topic_alerts, key=b"acme:c-1", headers={"ce_id": alert.alert_id})
    assert ("crm", "dead_lettered", 2, b"acme:c-1") in received["receipts"]
    assert ("crm", "failed", 1, b"acme:c-1") in received["receipts"]
    [(dead_body, headers)] = received["dlq"]
    assert dead_body == body
    assert headers["dlq_error"] == "delivery_failed"
    assert headers["dlq_detail"] == "receiver answered HTTP 500"
    assert (headers["dlq_channel"], headers["dlq_channel_type"], headers["dlq_attempts"]) == ("crm", "webhook", "2")
    assert headers["dlq_service"] == "notification"
    assert headers["ce_id"] == alert.alert_id


async def test_garbage_on_the_alert_topic_is_dead_lettered_and_the_stream_goes_on() -> None:
    broker, received = wire(ScriptedChannel("crm"))
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(b"{not an alert", SETTINGS.topic_alerts, key=b"acme:c-1")
        await test_broker.publish(make_alert().model_dump_json().encode(), SETTINGS.topic_alerts, key=b"acme:c-1")
    [(body, headers)] = received["dlq"]
    assert (body, headers["dlq_error"]) == (b"{not an alert", "invalid_alert")
    assert ("crm", "delivered", 1, b"acme:c-1") in received["receipts"]


async def test_without_a_routing_file_alerts_go_to_the_log(caplog: Any) -> None:
    broker = KafkaBroker()
    NotificationStream(broker, SETTINGS, lambda: T0)
    receipts: list[NotificationReceipt] = []

    @broker.subscriber(SETTINGS.topic_notifications)
    async def on_receipt(msg: KafkaMessage) -> None:
        receipts.append(NotificationReceipt.model_validate_json(msg.body))

    alert = make_alert(AlertLevel.STALKING)
    with caplog.at_level("INFO", logger="rapport_guard.notification"):
        async with TestKafkaBroker(broker) as test_broker:
            await test_broker.publish(alert.model_dump_json().encode(), SETTINGS.topic_alerts, key=b"acme:c-1")
    assert [(r.channel, r.outcome.value) for r in receipts] == [("log", "delivered")]
    assert f"alert {alert.alert_id}: Sender rep-1 → contact c-1 (acme): pressure that reads as stalking" in caplog.text


class FakeMessage:
    """Just enough of a consumed Kafka message to see whether the stream commits or rewinds."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.raw_message = ConsumerRecord(
            topic="outreach.alerts",
            partition=0,
            offset=7,
            timestamp=0,
            timestamp_type=0,
            key=b"acme:c-1",
            value=body,
            checksum=None,
            serialized_key_size=8,
            serialized_value_size=len(body),
            headers=(),
        )
        self.settled: list[str] = []

    async def ack(self) -> None:
        self.settled.append("ack")

    async def nack(self) -> None:
        self.settled.append("nack")


async def test_an_alert_is_rewound_not_committed_when_kafka_refuses_its_receipt() -> None:
    class RefusingNotifier:
        async def notify(self, alert: object, outbox: object) -> None:
            raise KafkaTimeoutError

    settings = NotificationSettings.model_construct(notify_kafka_retry_seconds=0.01)
    stream = NotificationStream(KafkaBroker(), settings, lambda: T0, RefusingNotifier())  # type: ignore[arg-type]
    message = FakeMessage(make_alert().model_dump_json().encode())
    await stream.on_alert(message)  # type: ignore[arg-type]
    assert message.settled == ["nack"]


async def test_alerts_scored_before_their_contact_was_erased_reach_nobody() -> None:
    broker = KafkaBroker()
    erased = ErasedContacts()
    erased.note(Erasure(tenant="acme", contact_id="c-1", erased_at=T0 + timedelta(minutes=5)))
    channel = ScriptedChannel("log", kind="log")
    notifier = Notifier(
        Routing.model_validate({"routes": {"default": {"watch": ["log"]}}}),
        {"log": channel},
        store=MemoryCooldownStore(timedelta(days=1)),
        cooldown=timedelta(hours=24),
        retry=RetryPolicy(max_attempts=1, initial_seconds=1, max_seconds=1, attempt_timeout_seconds=1),
        clock=lambda: T0,
        sleep=no_pause,
    )
    NotificationStream(broker, SETTINGS, lambda: T0, notifier, erased)
    async with TestKafkaBroker(broker) as test_broker:
        for contact in ("c-1", "c-2"):
            alert = make_alert(AlertLevel.WATCH, contact=contact, at=T0)
            await test_broker.publish(
                alert.model_dump_json().encode(), SETTINGS.topic_alerts, key=b"acme:" + contact.encode()
            )
    assert [notice.alert.contact_id for notice in channel.delivered] == ["c-2"]


async def test_the_memory_cool_down_forgets_every_entry_of_an_erased_contact() -> None:
    store = MemoryCooldownStore(timedelta(days=1))
    notices = PairNotices(window_started_at=T0, peak=AlertLevel.WATCH, open=True)
    for key in ("acme:c-1:team", "acme:c-1:sender:rep-1", "acme:c-10:team"):
        await store.save(key, notices)
    await store.forget_contact("acme:c-1")
    assert [await store.load(key) is None for key in ("acme:c-1:team", "acme:c-1:sender:rep-1", "acme:c-10:team")] == [
        True,
        True,
        False,
    ]
