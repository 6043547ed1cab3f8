"""What happens when partitions change hands, before any of their events is scored.

aiokafka fetches newly assigned partitions while the rebalance listener still runs, so scoring waits on `ready`:
first the memory store is rebuilt up to the committed offsets (a Redis store needs nothing), then the replay
guard learns which outputs of the uncommitted tail are already on Kafka. A revocation waits for the batch in
hand to be published, so the next owner's guard sees its outputs. The guard is re-armed the same way after a batch
failed between publishing and saving (the store went away, or the broker took only part of the outputs).
"""

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient

from services.scoring.recovery.replay_guard import ReplayGuard
from services.scoring.recovery.restore import MemoryStateRestorer

log = logging.getLogger("rapport_guard.scoring")


class PartitionTakeover(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(
        self,
        connection: Mapping[str, Any],
        group_id: str,
        lock: asyncio.Lock,
        guard: ReplayGuard,
        restorer: MemoryStateRestorer | None,
    ) -> None:
        self.connection = dict(connection)
        """aiokafka client options from `kafka_client_options`: the same cluster, reached the same way."""
        self.group_id = group_id
        self.lock = lock
        self.guard = guard
        self.restorer = restorer
        self.ready = asyncio.Event()
        """Set while every assigned partition is ready to be scored; the stream waits for it."""
        self.owned: set[tuple[str, int]] = set()

    def still_owned(
        self, records: Sequence["ConsumerRecord[bytes, bytes]"]
    ) -> Sequence["ConsumerRecord[bytes, bytes]"]:
        """A batch fetched before a rebalance may hold records of partitions that another replica now scores."""
        if all((record.topic, record.partition) in self.owned for record in records):
            return records
        return [record for record in records if (record.topic, record.partition) in self.owned]

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        """Hold scoring until the next assignment, once the batch in hand is published and saved."""
        async with self.lock:
            self.ready.clear()
            self.owned.clear()

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self.ready.clear()
        partitions = list(assigned)
        started = time.monotonic()
        while True:
            try:
                restored, held = await self._take_over(partitions)
                break
            except Exception:  # aiokafka would swallow it and let scoring start unprepared
                log.exception("taking over partitions failed; trying again")
                await asyncio.sleep(1)
        self.owned = {(tp.topic, tp.partition) for tp in partitions}
        self.ready.set()
        if restored or held:
            took = time.monotonic() - started
            log.info(
                "took over %d partitions in %.1f s: %d events restored, %d published outputs known",
                len(partitions),
                took,
                restored,
                held,
            )

    async def rearm(self) -> None:
        """After a batch failed with its outputs perhaps on Kafka (a save or a publish failed): learn them again
        before that batch is scored again."""
        _, known = await self._take_over([TopicPartition(topic, p) for topic, p in sorted(self.owned)], restore=False)
        log.info("re-armed the replay guard after a failed batch: %d published outputs known", known)

    async def _take_over(self, partitions: list[TopicPartition], *, restore: bool = True) -> tuple[int, int]:
        if not partitions:
            return 0, 0
        committed, outputs = await self._offsets_and_outputs(partitions)
        reader = AIOKafkaConsumer(**self.connection, enable_auto_commit=False)
        await reader.start()
        try:
            async with self.lock:
                restored = 0
                if restore and self.restorer is not None:
                    restored = await self.restorer.restore(reader, committed)
                beginnings = await reader.beginning_offsets(partitions)
                resume_at = {tp: max(committed.get(tp, 0), beginnings[tp]) for tp in partitions}
                return restored, await self.guard.prepare(reader, resume_at, outputs)
        finally:
            await reader.stop()

    async def _offsets_and_outputs(
        self, partitions: list[TopicPartition]
    ) -> tuple[dict[TopicPartition, int], list[TopicPartition]]:
        """The group's committed offset per partition (where there is one), and every output topic partition."""
        admin = AIOKafkaAdminClient(**self.connection)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(self.group_id, partitions=partitions)
            topics = await admin.describe_topics(list(self.guard.id_headers))
        finally:
            await admin.close()
        committed = {tp: meta.offset for tp, meta in offsets.items() if meta is not None and meta.offset >= 0}
        outputs = [
            TopicPartition(topic["topic"], partition["partition"])
            for topic in topics
            if topic["error_code"] == 0
            for partition in topic["partitions"]
        ]
        return committed, outputs
