"""Partition recovery as one state machine: what must happen before, around and after each batch is scored.

    waiting ─assigned→ restoring (memory store only) → guarding → scoring
    scoring ─a batch failed after publishing→ unsettled ─the next batch guarded again first→ scoring
    scoring, unsettled ─revoked, once the batch in hand is done→ waiting

- **waiting**: no partition is ready (none assigned yet, or they were revoked). Batches wait.
- **restoring**: a memory store is rebuilt from `outreach.events` up to the group's committed offsets (`restore.py`).
- **guarding**: the replay guard learns which outputs of the uncommitted tail are already on Kafka
  (`replay_guard.py`), so they are not published twice.
- **scoring**: batches flow, each one under the lock, keeping only records of partitions still owned.
- **unsettled**: a batch failed after its outputs may have gone out (its state not saved): the next batch first
  guards again, since what it would publish may already be on the topics.

aiokafka fetches newly assigned partitions while the rebalance listener still runs, so batches wait for
`scoring`. A revocation waits for the batch in hand to be published and saved, so the next owner's guard sees its
outputs. The lock is this component's own: batches, take-overs and `exclusive` (an erasure) never overlap.
Every Kafka read goes through one `KafkaLog` (`kafka_log.py`).
"""

import asyncio
import enum
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager

from aiokafka import TopicPartition
from aiokafka.abc import ConsumerRebalanceListener

from services.runtime.partitioning import partition_for
from services.scoring.recovery.kafka_log import KafkaLog, Record
from services.scoring.recovery.replay_guard import ReplayGuard
from services.scoring.recovery.restore import MemoryStateRestorer

log = logging.getLogger("rapport_guard.scoring")

RETRY_SECONDS = 1.0
"""Pause before a take-over that failed (the broker away) is tried again."""


class Phase(enum.StrEnum):
    WAITING = "waiting"
    RESTORING = "restoring"
    GUARDING = "guarding"
    SCORING = "scoring"
    UNSETTLED = "unsettled"


NOT_READY = {
    Phase.WAITING: "partitions not taken over yet (waiting for them)",
    Phase.RESTORING: "partitions not taken over yet (rebuilding the memory store)",
    Phase.GUARDING: "partitions not taken over yet (reading outputs already published)",
}


class Batch:
    """One batch in the stream's hands: its records still owned, and what not to publish again."""

    def __init__(self, records: Sequence[Record], guard: ReplayGuard) -> None:
        self.records = records
        self._guard = guard
        self.publishing = False

    @property
    def holding(self) -> bool:
        """Whether any output may be held back (a quick test before checking each id)."""
        return self._guard.holding > 0

    def already_published(self, output_id: str) -> bool:
        return self._guard.already_published(output_id)

    def start_publishing(self) -> None:
        """From here until the batch ends, its outputs may be on Kafka whatever happens."""
        self.publishing = True


class Exclusive:
    """`async with recovery.exclusive:` keeps batches and take-overs off; the lock itself stays inside."""

    def __init__(self, lock: asyncio.Lock) -> None:
        self._lock = lock

    async def __aenter__(self) -> None:
        await self._lock.acquire()

    async def __aexit__(self, *_: object) -> None:
        self._lock.release()


class Recovery(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(
        self, kafka: KafkaLog, group_id: str, guard: ReplayGuard, restorer: MemoryStateRestorer | None
    ) -> None:
        self._kafka = kafka
        self._group_id = group_id
        self._guard = guard
        self._restorer = restorer
        self._lock = asyncio.Lock()
        self._ready = asyncio.Event()
        self._phase = Phase.WAITING
        self._owned: frozenset[tuple[str, int]] = frozenset()
        self._partition_counts: dict[str, int] = {}
        self.exclusive = Exclusive(self._lock)
        """Held: no batch is scored and no partition taken over (an erasure must not be undone by a batch's save)."""

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def owned(self) -> frozenset[tuple[str, int]]:
        """(topic, partition) of every partition being scored here."""
        return self._owned

    def scores_contact(self, contact_key: str) -> bool:
        """Whether the contact's events are scored here now: the partition Kafka's default partitioner gives its
        key was taken over by this replica. False while partitions are being handed over."""
        key = contact_key.encode()
        return any((topic, partition_for(key, count)) in self._owned for topic, count in self._partition_counts.items())

    def problem(self) -> str | None:
        """Why batches are not being scored, for `/readyz`; None once every assigned partition is taken over."""
        return NOT_READY.get(self._phase)

    @asynccontextmanager
    async def batch(self, records: Sequence[Record]) -> AsyncIterator[Batch]:
        """Wait until partitions are taken over, then hold the lock while the stream scores the records still
        owned; guard again first if the previous batch failed after publishing."""
        while True:
            await self._ready.wait()
            await self._lock.acquire()
            if self._ready.is_set():
                break
            self._lock.release()  # revoked while waiting for the batch before: wait for the next assignment
        try:
            if self._phase is Phase.UNSETTLED:
                known = await self._guard_again()
                log.info("re-armed the replay guard after a failed batch: %d published outputs known", known)
            batch = Batch(self._still_owned(records), self._guard)
            try:
                yield batch
            except BaseException:
                if batch.publishing:
                    self._phase = Phase.UNSETTLED
                raise
            self._guard.consumed(batch.records)
        finally:
            self._lock.release()

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        """Hold scoring until the next assignment, once the batch in hand is published and saved."""
        async with self._lock:
            self._ready.clear()
            self._owned = frozenset()
            self._phase = Phase.WAITING

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._ready.clear()
        partitions = sorted(assigned)
        started = time.monotonic()
        while True:
            try:
                async with self._lock:
                    restored, held = await self._take_over(partitions)
                    self._owned = frozenset((tp.topic, tp.partition) for tp in partitions)
                    self._phase = Phase.SCORING
                    self._ready.set()
                break
            except Exception:  # aiokafka would swallow it and let scoring start unprepared
                self._phase = Phase.WAITING
                log.exception("taking over partitions failed; trying again")
                await asyncio.sleep(RETRY_SECONDS)
        if restored or held:
            log.info(
                "took over %d partitions in %.1f s: %d events restored, %d published outputs known",
                len(partitions),
                time.monotonic() - started,
                restored,
                held,
            )

    async def _take_over(self, partitions: list[TopicPartition]) -> tuple[int, int]:
        if not partitions:
            return 0, 0
        try:
            every = await self._kafka.partitions(sorted({tp.topic for tp in partitions}))
            self._partition_counts = dict(Counter(tp.topic for tp in every))
            committed = await self._kafka.committed(self._group_id, partitions)
            beginnings = await self._kafka.beginnings(partitions)
            restored = 0
            if self._restorer is not None:
                self._phase = Phase.RESTORING
                restored = await self._restorer.restore(self._kafka, beginnings, committed)
            self._phase = Phase.GUARDING
            resume_at = {tp: max(committed.get(tp, 0), beginnings[tp]) for tp in partitions}
            return restored, await self._guard.learn(self._kafka, resume_at)
        finally:
            await self._kafka.close()

    async def _guard_again(self) -> int:
        """What the last batch published may now be on Kafka with its state unsaved: learn those ids first."""
        partitions = [TopicPartition(topic, partition) for topic, partition in sorted(self._owned)]
        if not partitions:
            self._phase = Phase.SCORING
            return 0
        try:
            committed = await self._kafka.committed(self._group_id, partitions)
            beginnings = await self._kafka.beginnings(partitions)
            resume_at = {tp: max(committed.get(tp, 0), beginnings[tp]) for tp in partitions}
            known = await self._guard.learn(self._kafka, resume_at)
        finally:
            await self._kafka.close()
        self._phase = Phase.SCORING
        return known

    def _still_owned(self, records: Sequence[Record]) -> Sequence[Record]:
        """A batch fetched before a rebalance may hold records of partitions that another replica now scores."""
        if all((record.topic, record.partition) in self._owned for record in records):
            return records
        return [record for record in records if (record.topic, record.partition) in self._owned]
