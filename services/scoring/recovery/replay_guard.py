"""Holds back scores and alerts that are already on Kafka for events whose offsets were never committed.

Offsets are committed after a batch's outputs are acknowledged, without transactions (the embedded broker has
none). A scorer killed between the two leaves outputs on the topics for events that will be delivered again, and
whoever takes the partition next scores them again: same ids, published twice. So before a newly assigned
partition is scored, the guard reads the output topics from shortly before the oldest uncommitted event was
written (nothing it caused can be older) and remembers the ids found there; publishing skips those. It forgets
them once each such partition delivers an event written after the guard looked, which no earlier owner can have
scored.

Partition ends come from fetch responses, not from ListOffsets: the embedded broker (Tansu) answers ListOffsets
with the start of the last record batch plus one.
"""

import logging
import time
from collections.abc import Iterable, Mapping, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

log = logging.getLogger("rapport_guard.scoring")

STALLED_POLLS = 60
"""Half-second polls in a row without progress, while records are known to be there, before giving up."""


class ReplayGuard:
    def __init__(self, id_headers: Mapping[str, str], clock_skew_seconds: float) -> None:
        self.id_headers = dict(id_headers)
        """Output topic → the header that carries each record's deterministic id."""
        self.clock_skew_ms = int(clock_skew_seconds * 1000)
        self.held: set[bytes] = set()
        self.until: dict[tuple[str, int], int] = {}
        """Events partitions with a replayed tail → a record timestamp after which nothing can be a replay."""

    @property
    def holding(self) -> bool:
        return bool(self.held)

    def already_published(self, output_id: str) -> bool:
        return output_id.encode() in self.held

    def consumed(self, records: Iterable["ConsumerRecord[bytes, bytes]"]) -> None:
        """Called after a batch is published: once every replayed tail is behind, nothing more can repeat."""
        if not self.until:
            return
        for record in records:
            mark = self.until.get((record.topic, record.partition))
            if mark is not None and record.timestamp > mark:
                del self.until[(record.topic, record.partition)]
        if not self.until:
            self.held.clear()

    async def prepare(
        self,
        reader: AIOKafkaConsumer,
        resume_at: Mapping[TopicPartition, int],
        outputs: Sequence[TopicPartition],
    ) -> int:
        """Remember the ids on the `outputs` partitions since the oldest event that will be scored again."""
        self.held.clear()
        self.until.clear()
        looked_at = int(time.time() * 1000)
        tails = await _first_timestamps(reader, resume_at) if resume_at else {}
        if not tails:
            return 0
        since = min(tails.values()) - self.clock_skew_ms
        for topic, header in self.id_headers.items():
            self.held |= await _ids_since(reader, [tp for tp in outputs if tp.topic == topic], header, since)
        self.until = {(tp.topic, tp.partition): looked_at + self.clock_skew_ms for tp in tails}
        if self.held:
            log.info("%d outputs published since the oldest uncommitted event: not again", len(self.held))
        return len(self.held)


async def _first_timestamps(
    reader: AIOKafkaConsumer, offsets: Mapping[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """The timestamp of the record at each offset, for the partitions that have one."""
    reader.assign(list(offsets))
    for tp, offset in offsets.items():
        reader.seek(tp, offset)
    found: dict[TopicPartition, int] = {}
    ends: dict[TopicPartition, int] = {}
    stalled = 0
    while True:
        batches = await reader.getmany(timeout_ms=500, max_records=500)
        for tp, records in batches.items():
            found.setdefault(tp, records[0].timestamp)
            reader.pause(tp)
        _note_ends(reader, offsets, ends)
        waiting = [tp for tp in offsets if tp not in found and (tp not in ends or offsets[tp] < ends[tp])]
        if not waiting:
            return found
        stalled = 0 if batches else stalled + 1
        if stalled >= STALLED_POLLS:
            raise RuntimeError(f"no record read at the resume offsets of {sorted(map(str, waiting))}")


async def _ids_since(
    reader: AIOKafkaConsumer, partitions: list[TopicPartition], header: str, since_ms: int
) -> set[bytes]:
    """Every `header` value in records of `partitions` written at or after `since_ms`, up to their ends."""
    if not partitions:
        return set()
    starts = await reader.offsets_for_times(dict.fromkeys(partitions, max(0, since_ms)))
    todo = [tp for tp in partitions if starts[tp] is not None and starts[tp].timestamp >= 0]
    reader.assign(todo)
    for tp in todo:
        reader.seek(tp, starts[tp].offset)
    ids: set[bytes] = set()
    ends: dict[TopicPartition, int] = {}
    stalled = 0
    while todo:
        batches = await reader.getmany(*todo, timeout_ms=500, max_records=5000)
        for records in batches.values():
            ids.update(value for record in records for name, value in record.headers if name == header)
        _note_ends(reader, todo, ends)
        todo = [tp for tp in todo if tp not in ends or await reader.position(tp) < ends[tp]]
        stalled = 0 if batches else stalled + 1
        if stalled >= STALLED_POLLS:
            raise RuntimeError(f"{sorted(map(str, todo))} could not be read to their end")
    return ids


def _note_ends(reader: AIOKafkaConsumer, partitions: Iterable[TopicPartition], ends: dict[TopicPartition, int]) -> None:
    """Each partition's end as the first fetch response after the seek told it."""
    for tp in partitions:
        highwater = reader.highwater(tp)
        if highwater is not None:
            ends.setdefault(tp, highwater)
