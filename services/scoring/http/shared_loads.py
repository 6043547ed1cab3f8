"""Checks that arrive together share one state store read.

With Redis behind it, a read of one contact cost a check about as much CPU as judging it (the client's
connection pool, retries and parser run per command). Requests queue their contact keys; one read at a time
is in flight, and the keys that arrived meanwhile go together in the next, so under load a read serves many
checks while an idle service still reads at once. Every check still reads the store after it arrived, so it
never sees a state older than one it could have read alone.
"""

import asyncio
import copy

from services.scoring.state.history import ContactState
from services.scoring.state.store import StateStore


class SharedLoads:
    def __init__(self, store: StateStore) -> None:
        self.store = store
        self._queued: dict[str, list[asyncio.Future[ContactState]]] = {}
        self._reading: asyncio.Task[None] | None = None

    async def load(self, contact_key: str) -> ContactState:
        """The contact's state as the store holds it now; raises what the store's `load_many` raises."""
        future: asyncio.Future[ContactState] = asyncio.get_running_loop().create_future()
        self._queued.setdefault(contact_key, []).append(future)
        if self._reading is None:
            self._reading = asyncio.create_task(self._read_while_queued())
        return await future

    async def _read_while_queued(self) -> None:
        batch: dict[str, list[asyncio.Future[ContactState]]] = {}
        try:
            while self._queued:
                batch, self._queued = self._queued, {}
                try:
                    states = await self.store.load_many(list(batch))
                except Exception as exc:  # noqa: BLE001 - each waiting check raises it as its own
                    for futures in batch.values():
                        _settle(futures, exc)
                else:
                    for key, futures in batch.items():
                        _settle(futures, states[key])
        finally:
            self._reading = None
            for futures in (*batch.values(), *self._queued.values()):
                _settle(futures, None)
            self._queued = {}


def _settle(futures: list[asyncio.Future[ContactState]], outcome: ContactState | Exception | None) -> None:
    """Each waiter still waiting gets a state of its own (a check may take its state apart as it pleases),
    the store's exception, or, when the read itself was cancelled, a cancellation."""
    for number, future in enumerate(futures):
        if future.done():
            continue
        if outcome is None:
            future.cancel()
        elif isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome if number == 0 else copy.deepcopy(outcome))
