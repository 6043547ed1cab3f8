"""Holds back scores and alerts that are already on Kafka for events whose offsets were never committed.

Offsets are committed after a batch's outputs are acknowledged, without transactions (the embedded broker has
none). A scorer killed between the two leaves outputs on the topics for events that will be delivered again, and
whoever takes the partition next scores them again: same ids, published twice. So before a partition is scored,
the guard reads the output topics from shortly before the oldest uncommitted event was written (nothing it caused
can be older) and remembers the ids found there; publishing skips those. It forgets them once each such partition
delivers an event written after the guard looked, which no earlier owner can have scored.

Only `Recovery` (`state_machine.py`) drives it, under its lock.
"""

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from aiokafka import TopicPartition

from services.scoring.recovery.kafka_log import KafkaLog, Record

log = logging.getLogger("rapport_guard.scoring")


class ReplayGuard:
    def __init__(
        self, id_headers: Mapping[str, str], clock_skew_seconds: float, wall_ms: Callable[[], int] | None = None
    ) -> None:
        self.id_headers = dict(id_headers)
        """Output topic → the header that carries each record's deterministic id."""
        self.clock_skew_ms = int(clock_skew_seconds * 1000)
        self.wall_ms = wall_ms or (lambda: int(time.time() * 1000))
        self.held: set[bytes] = set()
        self.until: dict[tuple[str, int], int] = {}
        """Events partitions with a replayed tail → a record timestamp after which nothing can be a replay."""

    @property
    def holding(self) -> int:
        """How many ids are held back."""
        return len(self.held)

    def already_published(self, output_id: str) -> bool:
        return output_id.encode() in self.held

    def consumed(self, records: Iterable[Record]) -> None:
        """Called after a batch is published: once every replayed tail is behind, nothing more can repeat."""
        if not self.until:
            return
        for record in records:
            mark = self.until.get((record.topic, record.partition))
            if mark is not None and record.timestamp > mark:
                del self.until[(record.topic, record.partition)]
        if not self.until:
            self.held.clear()

    async def learn(self, kafka: KafkaLog, resume_at: Mapping[TopicPartition, int]) -> int:
        """Remember the ids on the output topics since the oldest event that will be scored again; how many."""
        self.held.clear()
        self.until.clear()
        looked_at = self.wall_ms()
        tails = await _first_timestamps(kafka, resume_at)
        if not tails:
            return 0
        since = min(tails.values()) - self.clock_skew_ms
        outputs = await kafka.partitions(list(self.id_headers))
        for topic, header in self.id_headers.items():
            self.held |= await _ids_since(kafka, [tp for tp in outputs if tp.topic == topic], header, since)
        if self.held:
            self.until = {(tp.topic, tp.partition): looked_at + self.clock_skew_ms for tp in tails}
            log.info("%d outputs published since the oldest uncommitted event: not again", len(self.held))
        return len(self.held)


async def _first_timestamps(kafka: KafkaLog, offsets: Mapping[TopicPartition, int]) -> dict[TopicPartition, int]:
    """The timestamp of the record at each offset, for the partitions that have one."""
    found: dict[TopicPartition, int] = {}
    async for records in kafka.read({tp: (offset, offset + 1) for tp, offset in offsets.items()}):
        for record in records:
            found.setdefault(TopicPartition(record.topic, record.partition), record.timestamp)
    return found


async def _ids_since(kafka: KafkaLog, partitions: Sequence[TopicPartition], header: str, since_ms: int) -> set[bytes]:
    """Every `header` value in records of `partitions` written at or after `since_ms`, up to their ends."""
    starts = await kafka.offsets_at(partitions, since_ms)
    ids: set[bytes] = set()
    async for records in kafka.read({tp: (start, None) for tp, start in starts.items()}):
        ids.update(value for record in records for name, value in record.headers if name == header)
    return ids
