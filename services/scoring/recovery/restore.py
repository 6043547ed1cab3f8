"""Rebuilds a memory store from `outreach.events` when partitions are assigned, so a restart forgets nothing.

Run by the takeover listener (`takeover.py`) while scoring waits.

The memory store dies with the process; the events topic does not. Before a newly assigned partition is scored,
its history up to the group's committed offset is replayed through the same processor with the outputs thrown
away: touches and announced levels come back as they were (the processor's result does not depend on delivery
order, and replays are idempotent), and the uncommitted tail is then scored normally, so nothing is counted twice
and no alert is repeated. A Redis store survives restarts and needs none of this. History older than the topic's
retention cannot come back: keep `outreach.events` retention at least as long as the longest policy window.
"""

from collections.abc import Callable
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from schemas import OutreachEvent
from services.scoring import metrics
from services.scoring.processing.processor import Processor, event_problem


class MemoryStateRestorer:
    def __init__(self, processor: Processor, clock: Callable[[], datetime]) -> None:
        self.processor = processor
        self.clock = clock

    async def restore(self, reader: AIOKafkaConsumer, committed: dict[TopicPartition, int]) -> int:
        """Replay each partition up to its committed offset into the store; how many events."""
        targets = {tp: offset for tp, offset in committed.items() if offset > 0}
        if not targets:
            return 0
        reader.assign(list(targets))
        await reader.seek_to_beginning(*targets)
        pending = {tp for tp in targets if await reader.position(tp) < targets[tp]}
        restored = 0
        while pending:
            batches = await reader.getmany(*pending, timeout_ms=1000, max_records=2000)
            events = [
                event
                for tp, records in batches.items()
                for record in records
                if record.offset < targets[tp]
                for event in _parsed(record.value)
            ]
            for tp in list(pending):
                if await reader.position(tp) >= targets[tp]:
                    pending.discard(tp)
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
