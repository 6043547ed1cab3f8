"""The only place notification talks to Kafka: consume alerts, deliver, write a receipt, then commit."""

import logging
from collections.abc import Callable
from datetime import datetime

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from schemas import Alert, DeliveryOutcome, NotificationReceipt
from services.notification.settings import NotificationSettings
from services.notification.wording import summary

log = logging.getLogger("rapport_guard.notification")


class NotificationStream:
    """Delivers each alert to the operator log (the one channel of this first version)."""

    def __init__(self, broker: KafkaBroker, settings: NotificationSettings, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.clock = clock
        self.receipts = broker.publisher(
            settings.topic_notifications, schema=NotificationReceipt, description="One receipt per delivery outcome."
        )
        self.dead_letters = broker.publisher(
            settings.topic_alerts_dlq, schema=bytes, description="Alerts that could not be delivered or parsed."
        )
        broker.subscriber(
            settings.topic_alerts,
            group_id=settings.notification_group_id,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            title=f"{settings.topic_alerts}:notification",
            description="Alerts to deliver; offsets committed only after delivery or dead-lettering.",
        )(self.on_alert)

    async def on_alert(self, msg: KafkaMessage) -> None:
        try:
            alert = Alert.model_validate_json(msg.body)
        except ValidationError as exc:
            await self.dead_letters.publish(
                msg.body,
                key=msg.raw_message.key if not isinstance(msg.raw_message, tuple) else None,
                headers={"dlq_error": "invalid_alert", "dlq_detail": str(exc.errors()[:3])[:1000]},
            )
            await msg.ack()
            return
        log.info("alert %s: %s", alert.alert_id, summary(alert))
        receipt = NotificationReceipt(
            alert_id=alert.alert_id,
            channel="log",
            outcome=DeliveryOutcome.DELIVERED,
            attempts=1,
            at=self.clock(),
        )
        await self.receipts.publish(
            receipt.model_dump_json().encode(),
            key=f"{alert.tenant}:{alert.contact_id}".encode(),
            headers={"content-type": "application/json"},
        )
        await msg.ack()
