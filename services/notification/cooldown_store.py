"""Where the cool-down remembers what was told: the interface, and the in-memory store.

The memory store lives and dies with the process: after a restart every relationship starts afresh, so the
next alert about a pair is delivered even inside its window, and a `resolved` for a problem told before the
restart is held back (nobody on record was told). `redis://` keeps the history across restarts and replicas.
"""

from datetime import datetime, timedelta
from typing import Protocol

from services.notification.cooldown import PairNotices


class CooldownStoreUnavailable(Exception):
    """The store cannot answer; the alert is retried later rather than delivered without its history."""


class CooldownStore(Protocol):
    async def load(self, key: str) -> PairNotices | None: ...

    async def save(self, key: str, notices: PairNotices, now: datetime) -> None: ...

    async def forget_contact(self, contact_key: str) -> None:
        """Drop every entry about the contact (an erasure): its pairs' and its team's."""
        ...

    async def problem(self) -> str | None:
        """None when the store answers, else why not (for `/readyz`)."""
        ...

    async def close(self) -> None: ...


class MemoryCooldownStore:
    """A dict with a retention; entries past it are dropped as new ones are saved."""

    def __init__(self, retention: timedelta) -> None:
        self.retention = retention
        self._entries: dict[str, tuple[PairNotices, datetime]] = {}
        self._saves = 0

    async def load(self, key: str) -> PairNotices | None:
        entry = self._entries.get(key)
        return entry[0] if entry is not None else None

    async def save(self, key: str, notices: PairNotices, now: datetime) -> None:
        self._entries[key] = (notices, now + self.retention)
        self._saves += 1
        if self._saves % 1000 == 0:
            self._entries = {k: v for k, v in self._entries.items() if v[1] > now}

    async def forget_contact(self, contact_key: str) -> None:
        self._entries = {key: entry for key, entry in self._entries.items() if not key.startswith(contact_key + ":")}

    async def problem(self) -> str | None:
        return None

    async def close(self) -> None:
        self._entries.clear()
