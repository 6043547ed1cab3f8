"""The store test case on the in-process store, with a fake clock."""

import pytest

from services.scoring.state.memory_store import MemoryStore
from services.scoring.state.store import StateStore
from tests.unit.scoring.store_case import EXPIRE_AFTER, StoreCase


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestMemoryStore(StoreCase):
    @pytest.fixture
    async def store(self) -> StateStore:
        self.clock = FakeClock()
        return MemoryStore(EXPIRE_AFTER, clock=self.clock)

    async def let_time_pass(self, store: StateStore, seconds: float) -> None:
        self.clock.now += seconds

    async def write_raw(self, store: StateStore, contact_key: str, blob: bytes) -> None:
        assert isinstance(store, MemoryStore)
        store._entries[contact_key] = (self.clock.now + EXPIRE_AFTER, blob)
