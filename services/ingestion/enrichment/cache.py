"""Look-ups cached per key for a while, and one call in flight per key however many requests want it.

A storm of webhooks about one contact (HubSpot sends every association and property change separately) must
cost the CRM one call, not one per webhook: the CRMs' rate limits are shared with everything else the customer
runs against them. Failures and None (a record the CRM does not know) are not cached, so the next webhook asks again.
"""

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LookupCache(Generic[K, V]):
    def __init__(self, ttl_seconds: float, max_entries: int, clock: Callable[[], float]) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._values: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._in_flight: dict[K, asyncio.Future[V]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value while it is fresh; else the result of the call already in flight; else `load()`.

        The load runs as a task of its own: a request that stops waiting (its time budget spent) neither cancels
        it for the others nor loses its result, which the CRM's retry of the webhook then finds cached.
        """
        cached = self.peek(key)
        if cached is not None:
            return cached
        task = self._in_flight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._load(key, load))
            task.add_done_callback(_retrieve)
            self._in_flight[key] = task
        return await asyncio.shield(task)

    async def _load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        try:
            value = await load()
            self.put(key, value)
            return value
        finally:
            del self._in_flight[key]

    def put(self, key: K, value: V) -> None:
        self._values[key] = (self.clock(), value)
        self._values.move_to_end(key)
        while len(self._values) > self.max_entries:
            self._values.popitem(last=False)

    def peek(self, key: K) -> V | None:
        """The value if cached and fresh, without loading it."""
        cached = self._values.get(key)
        if cached is None or self.clock() - cached[0] >= self.ttl_seconds:
            return None
        return cached[1]


def _retrieve(task: "asyncio.Future[Any]") -> None:
    """A failure nobody waited for any more is still looked at (no 'exception was never retrieved')."""
    if not task.cancelled():
        task.exception()
