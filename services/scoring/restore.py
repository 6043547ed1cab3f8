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
        self.ready = asyncio.Event()
        """Set while the store holds every assigned partition's committed history; the stream waits for it,
        because aiokafka fetches newly assigned partitions while this listener still runs."""

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        """Nothing to hand over (whoever takes a partition rebuilds it); hold scoring until the next assignment."""
        self.ready.clear()

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self.ready.clear()
        partitions = list(assigned)
        started = time.monotonic()
        while True:
            try:
                restored = await self._restore(partitions)
                break
            except Exception:  # aiokafka would swallow it and let scoring start on a half-empty store
                log.exception("restoring the memory store failed; trying again")
                await asyncio.sleep(1)
        self.ready.set()
        if restored:
            took = time.monotonic() - started
            log.info("restored %d events of %d partitions in %.1f s", restored, len(partitions), took)

    async def _restore(self, partitions: list[TopicPartition]) -> int:
        targets = await self._committed(partitions) if partitions else {}
        return await self._replay(targets) if targets else 0

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
            async with self.lock:
                return await self._read_into_store(reader, targets)
        finally:
            await reader.stop()

    async def _read_into_store(self, reader: AIOKafkaConsumer, targets: dict[TopicPartition, int]) -> int:
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
