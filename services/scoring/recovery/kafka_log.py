"""The few Kafka reads recovery needs, as one small interface, and its implementation on aiokafka.

Recovery is tested against an in-memory stand-in of this interface and against Apache Kafka with the same test
case, so everything it relies on from Kafka is written down here and nowhere else.

Partition ends come from fetch responses, not from ListOffsets: the embedded broker (Tansu) answers ListOffsets
with the start of the last record batch plus one.
"""

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

Record: TypeAlias = "ConsumerRecord[bytes, bytes]"

Ranges: TypeAlias = Mapping[TopicPartition, tuple[int, int | None]]
"""Partition → (first offset, offset to stop before); a stop of None, or beyond the end, means up to the end."""

STALLED_POLLS = 60
"""Half-second polls in a row without progress, while records are known to be there, before giving up."""


class KafkaLog(Protocol):
    async def committed(self, group_id: str, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        """The group's committed offset of each partition that has one."""

    async def partitions(self, topics: Sequence[str]) -> list[TopicPartition]:
        """Every partition of the topics that exist."""

    async def beginnings(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        """The first offset still kept of each partition."""

    async def offsets_at(self, partitions: Sequence[TopicPartition], timestamp_ms: int) -> dict[TopicPartition, int]:
        """The first offset written at or after `timestamp_ms`, for the partitions that have one."""

    def read(self, ranges: Ranges) -> AsyncIterator[Sequence[Record]]:
        """The records of each range, headers included, in batches; raises when a range cannot be read to its end."""

    async def close(self) -> None:
        """Let go of any connection; the next call opens what it needs again."""


class AiokafkaLog:
    """`KafkaLog` over an admin client and a group-less reader, opened on first use."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = dict(options)
        """aiokafka client options from `kafka_client_options`: the same cluster, reached the same way."""
        self._admin: AIOKafkaAdminClient | None = None
        self._reader: AIOKafkaConsumer | None = None

    async def committed(self, group_id: str, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        offsets = await (await self._admin_client()).list_consumer_group_offsets(group_id, partitions=list(partitions))
        return {tp: meta.offset for tp, meta in offsets.items() if meta is not None and meta.offset >= 0}

    async def partitions(self, topics: Sequence[str]) -> list[TopicPartition]:
        described = await (await self._admin_client()).describe_topics(list(topics))
        return [
            TopicPartition(topic["topic"], partition["partition"])
            for topic in described
            if topic["error_code"] == 0
            for partition in topic["partitions"]
        ]

    async def beginnings(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        return dict(await (await self._reader_client()).beginning_offsets(list(partitions)))

    async def offsets_at(self, partitions: Sequence[TopicPartition], timestamp_ms: int) -> dict[TopicPartition, int]:
        if not partitions:
            return {}
        found = await (await self._reader_client()).offsets_for_times(dict.fromkeys(partitions, max(0, timestamp_ms)))
        return {tp: at.offset for tp, at in found.items() if at is not None and at.timestamp >= 0}

    async def read(self, ranges: Ranges) -> AsyncIterator[Sequence[Record]]:
        reader = await self._reader_client()
        todo = {tp: (start, stop) for tp, (start, stop) in ranges.items() if stop is None or start < stop}
        reader.assign(list(todo))
        for tp, (start, _) in todo.items():
            reader.seek(tp, start)
        ends: dict[TopicPartition, int] = {}
        stalled = 0
        while todo:
            batches = await reader.getmany(*todo, timeout_ms=500, max_records=5000)
            for tp, records in batches.items():
                stop = todo[tp][1] if tp in todo else None
                kept = [record for record in records if stop is None or record.offset < stop]
                if kept:
                    yield kept
            _note_ends(reader, todo, ends)
            todo = {tp: span for tp, span in todo.items() if not await _done(reader, tp, span[1], ends)}
            stalled = 0 if batches else stalled + 1
            if stalled >= STALLED_POLLS:
                raise RuntimeError(f"{sorted(map(str, todo))} could not be read to their end")

    async def close(self) -> None:
        admin, reader, self._admin, self._reader = self._admin, self._reader, None, None
        if admin is not None:
            await admin.close()
        if reader is not None:
            await reader.stop()

    async def _admin_client(self) -> AIOKafkaAdminClient:
        if self._admin is None:
            admin = AIOKafkaAdminClient(**self.options)
            await admin.start()
            self._admin = admin
        return self._admin

    async def _reader_client(self) -> AIOKafkaConsumer:
        if self._reader is None:
            reader = AIOKafkaConsumer(**self.options, enable_auto_commit=False)
            await reader.start()
            self._reader = reader
        return self._reader


async def _done(
    reader: AIOKafkaConsumer, tp: TopicPartition, stop: int | None, ends: Mapping[TopicPartition, int]
) -> bool:
    position = await reader.position(tp)
    return (stop is not None and position >= stop) or (tp in ends and position >= ends[tp])


def _note_ends(reader: AIOKafkaConsumer, partitions: Iterable[TopicPartition], ends: dict[TopicPartition, int]) -> None:
    """Each partition's end as the first fetch response after the seek told it."""
    for tp in partitions:
        highwater = reader.highwater(tp)
        if highwater is not None:
            ends.setdefault(tp, highwater)
