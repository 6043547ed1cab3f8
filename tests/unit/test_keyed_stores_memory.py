"""The keyed store case on the in-process store with a fake clock, and what only the memory backend promises."""

import pytest

from services.ingestion.dedupe import MemoryDedupe
from services.runtime.keyed_store import KeyedStore
from services.runtime.memory_keyed_store import MemoryKeyedStore
from services.scoring.state.memory_store import MemoryStore
from tests.unit.keyed_store_case import TTL, KeyedStoreCase, contact

HOUR = 3600.0
DEDUPE_TTL = 96 * HOUR


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class TestMemoryKeyedStore(KeyedStoreCase):
    clock: FakeClock

    @pytest.fixture
    async def keyed(self) -> KeyedStore:
        self.clock = FakeClock()
        return MemoryKeyedStore(self.clock)

    async def let_time_pass(self, seconds: float) -> None:
        self.clock.now += seconds


async def test_a_retry_within_96_hours_is_seen_and_after_it_is_not_and_nothing_is_kept() -> None:
    clock = FakeClock(1_000_000.0)
    store = MemoryDedupe(DEDUPE_TTL, max_keys=10_000, clock=clock)
    await store.mark(["k1"])
    clock.now += DEDUPE_TTL - 1
    assert await store.seen(["k1", "k2"]) == {"k1"}
    clock.now += 2 * HOUR
    assert await store.seen(["k1"]) == set()
    assert len(store) == 0


async def test_memory_stays_under_the_cap_by_forgetting_the_oldest_keys() -> None:
    clock = FakeClock(0.0)
    store = MemoryDedupe(DEDUPE_TTL, max_keys=1_000, clock=clock)
    for hour in range(5):
        clock.now = hour * HOUR
        await store.mark([f"h{hour}-{n}" for n in range(400)])
    assert len(store) == 1_000
    clock.now = 5 * HOUR
    oldest_thousand_gone = await store.seen(["h0-0", "h1-399", "h2-199", "h2-200", "h4-399"])
    assert oldest_thousand_gone == {"h2-200", "h4-399"}


async def test_the_memory_state_store_counts_the_contacts_it_keeps() -> None:
    clock = FakeClock()
    store = MemoryStore(TTL, clock=clock)
    await store.save_many({"acme:c-1": contact(), "acme:c-2": contact()})
    assert len(store) == 2
    clock.now += TTL
    assert len(store) == 0
