"""Counts and times every state store operation, whichever backend is behind it."""

import time
from collections.abc import Awaitable, Mapping, Sequence
from typing import TypeVar

from services.scoring.metrics import STORE_DURATION, STORE_OPERATIONS
from services.scoring.state.history import ContactState
from services.scoring.state.store import StateStore

Result = TypeVar("Result")


class MeteredStore:
    def __init__(self, store: StateStore) -> None:
        self.store = store

    async def _timed(self, operation: str, call: Awaitable[Result]) -> Result:
        started = time.perf_counter()
        try:
            result = await call
        except Exception:
            STORE_OPERATIONS.labels(operation=operation, outcome="error").inc()
            raise
        finally:
            STORE_DURATION.labels(operation=operation).observe(time.perf_counter() - started)
        STORE_OPERATIONS.labels(operation=operation, outcome="ok").inc()
        return result

    async def load_many(self, contact_keys: Sequence[str]) -> dict[str, ContactState]:
        return await self._timed("load", self.store.load_many(contact_keys))

    async def save_many(self, states: Mapping[str, ContactState]) -> None:
        await self._timed("save", self.store.save_many(states))

    async def delete(self, contact_key: str) -> bool:
        return await self._timed("delete", self.store.delete(contact_key))

    async def due(self, now: int, limit: int) -> list[str]:
        return await self._timed("due", self.store.due(now, limit))

    async def ping(self) -> None:
        await self.store.ping()

    async def close(self) -> None:
        await self.store.close()
