"""Rebuilds a memory store from `outreach.events` when partitions are taken over, so a restart forgets nothing.

The memory store dies with the process; the events topic does not. Before a newly assigned partition is scored,
its history up to the group's committed offset is replayed through the same processor with the outputs thrown
away: touches and announced levels come back as they were (the processor's result does not depend on delivery
order, and replays are idempotent), and the uncommitted tail is then scored normally, so nothing is counted twice
and no alert is repeated. A Redis store survives restarts and needs none of this. History older than the topic's
retention cannot come back: keep `outreach.events` retention at least as long as the longest policy window.

Only `Recovery` (`state_machine.py`) runs it, under its lock.
"""

from collections.abc import Callable, Mapping
from datetime import datetime

from aiokafka import TopicPartition
from pydantic import ValidationError

from schemas import OutreachEvent
from schemas.events import event_problem
from services.scoring import metrics
from services.scoring.processing.processor import Processor
from services.scoring.recovery.kafka_log import KafkaLog


class MemoryStateRestorer:
    def __init__(self, processor: Processor, clock: Callable[[], datetime]) -> None:
        self.processor = processor
        self.clock = clock

    async def restore(
        self, kafka: KafkaLog, beginnings: Mapping[TopicPartition, int], committed: Mapping[TopicPartition, int]
    ) -> int:
        """Replay each partition from its beginning up to its committed offset into the store; how many events."""
        ranges = {tp: (beginnings.get(tp, 0), offset) for tp, offset in committed.items() if offset > 0}
        restored = 0
        async for records in kafka.read(ranges):
            events = [event for record in records for event in _parsed(record.value)]
            if events:
                _, states = await self.processor.process(events, self.clock())
                await self.processor.save(states)
                restored += len(events)
        metrics.RESTORED.inc(restored)
        return restored


def _parsed(value: bytes | None) -> list[OutreachEvent]:
    """The event in a record, or nothing: what could not be scored then was dead-lettered then."""
    try:
        event = OutreachEvent.model_validate_json(value or b"")
    except ValidationError:
        return []
    return [] if event_problem(event) is not None else [event]
