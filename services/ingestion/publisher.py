"""The only place ingestion talks to Kafka: publish events and wait for the broker's acknowledgement."""

import asyncio
from collections.abc import Sequence
from typing import Protocol

from faststream.kafka import KafkaBroker

from schemas import OutreachEvent
from services.runtime.publishing import confirm_all


class BrokerUnavailable(Exception):
    """The broker did not acknowledge every event in time: nothing may be reported as accepted."""


class EventSink(Protocol):
    async def publish(self, events: Sequence[OutreachEvent]) -> None: ...


class KafkaEventSink:
    def __init__(self, broker: KafkaBroker, topic: str, timeout_seconds: float) -> None:
        self.publisher = broker.publisher(
            topic, schema=OutreachEvent, description="Every accepted touch, keyed by the contact key."
        )
        self.timeout_seconds = timeout_seconds

    async def publish(self, events: Sequence[OutreachEvent]) -> None:
        try:
            await asyncio.wait_for(self._send_all(events), self.timeout_seconds)
        except Exception as exc:
            raise BrokerUnavailable(type(exc).__name__) from exc

    async def _send_all(self, events: Sequence[OutreachEvent]) -> None:
        await confirm_all(
            self.publisher.publish(
                event.model_dump_json().encode(),
                key=event.contact_key.encode(),
                headers={"content-type": "application/json"},
                no_confirm=True,
            )
            for event in events
        )
