"""Reads `outreach.erasures` into `ErasedContacts`: all of it before the service reads anything else, then live.

Every replica reads every partition (no consumer group): an erasure must reach each of them, whichever took the
HTTP request. `loaded` is set once the topic has been read up to where it ended at start, so a service can hold
its own consumers back until then and never act on a message about a contact erased before it started. Each
erasure, old or new, is also handed to `on_erased`, which must be idempotent (a restart hands them all again).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from schemas import Erasure
from services.runtime.broker import kafka_client_options
from services.runtime.erasures import ErasedContacts
from services.runtime.kafka_security import kafka_security_options
from services.runtime.settings import ServiceSettings
from services.runtime.topics import create_topics, erasures_config

log = logging.getLogger("rapport_guard.erasures")

OnErased = Callable[[Erasure], Awaitable[None]]


class ErasureFeed:
    def __init__(
        self,
        settings: ServiceSettings,
        erased: ErasedContacts,
        on_erased: OnErased,
        retry_seconds: float = 1.0,
    ) -> None:
        self.settings = settings
        self.erased = erased
        self.on_erased = on_erased
        self.retry_seconds = retry_seconds
        self.loaded = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self._task = asyncio.create_task(self._follow_until_closed())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _follow_until_closed(self) -> None:
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Kafka away or the store failing: read again, never crash
                log.warning("reading %s failed, retrying: %s", self.settings.topic_erasures, type(exc).__name__)
                await asyncio.sleep(self.retry_seconds)

    async def _follow(self) -> None:
        topic = self.settings.topic_erasures
        await create_topics(
            self.settings.kafka_bootstrap_servers,
            [topic],
            1,
            configs=erasures_config(self.settings),
            security=kafka_security_options(self.settings),
        )
        reader = AIOKafkaConsumer(
            topic,
            **kafka_client_options(self.settings),
            enable_auto_commit=False,
            group_id=None,
            auto_offset_reset="earliest",
        )
        await reader.start()
        try:
            assigned = await _every_partition(reader, topic)
            await reader.seek_to_beginning(*assigned)
            ends = await reader.end_offsets(assigned)
            while True:
                if not self.loaded.is_set() and all([await reader.position(tp) >= ends[tp] for tp in assigned]):
                    log.info("%d erased contacts known", len(self.erased))
                    self.loaded.set()
                batches = await reader.getmany(timeout_ms=500, max_records=1000)
                for records in batches.values():
                    for record in records:
                        await self._take(record.value)
        finally:
            await reader.stop()

    async def _take(self, value: bytes | None) -> None:
        if value is None:
            return
        try:
            erasure = Erasure.model_validate_json(value)
        except ValidationError:
            log.warning("an unreadable record on %s was skipped", self.settings.topic_erasures)
            return
        self.erased.note(erasure)
        await self.on_erased(erasure)


async def _every_partition(reader: AIOKafkaConsumer, topic: str, wait_seconds: float = 30) -> list[TopicPartition]:
    """Without a group, a subscribed reader is given every partition of the topic once it has their metadata."""
    for _ in range(int(wait_seconds / 0.05)):
        if reader.assignment():
            return sorted(reader.assignment())
        await asyncio.sleep(0.05)
    raise KafkaError(f"no partitions of {topic} after {wait_seconds} s")
