"""Ingestion picks each event's partition itself: it must be the one Kafka's own producers would pick."""

import random

import pytest
from aiokafka.partitioner import DefaultPartitioner

from services.runtime.partitioning import murmur2, partition_for

# Kafka's UtilsTest.testMurmur2 (signed Java ints), so the hash is Kafka's, not only aiokafka's.
JAVA_MURMUR2 = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


@pytest.mark.parametrize(("key", "java"), JAVA_MURMUR2.items())
def test_murmur2_is_kafkas(key: bytes, java: int) -> None:
    assert murmur2(key) == java & 0xFFFFFFFF


def test_every_contact_lands_where_aiokafka_would_put_it() -> None:
    rng = random.Random(7)
    keys = [f"tenant-{n % 7}:em_{rng.randbytes(16).hex()}".encode() for n in range(500)]
    keys += [rng.randbytes(rng.randint(0, 40)) for _ in range(500)]
    for partitions in (1, 3, 12):
        everything = list(range(partitions))
        assert [partition_for(key, partitions) for key in keys] == [
            DefaultPartitioner()(key, everything, everything) for key in keys
        ]
