"""The only place scoring talks to Kafka: consume events in batches, publish scores and alerts, then commit.

Offsets are committed by hand and only after every output is acknowledged and the state is saved, so a crash
at any point redelivers the batch; the processor's idempotency makes that redelivery change nothing.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from schemas import Alert, OutreachEvent, PairScore, contact_key
from services.runtime.publishing import confirm_all
from services.scoring.processor import Outputs, Processor
from services.scoring.settings import ScoringSettings
from services.scoring.state import StoreUnavailable

log = logging.getLogger("rapport_guard.scoring")

Clock = Callable[[], datetime]


def cloudevents_headers(alert: Alert) -> dict[str, str]:
    """CloudEvents binary-mode attributes, so other stacks can route alerts without parsing them."""
    return {
        "content-type": "application/json",
        "ce_specversion": "1.0",
        "ce_id": alert.alert_id,
        "ce_type": f"io.rapportguard.alert.{alert.level}",
        "ce_source": "rapport-guard/scoring",
        "ce_time": alert.emitted_at.isoformat().replace("+00:00", "Z"),
        "ce_subject": f"{alert.tenant}:{alert.contact_id}",
    }


class ScoringStream:
    def __init__(self, broker: KafkaBroker, settings: ScoringSettings, processor: Processor, clock: Clock) -> None:
        self.settings = settings
        self.processor = processor
        self.clock = clock
        self.store_problem: str | None = None
        self.scores = broker.publisher(
            settings.topic_scores, schema=PairScore, description="One judgement of a relationship per scored event."
        )
        self.alerts = broker.publisher(
            settings.topic_alerts,
            schema=Alert,
            description="Level changes only, with CloudEvents attributes as headers.",
        )
        self.dead_letters = broker.publisher(
            settings.topic_events_dlq,
            schema=bytes,
            description="Events that cannot be parsed, as the original bytes with dlq_* error headers.",
        )
        broker.subscriber(
            settings.topic_events,
            group_id=settings.scoring_group_id,
            batch=True,
            max_records=settings.scoring_batch_max_records,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            title=f"{settings.topic_events}:scoring",
            description="OutreachEvent batches; offsets committed only after outputs are acknowledged.",
        )(self.on_batch)

    async def on_batch(self, msg: KafkaMessage) -> None:
        raw = msg.raw_message
        records = tuple(raw) if isinstance(raw, tuple | list) else (raw,)
        try:
            events = await self._parse(records)
            outputs, states = await self.processor.process(events, self.clock())
            await self._publish(outputs)
            await self.processor.save(states)
        except StoreUnavailable as exc:
            self.store_problem = f"state store unavailable: {exc}"
            log.warning("state store unavailable, batch will be redelivered")
            await asyncio.sleep(self.settings.scoring_retry_seconds)
            await msg.nack()
            return
        except Exception:
            log.exception("batch failed, it will be redelivered")
            await asyncio.sleep(self.settings.scoring_retry_seconds)
            await msg.nack()
            return
        self.store_problem = None
        await msg.ack()

    async def _parse(self, records: tuple[ConsumerRecord[bytes, bytes], ...]) -> list[OutreachEvent]:
        events = []
        for record in records:
            try:
                events.append(OutreachEvent.model_validate_json(record.value or b""))
            except ValidationError as exc:
                await self._dead_letter(record, "invalid_event", str(exc.errors()[:3]))
        return events

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], error: str, detail: str) -> None:
        log.warning("dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, error)
        await self.dead_letters.publish(
            record.value or b"",
            key=record.key,
            headers={
                "dlq_error": error,
                "dlq_detail": detail[:1000],
                "dlq_topic": record.topic,
                "dlq_partition": str(record.partition),
                "dlq_offset": str(record.offset),
                "dlq_service": "scoring",
            },
        )

    async def _publish(self, outputs: Outputs) -> None:
        await confirm_all(
            [
                *(
                    self.scores.publish(
                        score.model_dump_json().encode(),
                        key=contact_key(score.tenant, score.contact_id).encode(),
                        headers={"content-type": "application/json"},
                        no_confirm=True,
                    )
                    for score in outputs.scores
                ),
                *(
                    self.alerts.publish(
                        alert.model_dump_json().encode(),
                        key=contact_key(alert.tenant, alert.contact_id).encode(),
                        headers=cloudevents_headers(alert),
                        no_confirm=True,
                    )
                    for alert in outputs.alerts
                ),
            ]
        )
