"""Recovery's state machine on an in-memory log: the shared take-over case, and what it promises the stream."""

import asyncio
from collections.abc import Sequence

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from services.runtime.partitioning import partition_for
from services.scoring.recovery.replay_guard import ReplayGuard
from services.scoring.recovery.state_machine import Phase, Recovery
from tests.unit.scoring.memory_log import MemoryLog
from tests.unit.scoring.recovery_case import Cluster, RecoveryCase, phase_of


class MemoryCluster:
    def __init__(self) -> None:
        self.log = MemoryLog()

    async def create(self, topics: Sequence[str]) -> None:
        for topic in topics:
            self.log.create(topic)

    async def write(self, topic: str, value: bytes, headers: Sequence[tuple[str, bytes]] = ()) -> None:
        self.log.append(topic, 0, value, headers=headers)

    async def commit(self, group_id: str, tp: TopicPartition, offset: int) -> None:
        self.log.commit(group_id, tp, offset)


class TestRecoveryInMemory(RecoveryCase):
    @pytest.fixture
    def cluster(self) -> Cluster:
        return MemoryCluster()


EVENTS = "outreach.events"


def record(partition: int, offset: int, timestamp: int = 0) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(EVENTS, partition, offset, timestamp, 0, None, b"", None, 0, 0, [])


async def recovery_owning(*partitions: int, log: MemoryLog | None = None) -> Recovery:
    recovery = Recovery(log or MemoryLog(), "g", ReplayGuard({"outreach.scores": "score_id"}, 0), None)
    await recovery.on_partitions_assigned([TopicPartition(EVENTS, p) for p in partitions])
    return recovery


async def test_records_of_a_partition_another_replica_took_are_left_to_it() -> None:
    batch = [record(0, 5), record(1, 7), record(0, 6)]
    async with (await recovery_owning(0)).batch(batch) as kept:
        assert [(r.partition, r.offset) for r in kept.records] == [(0, 5), (0, 6)]
    async with (await recovery_owning(0, 1)).batch(batch) as kept:
        assert kept.records == batch


async def test_a_batch_waits_until_its_partitions_are_taken_over() -> None:
    recovery = Recovery(MemoryLog(), "g", ReplayGuard({}, 0), None)
    assert phase_of(recovery) == Phase.WAITING
    assert recovery.problem() == "partitions not taken over yet (waiting for them)"
    scoring = asyncio.create_task(recovery.batch([record(0, 1)]).__aenter__())
    await asyncio.sleep(0.05)
    assert not scoring.done()
    await recovery.on_partitions_assigned([TopicPartition(EVENTS, 0)])
    batch = await asyncio.wait_for(scoring, 1)
    assert [r.offset for r in batch.records] == [1]


async def test_a_revocation_waits_for_the_batch_in_hand_then_holds_scoring() -> None:
    recovery = await recovery_owning(0)
    async with recovery.batch([record(0, 7)]):
        revoking = asyncio.create_task(recovery.on_partitions_revoked([TopicPartition(EVENTS, 0)]))
        await asyncio.sleep(0.05)
        assert not revoking.done(), "the batch in hand is still being published"
        assert phase_of(recovery) == Phase.SCORING
    await revoking
    assert phase_of(recovery) == Phase.WAITING
    assert recovery.problem() is not None
    waiting = asyncio.create_task(recovery.batch([record(0, 8)]).__aenter__())
    await asyncio.sleep(0.05)
    assert not waiting.done(), "no batch is scored between a revocation and the next assignment"
    waiting.cancel()


async def test_an_erasure_waits_for_the_batch_in_hand() -> None:
    recovery = await recovery_owning(0)
    async with recovery.batch([record(0, 7)]):
        erasing = asyncio.create_task(recovery.exclusive.__aenter__())
        await asyncio.sleep(0.05)
        assert not erasing.done()
    await erasing
    await recovery.exclusive.__aexit__(None, None, None)


async def failing_batch(recovery: Recovery, *, published: bool) -> None:
    async with recovery.batch([record(0, 0)]) as batch:
        if published:
            batch.start_publishing()
        raise RuntimeError("the batch failed")


async def test_only_a_batch_that_failed_after_publishing_makes_the_next_one_read_the_outputs_again() -> None:
    log = MemoryLog()
    recovery = await recovery_owning(0, log=log)
    read = log.reads
    with pytest.raises(RuntimeError):
        await failing_batch(recovery, published=False)  # the store went away before anything was published
    assert phase_of(recovery) == Phase.SCORING
    async with recovery.batch([record(0, 0)]):
        pass
    assert log.reads == read, "nothing was published, nothing to look for"

    log.append(EVENTS, 0, b"{}")
    log.append("outreach.scores", 0, b"{}", headers=[("score_id", b"s-1")])
    with pytest.raises(RuntimeError):
        await failing_batch(recovery, published=True)  # the save failed after the outputs went out
    assert phase_of(recovery) == Phase.UNSETTLED
    assert recovery.problem() is None, "still taking its partitions: a retry is all it takes"
    async with recovery.batch([record(0, 0)]) as batch:
        assert batch.already_published("s-1"), "what the failed batch published is learnt before it is retried"
    assert phase_of(recovery) == Phase.SCORING
    assert not log.open, "every read connection is let go"


def test_the_guard_lets_go_once_each_replayed_partition_delivers_an_event_written_after_it_looked() -> None:
    guard = ReplayGuard({}, 0)
    guard.held = {b"already-published"}
    guard.until = {(EVENTS, 0): 1_000, (EVENTS, 1): 1_000}
    guard.consumed([record(0, 0, 999), record(1, 0, 1_000)])
    assert guard.already_published("already-published"), "both events may have been scored before"
    guard.consumed([record(0, 0, 1_001)])
    assert guard.already_published("already-published"), "partition 1 may still replay"
    guard.consumed([record(1, 0, 1_500)])
    assert not guard.holding


async def test_a_replica_knows_which_contacts_it_scores_by_their_partition() -> None:
    log = MemoryLog()
    log.create(EVENTS, 3)
    mine = await recovery_owning(0, 2, log=log)
    keys = [f"acme:c-{n}" for n in range(30)]
    scored_here = {key for key in keys if mine.scores_contact(key)}
    assert scored_here == {key for key in keys if partition_for(key.encode(), 3) in {0, 2}}
    assert 0 < len(scored_here) < len(keys)
    await mine.on_partitions_revoked([TopicPartition(EVENTS, 0), TopicPartition(EVENTS, 2)])
    assert not any(mine.scores_contact(key) for key in keys), "nothing is scored here between two assignments"
