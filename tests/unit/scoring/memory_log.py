"""An in-memory `KafkaLog`: topics as lists of records, committed offsets as a dict. Recovery's tests run on it
and, through the same test case, on Apache Kafka."""

import time
from collections.abc import AsyncIterator, Sequence

from aiokafka import ConsumerRecord, TopicPartition

from services.scoring.recovery.kafka_log import Ranges, Record


class MemoryLog:
    def __init__(self) -> None:
        self.topics: dict[str, list[list[Record]]] = {}
        self.commits: dict[tuple[str, TopicPartition], int] = {}
        self.reads = 0
        """How many ranges were read: a re-armed guard reads again, a settled one does not."""
        self.open = False

    def create(self, topic: str, partitions: int = 1) -> None:
        self.topics.setdefault(topic, [[] for _ in range(partitions)])

    def append(
        self,
        topic: str,
        partition: int,
        value: bytes,
        *,
        key: bytes | None = None,
        headers: Sequence[tuple[str, bytes]] = (),
        timestamp_ms: int | None = None,
    ) -> Record:
        self.create(topic, partition + 1)
        log = self.topics[topic][partition]
        at = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        record: Record = ConsumerRecord(topic, partition, len(log), at, 0, key, value, None, 0, 0, list(headers))
        log.append(record)
        return record

    def commit(self, group_id: str, tp: TopicPartition, offset: int) -> None:
        self.commits[(group_id, tp)] = offset

    async def committed(self, group_id: str, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        self.open = True
        return {tp: self.commits[(group_id, tp)] for tp in partitions if (group_id, tp) in self.commits}

    async def partitions(self, topics: Sequence[str]) -> list[TopicPartition]:
        self.open = True
        return [
            TopicPartition(topic, p) for topic in topics if topic in self.topics for p in range(len(self.topics[topic]))
        ]

    async def beginnings(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        self.open = True
        return dict.fromkeys(partitions, 0)

    async def offsets_at(self, partitions: Sequence[TopicPartition], timestamp_ms: int) -> dict[TopicPartition, int]:
        self.open = True
        found = {}
        for tp in partitions:
            at = next((r.offset for r in self._log(tp) if r.timestamp >= timestamp_ms), None)
            if at is not None:
                found[tp] = at
        return found

    async def read(self, ranges: Ranges) -> AsyncIterator[Sequence[Record]]:
        self.open = True
        for tp, (start, stop) in ranges.items():
            self.reads += 1
            records = self._log(tp)[start:stop]
            for chunk in range(0, len(records), 2):  # small chunks, as fetches come
                yield records[chunk : chunk + 2]

    async def close(self) -> None:
        self.open = False

    def _log(self, tp: TopicPartition) -> list[Record]:
        partitions = self.topics.get(tp.topic, [])
        return partitions[tp.partition] if tp.partition < len(partitions) else []
