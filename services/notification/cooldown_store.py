"""Where the cool-down remembers what was told: one JSON value per relationship in the keyed store, kept for
`NOTIFY_COOLDOWN_RETENTION_DAYS` after its last change, at `rg:notification:cooldown:<pair key>`.

`NOTIFY_COOLDOWN_STORE_URL=memory://` lives and dies with the process: after a restart every relationship starts
afresh, so the next alert about a pair is delivered even inside its window, and a `resolved` for a problem told
before the restart is held back (nobody on record was told). `redis://` keeps the history across restarts and
replicas. Every alert about one contact comes from one Kafka partition and so from one consumer at a time, which
is why a plain read and write are enough. A store that does not answer raises `StoreUnavailable`: the alert is
retried later rather than delivered without its history.
"""

import time
from collections.abc import Callable
from datetime import timedelta

from pydantic import ValidationError

from services.notification.cooldown import PairNotices
from services.runtime.keyed_store import KeyedStore, Writes
from services.runtime.keyspace import Keyspace
from services.runtime.memory_keyed_store import MemoryKeyedStore

COOLDOWNS = Keyspace("notification", "cooldown")
STORE_NAME = "cool-down store"
"""How readiness names this store."""


class CooldownStore:
    def __init__(self, keyed: KeyedStore, retention: timedelta) -> None:
        self.keyed = keyed
        self.retention = retention

    async def load(self, key: str) -> PairNotices | None:
        (raw,) = await self.keyed.get_many(COOLDOWNS, [key])
        if raw is None:
            return None
        try:
            return PairNotices.model_validate_json(raw)
        except ValidationError:
            return None

    async def save(self, key: str, notices: PairNotices) -> None:
        writes = Writes()
        writes.put(COOLDOWNS, key, notices.model_dump_json().encode(), self.retention.total_seconds())
        await self.keyed.write(writes)

    async def forget_contact(self, contact_key: str) -> None:
        """Drop every entry about the contact (an erasure): its pairs' and its team's."""
        await self.keyed.delete_starting_with(COOLDOWNS, contact_key + ":")

    async def ping(self) -> None:
        await self.keyed.ping()

    async def close(self) -> None:
        await self.keyed.close()


class MemoryCooldownStore(CooldownStore):
    """The cool-down in this process's memory, as the log-only notifier and the tests use it."""

    def __init__(self, retention: timedelta, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(MemoryKeyedStore(clock), retention)
