"""What the rebalance listener promises the stream: only owned records, and no revocation mid-batch."""

import asyncio

from aiokafka import ConsumerRecord, TopicPartition

from services.scoring.recovery.replay_guard import ReplayGuard
from services.scoring.recovery.takeover import PartitionTakeover


def takeover_owning(*partitions: int) -> PartitionTakeover:
    takeover = PartitionTakeover({"bootstrap_servers": ["127.0.0.1:9"]}, "g", asyncio.Lock(), ReplayGuard({}, 0), None)
    takeover.owned = {("outreach.events", p) for p in partitions}
    takeover.ready.set()
    return takeover


def record(partition: int, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("outreach.events", partition, offset, 0, 0, None, b"", None, 0, 0, [])


def test_records_of_a_partition_another_replica_took_are_left_to_it() -> None:
    batch = [record(0, 5), record(1, 7), record(0, 6)]
    kept = takeover_owning(0).still_owned(batch)
    assert [(r.partition, r.offset) for r in kept] == [(0, 5), (0, 6)]
    assert takeover_owning(0, 1).still_owned(batch) == batch


async def test_a_revocation_waits_for_the_batch_in_hand_then_holds_scoring() -> None:
    takeover = takeover_owning(0)
    async with takeover.lock:  # the stream holds it from parsing a batch to saving its state
        revoking = asyncio.create_task(takeover.on_partitions_revoked([TopicPartition("outreach.events", 0)]))
        await asyncio.sleep(0.05)
        assert not revoking.done(), "the batch in hand is still being published"
        assert takeover.ready.is_set()
    await revoking
    assert not takeover.ready.is_set()
    assert takeover.still_owned([record(0, 8)]) == []
