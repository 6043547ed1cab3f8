"""Scoring's batch consumer: consume events in batches, publish scores and alerts, then commit.

Offsets are committed by hand and only after every output is acknowledged and the state is saved, so a crash
at any point redelivers the batch; the processor's idempotency makes that redelivery change nothing. Each batch is
scored inside `Recovery.batch` (`recovery/state_machine.py`), which waits until partitions are taken over, keeps
only records still owned and says which outputs are already on Kafka. When the state store cannot be reached the
batch is rewound and retried until it can: nothing is committed meanwhile.
"""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeAlias

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from schemas import Alert, OutreachEvent, PairScore
from schemas.events import event_problem
from services.runtime.store_unavailable import StoreUnavailable
from services.scoring import metrics
from services.scoring.processing.output_ids import score_id
from services.scoring.processing.processor import Outputs, Processor
from services.scoring.recovery.state_machine import Batch, Recovery
from services.scoring.settings import ScoringSettings
from services.scoring.stream.outputs import Sender, alert_output, score_output

log = logging.getLogger("rapport_guard.scoring")

Clock = Callable[[], datetime]
Record: TypeAlias = "ConsumerRecord[bytes, bytes]"

POLL_WAIT_MS = 25
"""How long one poll waits for records. FastStream's batch subscriber sleeps as long again after a poll that came
back empty, so with its default (200 ms) an event arriving after a quiet spell could wait up to 200 ms before it was
even read; a busy stream is unaffected (a poll returns as soon as records are there, up to `max_records`)."""


async def _raw_records(_: KafkaMessage) -> None:
    """The handler parses each record itself (to dead-letter it alone): FastStream need not decode the batch."""


class ScoringStream:
    def __init__(
        self,
        broker: KafkaBroker,
        settings: ScoringSettings,
        processor: Processor,
        clock: Clock,
        recovery: Recovery,
        *,
        sender: Sender,
    ) -> None:
        self.settings = settings
        self.sender = sender
        self.processor = processor
        self.clock = clock
        self.store_problem: str | None = None
        self.recovery = recovery
        # Declared for the AsyncAPI document (`make contracts`); scores and alerts go out through `sender`.
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
            description="Events that cannot be parsed or scored, as the original bytes with dlq_* error headers.",
        )
        broker.subscriber(
            settings.topic_events,
            group_id=settings.scoring_group_id,
            batch=True,
            max_records=settings.scoring_batch_max_records,
            batch_timeout_ms=POLL_WAIT_MS,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            decoder=_raw_records,
            listener=recovery,
            title=f"{settings.topic_events}:scoring",
            description="OutreachEvent batches; offsets committed only after outputs are acknowledged.",
        )(self.on_batch)

    async def on_batch(self, msg: KafkaMessage) -> None:
        raw = msg.raw_message
        records: Sequence[Record] = tuple(raw) if isinstance(raw, tuple | list) else (raw,)
        started = time.perf_counter()
        try:
            async with self.recovery.batch(records) as batch:
                await self._score(batch)
        except StoreUnavailable as exc:
            self.store_problem = exc.readiness
            log.warning("state store unavailable, batch will be redelivered: %s", exc)
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
        metrics.BATCH_DURATION.observe(time.perf_counter() - started)

    async def _score(self, batch: Batch) -> None:
        now = self.clock()
        events, sources = await self._parse(batch.records, now)
        outputs, states = await self.processor.process(events, now)
        for position, reason, detail in outputs.failed:
            await self._dead_letter(sources[position], reason, detail)
        scores, alerts = self._unpublished(outputs, batch)
        batch.start_publishing()
        await self._publish(scores, alerts)
        await self.processor.save(states)
        self._count(outputs, alerts, now)

    async def _parse(self, records: Sequence[Record], now: datetime) -> tuple[list[OutreachEvent], list[Record]]:
        """Events to score, and the record each came from (for dead-lettering it later)."""
        events: list[OutreachEvent] = []
        sources: list[Record] = []
        for record in records:
            try:
                event = OutreachEvent.model_validate_json(record.value or b"")
            except ValidationError as exc:
                await self._dead_letter(record, "invalid_event", str(exc.errors(include_url=False)[:3]))
                continue
            problem = event_problem(event)
            if problem is not None:
                await self._dead_letter(record, *problem)
                continue
            events.append(event)
            sources.append(record)
        return events, sources

    async def _dead_letter(self, record: Record, reason: str, detail: str) -> None:
        log.warning("dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason)
        await self.dead_letters.publish(
            record.value or b"",
            key=record.key,
            headers={
                "dlq_error": reason,
                "dlq_detail": detail[:1000],
                "dlq_topic": record.topic,
                "dlq_partition": str(record.partition),
                "dlq_offset": str(record.offset),
                "dlq_service": "scoring",
            },
        )
        metrics.EVENTS.labels(result="dead_lettered").inc()
        metrics.DEAD_LETTERED.labels(reason=reason).inc()

    @staticmethod
    def _unpublished(outputs: Outputs, batch: Batch) -> tuple[list[tuple[str, PairScore]], list[Alert]]:
        """The scores (with their ids) and alerts to publish: all of them, unless some are already on Kafka."""
        scores = [(score_id(event), score) for event, score in outputs.scored]
        alerts = outputs.alerts
        if batch.holding:
            scores = [(id_, score) for id_, score in scores if not batch.already_published(id_)]
            alerts = [alert for alert in alerts if not batch.already_published(alert.alert_id)]
            metrics.HELD_BACK.labels(output="score").inc(len(outputs.scored) - len(scores))
            metrics.HELD_BACK.labels(output="alert").inc(len(outputs.alerts) - len(alerts))
        return scores, alerts

    async def _publish(self, scores: list[tuple[str, PairScore]], alerts: list[Alert]) -> None:
        await self.sender.send_all(
            [
                *(score_output(self.settings.topic_scores, id_, score) for id_, score in scores),
                *(alert_output(self.settings.topic_alerts, alert) for alert in alerts),
            ]
        )

    @staticmethod
    def _count(outputs: Outputs, alerts: list[Alert], now: datetime) -> None:
        """Counted per batch, observed per event: the per-event cost of metrics stays a few histogram calls."""
        metrics.EVENTS.labels(result="duplicate").inc(outputs.duplicates)
        metrics.EVENTS.labels(result="scored").inc(len(outputs.scored))
        metrics.EVENTS.labels(result="consent").inc(outputs.consent)
        metrics.EVENTS.labels(result="erased").inc(outputs.erased)
        occurred = metrics.EVENT_DELAY.labels(since="occurred")
        received = metrics.EVENT_DELAY.labels(since="received")
        levels: Counter[str] = Counter()
        rules: Counter[str] = Counter()
        for event, score in outputs.scored:
            occurred.observe(max(0.0, (now - event.occurred_at).total_seconds()))
            received.observe(max(0.0, (now - event.received_at).total_seconds()))
            levels[score.level.value] += 1
            rules.update(reason.rule for reason in score.reasons)
            if score.next_allowed_at is not None:
                metrics.NEXT_ALLOWED_DELAY.observe((score.next_allowed_at - score.occurred_at).total_seconds())
        for level, count in levels.items():
            metrics.SCORES.labels(level=level).inc(count)
        for rule, count in rules.items():
            metrics.RULE_HITS.labels(rule=rule).inc(count)
        for alert in alerts:
            metrics.ALERTS.labels(level=alert.level.value, scope=alert.scope.value).inc()
