"""One alert, end to end: route it, ask the cool-down (and whether the message about its contact's other scope
already told it: `merging.py`), deliver to every channel, and account for each outcome.

Knows nothing of Kafka: receipts and dead letters leave through an `Outbox` that the stream provides. The
cool-down history is saved only after every channel has finished, so an alert interrupted by a crash is
delivered again (same delivery id) instead of being mistaken for a repeat.
"""

import asyncio
import hashlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from schemas import Alert, DeliveryOutcome, NotificationReceipt, Scope
from services.notification.channels.base import Channel
from services.notification.cooldown import decide, pair_key
from services.notification.cooldown_store import CooldownStore
from services.notification.merging import MERGED, contact_pairs_key, merged_into, other_scope_key
from services.notification.metrics import DEAD_LETTERED, DELIVERIES
from services.notification.retries import RetryPolicy, Sleep, deliver_with_retries
from services.notification.routing import Routing
from services.notification.wording import Notice

log = logging.getLogger("rapport_guard.notification")

NOT_ROUTED = "none"
"""The receipt's channel when the routing sends this kind of alert nowhere, or when nobody is paged for it."""


class Outbox(Protocol):
    async def receipt(self, receipt: NotificationReceipt, reason: str | None = None) -> None:
        """Publish and wait for the broker's acknowledgement; `reason` explains a suppression."""
        ...

    async def dead_letter(self, channel: Channel, attempts: int, error: str) -> None:
        """Put the alert on the dead-letter topic with the error, and wait for the acknowledgement."""
        ...


def delivery_id(alert_id: str, channel_name: str) -> str:
    """Stable per alert and channel: the Standard Webhooks `webhook-id`, and the e-mail's Message-ID."""
    return "msg_" + hashlib.sha256(f"{alert_id}/{channel_name}".encode()).hexdigest()[:32]


class Notifier:
    def __init__(
        self,
        routing: Routing,
        channels: Mapping[str, Channel],
        *,
        store: CooldownStore,
        cooldown: timedelta,
        retry: RetryPolicy,
        clock: Callable[[], datetime],
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.routing = routing
        self.channels = channels
        self.store = store
        self.cooldown = cooldown
        self.retry = retry
        self.clock = clock
        self.sleep = sleep

    async def notify(self, alert: Alert, outbox: Outbox) -> None:
        if alert.historical:  # the pressure had ended before it was scored: on record, but not news
            await outbox.receipt(self._receipt(alert, NOT_ROUTED, DeliveryOutcome.SUPPRESSED, 0), "historical")
            return
        names = self.routing.channels_for(alert)
        if not names:
            await outbox.receipt(self._receipt(alert, NOT_ROUTED, DeliveryOutcome.SUPPRESSED, 0), "not_routed")
            return
        key = pair_key(alert)
        now = self.clock()
        notices = await self.store.load(key)
        decision = decide(notices, alert, now, self.cooldown)
        channels = [self.channels[name] for name in names]
        redelivery = notices is not None and alert.alert_id in notices.delivered
        other = await self.store.load(other_scope_key(alert)) if decision.deliver and not redelivery else None
        if merged_into(other, alert, now, self.cooldown):
            log.info("alert %s: merged into the message about its contact", alert.alert_id)
            for channel in channels:
                DELIVERIES.labels(channel.kind, DeliveryOutcome.SUPPRESSED.value).inc()
                await outbox.receipt(self._receipt(alert, channel.name, DeliveryOutcome.SUPPRESSED, 0), MERGED)
            return
        if decision.deliver:
            notice = Notice(alert, held_back=decision.held_back)
            async with asyncio.TaskGroup() as group:  # one failure (Kafka refusing a receipt) cancels the rest
                for channel in channels:
                    group.create_task(self._deliver(channel, notice, outbox))
        else:
            log.info("alert %s: held back (%s) for %s", alert.alert_id, decision.verdict.value, ", ".join(names))
            for channel in channels:
                DELIVERIES.labels(channel.kind, DeliveryOutcome.SUPPRESSED.value).inc()
                receipt = self._receipt(alert, channel.name, DeliveryOutcome.SUPPRESSED, 0)
                await outbox.receipt(receipt, decision.verdict.value)
        if decision.notices is not None:
            await self.store.save(key, decision.notices)
        if decision.deliver and alert.scope is Scope.PAIR:
            await self._note_pair_told(alert, now)

    async def _note_pair_told(self, alert: Alert, now: datetime) -> None:
        """Keep what was told about any of the contact's pairs, for a team alert to merge into."""
        key = contact_pairs_key(alert)
        told = decide(await self.store.load(key), alert, now, self.cooldown).notices
        if told is not None:
            await self.store.save(key, told)

    async def _deliver(self, channel: Channel, notice: Notice, outbox: Outbox) -> None:
        alert = notice.alert

        async def failed_attempt(attempt: int, error: str) -> None:
            DELIVERIES.labels(channel.kind, DeliveryOutcome.FAILED.value).inc()
            await outbox.receipt(self._receipt(alert, channel.name, DeliveryOutcome.FAILED, attempt, error))

        result = await deliver_with_retries(
            channel, notice, delivery_id(alert.alert_id, channel.name), self.retry, failed_attempt, sleep=self.sleep
        )
        if result.delivered:
            outcome = DeliveryOutcome.DELIVERED
            log.info("alert %s: delivered to %s after %d attempt(s)", alert.alert_id, channel.name, result.attempts)
        else:
            outcome = DeliveryOutcome.DEAD_LETTERED
            await outbox.dead_letter(channel, result.attempts, result.error or "delivery failed")
            DEAD_LETTERED.labels(channel.kind).inc()
        DELIVERIES.labels(channel.kind, outcome.value).inc()
        await outbox.receipt(self._receipt(alert, channel.name, outcome, result.attempts, result.error))

    def _receipt(
        self, alert: Alert, channel: str, outcome: DeliveryOutcome, attempts: int, error: str | None = None
    ) -> NotificationReceipt:
        return NotificationReceipt(
            alert_id=alert.alert_id, channel=channel, outcome=outcome, attempts=attempts, at=self.clock(), error=error
        )
