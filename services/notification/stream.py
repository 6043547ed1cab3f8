"""The only place notification talks to Kafka: consume an alert, deliver it, write receipts, then commit.

The offset is committed only after every channel delivered or dead-lettered the alert and every receipt was
acknowledged. Anything that goes wrong on the way (Kafka refusing a receipt, the cool-down store away) rewinds
to the alert, so a crash or a fault loses nothing; receivers may see a delivery id twice and drop the copy.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from schemas import Alert, NotificationReceipt, contact_key
from services.notification.channels.base import Channel
from services.notification.channels.log import LogChannel
from services.notification.cooldown_store import MemoryCooldownStore
from services.notification.metrics import ERASED_ALERTS
from services.notification.notifier import Notifier
from services.notification.retries import RetryPolicy
from services.notification.routing import Routing
from services.notification.settings import NotificationSettings
from services.runtime.erasures import ErasedContacts
from services.runtime.store_unavailable import StoreUnavailable

log = logging.getLogger("rapport_guard.notification")


def log_only_notifier(settings: NotificationSettings, clock: Callable[[], datetime]) -> Notifier:
    """What an unconfigured service does: every alert to the log, with the default cool-down."""
    return Notifier(
        Routing(),
        {"log": LogChannel()},
        store=MemoryCooldownStore(timedelta(days=settings.notify_cooldown_retention_days)),
        cooldown=timedelta(hours=settings.notify_cooldown_hours),
        retry=retry_policy(settings),
        clock=clock,
    )


def retry_policy(settings: NotificationSettings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.notify_max_attempts,
        initial_seconds=settings.notify_backoff_initial_seconds,
        max_seconds=settings.notify_backoff_max_seconds,
        attempt_timeout_seconds=settings.notify_attempt_timeout_seconds,
    )


class NotificationStream:
    def __init__(
        self,
        broker: KafkaBroker,
        settings: NotificationSettings,
        clock: Callable[[], datetime],
        notifier: Notifier | None = None,
        erased: ErasedContacts | None = None,
    ) -> None:
        self.settings = settings
        self.notifier = notifier or log_only_notifier(settings, clock)
        self.erased = ErasedContacts() if erased is None else erased
        """Alerts about a contact erased after they were scored are dropped: nobody is told about them."""
        self.receipts = broker.publisher(
            settings.topic_notifications,
            schema=NotificationReceipt,
            description="One receipt per outcome per channel: delivered, suppressed, failed (an attempt), "
            "dead_lettered. Header notify_reason says why an alert was suppressed.",
        )
        self.dead_letters = broker.publisher(
            settings.topic_alerts_dlq,
            schema=bytes,
            description="Alerts that could not be parsed, or that a channel refused until its last attempt: "
            "the original bytes and headers plus dlq_* headers naming the error, channel and attempts.",
        )
        broker.subscriber(
            settings.topic_alerts,
            group_id=settings.notification_group_id,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            max_poll_interval_ms=settings.max_poll_interval_ms(),
            title=f"{settings.topic_alerts}:notification",
            description="Alerts to deliver; offsets committed only after delivery or dead-lettering.",
        )(self.on_alert)

    async def on_alert(self, msg: KafkaMessage) -> None:
        record: ConsumerRecord[bytes, bytes] = msg.raw_message
        try:
            try:
                alert = Alert.model_validate_json(msg.body)
            except ValidationError as exc:
                await self.publish_dead_letter(
                    record, {"dlq_error": "invalid_alert", "dlq_detail": str(exc.errors()[:3])}
                )
            else:
                if self.erased.forgets(
                    contact_key(alert.tenant, alert.contact_id), alert.occurred_at, alert.emitted_at
                ):
                    ERASED_ALERTS.inc()
                else:
                    await self.notifier.notify(alert, KafkaOutbox(self, record, alert))
        except Exception as exc:
            if isinstance(exc, StoreUnavailable):  # expected while Redis is away: /readyz says so, no traceback
                log.warning("alert at %s[%s]@%s not finished; it will be retried: %s", *_position(record), exc)
            else:
                log.exception("alert at %s[%s]@%s not finished; it will be retried", *_position(record))
            await asyncio.sleep(self.settings.notify_kafka_retry_seconds)
            await msg.nack()
            return
        await msg.ack()

    async def publish_dead_letter(self, record: ConsumerRecord[bytes, bytes], error: dict[str, str]) -> None:
        """The original bytes and headers, plus dlq_* headers saying what went wrong and where it came from."""
        original = {name: value.decode(errors="replace") for name, value in record.headers or ()}
        headers = {
            **original,
            **error,
            "dlq_detail": error.get("dlq_detail", "")[:1000],
            "dlq_topic": record.topic,
            "dlq_partition": str(record.partition),
            "dlq_offset": str(record.offset),
            "dlq_service": "notification",
        }
        await self.dead_letters.publish(record.value or b"", key=record.key, headers=headers)


def _position(record: ConsumerRecord[bytes, bytes]) -> tuple[str, int, int]:
    return record.topic, record.partition, record.offset


class KafkaOutbox:
    """Receipts and dead letters for one consumed alert; each publish waits for Kafka's acknowledgement."""

    def __init__(self, stream: NotificationStream, record: ConsumerRecord[bytes, bytes], alert: Alert) -> None:
        self.stream = stream
        self.record = record
        self.key = contact_key(alert.tenant, alert.contact_id).encode()

    async def receipt(self, receipt: NotificationReceipt, reason: str | None = None) -> None:
        headers = {"content-type": "application/json"}
        if reason is not None:
            headers["notify_reason"] = reason
        await self.stream.receipts.publish(receipt.model_dump_json().encode(), key=self.key, headers=headers)

    async def dead_letter(self, channel: Channel, attempts: int, error: str) -> None:
        log.warning("alert at %s[%s]@%s dead-lettered for channel %s: %s", *_position(self.record), channel.name, error)
        await self.stream.publish_dead_letter(
            self.record,
            {
                "dlq_error": "delivery_failed",
                "dlq_detail": error,
                "dlq_channel": channel.name,
                "dlq_channel_type": channel.kind,
                "dlq_attempts": str(attempts),
            },
        )
