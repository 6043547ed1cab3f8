"""Checks that arrive together share one store read, and none sees a state older than it could have read alone."""

import asyncio
from collections.abc import Sequence

import pytest

from services.runtime.store_unavailable import StoreUnavailable
from services.scoring.http.shared_loads import SharedLoads
from services.scoring.state.history import ContactState
from services.scoring.state.memory_store import MemoryStore
from tests.unit.scoring.builders import DAY, emails, state_of


class CountingStore(MemoryStore):
    """Counts reads; while `gate` is clear, a read waits for it before answering what the store held when it
    was asked (a slow round trip)."""

    def __init__(self) -> None:
        super().__init__(expire_after=10**9)
        self.reads: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.down = False

    async def load_many(self, contact_keys: Sequence[str]) -> dict[str, ContactState]:
        self.reads.append(list(contact_keys))
        states = await super().load_many(contact_keys)
        await self.gate.wait()
        if self.down:
            raise StoreUnavailable("state store", "Redis at 127.0.0.1:6379 (ConnectionError)")
        return states


async def settled() -> None:
    """Lets every task that can run, run (a few turns of the loop)."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_checks_arriving_together_share_one_read_and_each_gets_its_own_state() -> None:
    async def run() -> None:
        store = CountingStore()
        await store.save_many({"acme:c-1": state_of(emails(3, DAY)), "acme:c-2": state_of(emails(1, DAY))})
        loads = SharedLoads(store)
        keys = ["acme:c-1", "acme:c-2", "acme:c-1", "acme:c-3"] * 4
        states = await asyncio.gather(*(loads.load(key) for key in keys))
        assert len(store.reads) == 1
        assert sorted(store.reads[0]) == ["acme:c-1", "acme:c-2", "acme:c-3"]
        assert [len(state.pairs["rep-1"].touches) if state.pairs else 0 for state in states[:4]] == [3, 1, 3, 0]
        assert states[0] is not states[2], "two checks of one contact must not share a mutable state"

    asyncio.run(run())


def test_a_check_arriving_during_a_read_waits_for_a_read_of_its_own() -> None:
    async def run() -> None:
        store = CountingStore()
        await store.save_many({"acme:c-1": state_of(emails(1, DAY))})
        loads = SharedLoads(store)
        store.gate.clear()
        early = asyncio.create_task(loads.load("acme:c-1"))
        await settled()
        assert store.reads == [["acme:c-1"]]
        await store.save_many({"acme:c-1": state_of(emails(2, DAY))})
        late = asyncio.create_task(loads.load("acme:c-1"))
        await settled()
        store.gate.set()
        assert len((await early).pairs["rep-1"].touches) == 1
        assert len((await late).pairs["rep-1"].touches) == 2, "written before it arrived: it must see it"
        assert store.reads == [["acme:c-1"], ["acme:c-1"]]

    asyncio.run(run())


def test_an_unreachable_store_fails_every_waiting_check_and_the_next_read_tries_again() -> None:
    async def run() -> None:
        store = CountingStore()
        loads = SharedLoads(store)
        store.down = True
        outcomes = await asyncio.gather(*(loads.load(f"acme:c-{n}") for n in range(3)), return_exceptions=True)
        assert all(isinstance(outcome, StoreUnavailable) for outcome in outcomes)
        store.down = False
        assert (await loads.load("acme:c-1")).empty

    asyncio.run(run())


def test_a_check_that_gives_up_does_not_disturb_the_others() -> None:
    async def run() -> None:
        store = CountingStore()
        await store.save_many({"acme:c-1": state_of(emails(1, DAY))})
        loads = SharedLoads(store)
        store.gate.clear()
        impatient = asyncio.create_task(loads.load("acme:c-1"))
        patient = asyncio.create_task(loads.load("acme:c-1"))
        await settled()
        impatient.cancel()
        store.gate.set()
        with pytest.raises(asyncio.CancelledError):
            await impatient
        assert len((await patient).pairs["rep-1"].touches) == 1

    asyncio.run(run())
