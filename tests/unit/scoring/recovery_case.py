"""What recovery promises on taking a partition over, as one test case run on an in-memory log
(tests/unit/scoring/test_recovery.py) and on Apache Kafka (tests/integration/test_scoring_recovery.py).

The story: a scorer scored three e-mails (the third announced `watch`), published every score and the alert,
and was killed after committing only the first event. The next owner must remember the committed history, not
publish the tail's outputs again, and let go of them once a newer event arrives.
"""

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pytest
from aiokafka import TopicPartition

from services.scoring.policy.file import PolicySet
from services.scoring.processing.output_ids import score_id
from services.scoring.processing.processor import Processor
from services.scoring.recovery.kafka_log import KafkaLog, Record
from services.scoring.recovery.replay_guard import ReplayGuard
from services.scoring.recovery.restore import MemoryStateRestorer
from services.scoring.recovery.state_machine import Phase, Recovery
from services.scoring.state.memory_store import MemoryStore
from tests.harness.events import event
from tests.unit.scoring.builders import DAY, T0, emails

NOW = T0 + 30 * DAY


class Cluster(Protocol):
    """Where the case writes what a previous owner left behind, and the log recovery reads it through."""

    @property
    def log(self) -> KafkaLog: ...

    async def create(self, topics: Sequence[str]) -> None: ...

    async def write(self, topic: str, value: bytes, headers: Sequence[tuple[str, bytes]] = ()) -> None: ...

    async def commit(self, group_id: str, tp: TopicPartition, offset: int) -> None: ...


@dataclass
class Left:
    """What the killed owner left: its topics, the ids it published, and the recovery of the next owner."""

    events: TopicPartition
    published: set[str]
    recovery: Recovery
    store: MemoryStore


def phase_of(recovery: Recovery) -> Phase:
    """The phase as of now: a function call, so the type checker does not pin it across awaits."""
    return recovery.phase


async def read_all(log: KafkaLog, tp: TopicPartition, start: int) -> list[Record]:
    return [record async for records in log.read({tp: (start, None)}) for record in records]


class RecoveryCase:
    @pytest.fixture
    def cluster(self) -> Cluster:
        raise NotImplementedError

    async def left_behind(self, cluster: Cluster) -> Left:
        name = f"recovery-{secrets.token_hex(3)}"
        events, scores, alerts = f"{name}.events", f"{name}.scores", f"{name}.alerts"
        await cluster.create([events, scores, alerts])
        history = emails(3, 2 * DAY)
        outputs, _ = await Processor(MemoryStore(expire_after=10**9), PolicySet()).process(history, NOW)
        assert [alert.level for alert in outputs.alerts] == ["watch"]
        for item in history:
            await cluster.write(events, item.model_dump_json().encode())
        for item, score in outputs.scored:
            await cluster.write(scores, score.model_dump_json().encode(), [("score_id", score_id(item).encode())])
        for alert in outputs.alerts:
            await cluster.write(alerts, alert.model_dump_json().encode(), [("ce_id", alert.alert_id.encode())])
        group = f"{name}-group"
        partition = TopicPartition(events, 0)
        await cluster.commit(group, partition, 1)

        store = MemoryStore(expire_after=10**9)
        processor = Processor(store, PolicySet())
        guard = ReplayGuard({scores: "score_id", alerts: "ce_id"}, clock_skew_seconds=0)
        recovery = Recovery(cluster.log, group, guard, MemoryStateRestorer(processor, lambda: NOW))
        published = {score_id(item) for item, _ in outputs.scored} | {alert.alert_id for alert in outputs.alerts}
        return Left(partition, published, recovery, store)

    async def test_the_memory_store_is_rebuilt_up_to_the_committed_offset(self, cluster: Cluster) -> None:
        left = await self.left_behind(cluster)
        assert left.recovery.problem() is not None, "not ready before the partition is taken over"
        await left.recovery.on_partitions_assigned([left.events])
        assert phase_of(left.recovery) == Phase.SCORING
        assert left.recovery.problem() is None
        state = (await left.store.load_many(["acme:c-1"]))["acme:c-1"]
        assert len(state.pairs["rep-1"].touches) == 1, "the committed event, and not the uncommitted tail"

    async def test_a_tail_already_on_the_topics_is_held_back_until_a_newer_event_arrives(
        self, cluster: Cluster
    ) -> None:
        left = await self.left_behind(cluster)
        await left.recovery.on_partitions_assigned([left.events])
        newer = event("rep-1-new", T0 + 7 * DAY)
        tail = await read_all(cluster.log, left.events, 1)

        async with left.recovery.batch(tail) as batch:
            assert [record.offset for record in batch.records] == [1, 2]
            assert all(batch.already_published(id_) for id_ in left.published), "every score and the alert"
            assert not batch.already_published(score_id(newer))
        async with left.recovery.batch([]) as batch:
            assert batch.holding, "the tail was written before the guard looked: more of it may come again"

        await asyncio.sleep(0.05)  # a record written after the guard looked, by any clock
        await cluster.write(left.events.topic, newer.model_dump_json().encode())
        [written] = await read_all(cluster.log, left.events, 3)
        async with left.recovery.batch([written]) as batch:
            assert batch.holding, "held while the newer event is scored"
        async with left.recovery.batch([]) as batch:
            assert not batch.holding
            assert not any(batch.already_published(id_) for id_ in left.published)
