"""Rebuilds a memory store from `outreach.events` when partitions are assigned, so a restart forgets nothing.

The memory store dies with the process; the events topic does not. Before a newly assigned partition is scored,
its history up to the group's committed offset is replayed through the same processor with the outputs thrown
away: touches and announced levels come back as they were (the processor's result does not depend on delivery
order, and replays are idempotent), and the uncommitted tail is then scored normally, so nothing is counted twice
and no alert is repeated. A Redis store survives restarts and needs none of this. History older than the topic's
retention cannot come back: keep `outreach.events` retention at least as long as the longest policy window.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from schemas import OutreachEvent
from services.scoring import metrics
from services.scoring.processor import Processor, event_problem

log = logging.getLogger("rapport_guard.scoring")


class MemoryStateRestorer(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(
        self,
        bootstrap: str,
        group_id: str,
        processor: Processor,
        clock: Callable[[], datetime],
        lock: asyncio.Lock,
    ) -> None:
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.processor = processor
        self.clock = clock
        self.lock = lock
        self.restoring = False

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        """Nothing to hand over: whoever takes a partition rebuilds it from the topic."""

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        partitions = list(assigned)
        if not partitions:
            return
        self.restoring = True
        started = time.monotonic()
        try:
            targets = await self._committed(partitions)
            restored = await self._replay(targets) if targets else 0
        finally:
            self.restoring = False
        if restored:
            log.info(
                "restored %d events of %d partitions in %.1f s", restored, len(targets), time.monotonic() - started
            )

    async def _committed(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        """The group's committed offset per partition, where there is one (replay stops short of it)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap.split(","))
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(self.group_id, partitions=partitions)
        finally:
            await admin.close()
        return {tp: meta.offset for tp, meta in offsets.items() if meta is not None and meta.offset > 0}

    async def _replay(self, targets: dict[TopicPartition, int]) -> int:
        reader = AIOKafkaConsumer(bootstrap_servers=self.bootstrap.split(","), enable_auto_commit=False)
        await reader.start()
        try:
            reader.assign(list(targets))
            await reader.seek_to_beginning(*targets)
            pending = {tp for tp in targets if await reader.position(tp) < targets[tp]}
            restored = 0
            while pending:
                batches = await reader.getmany(*pending, timeout_ms=1000, max_records=2000)
                events = []
                for tp, records in batches.items():
                    for record in records:
                        if record.offset < targets[tp]:
                            events.extend(_parsed(record.value))
                for tp in list(pending):
                    if await reader.position(tp) >= targets[tp]:
                        pending.discard(tp)
                if events:
                    async with self.lock:
                        _, states = await self.processor.process(events, self.clock())
                        await self.processor.save(states)
                    restored += len(events)
            metrics.RESTORED.inc(restored)
            return restored
        finally:
            await reader.stop()


def _parsed(value: bytes | None) -> list[OutreachEvent]:
    """The event in a record, or nothing: what could not be scored then was dead-lettered then."""
    try:
        event = OutreachEvent.model_validate_json(value or b"")
    except ValidationError:
        return []
    return [] if event_problem(event) is not None else [event]
