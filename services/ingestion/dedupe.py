"""Remembers which events were already accepted, so a CRM's retry is answered `duplicate`.

Retries arrive for a day or more (HubSpot 24 h, Salesforce 24 h, Standard Webhooks senders ~76 h), so keys are
kept for `DEDUPE_TTL_SECONDS` (96 h by default). Keys are marked only after Kafka acknowledged the events: a
`503` leaves nothing marked, and a crash between publish and mark costs at most one duplicate downstream,
where scoring is idempotent per (tenant, source, event_id) anyway.
"""

import hashlib
from collections.abc import Sequence
from typing import Protocol


def dedupe_key(source: str, tenant: str, event_id: str) -> str:
    """A fixed-size key; the separator cannot occur in a tenant, so no two triples share a key."""
    digest = hashlib.blake2b(f"{source}\x1f{tenant}\x1f{event_id}".encode(), digest_size=16).hexdigest()
    return f"rg:ingest:{digest}"


class DedupeStore(Protocol):
    async def seen(self, keys: Sequence[str], now: float) -> set[str]:
        """The keys already marked within the TTL."""
        ...

    async def mark(self, keys: Sequence[str], now: float) -> None: ...

    async def close(self) -> None: ...


class MemoryDedupe:
    """Time buckets of keys, dropped whole once older than the TTL; never more than `max_keys` in total.

    When the cap is reached the oldest keys go first: under a flood the window shrinks, memory does not grow.
    """

    def __init__(self, ttl_seconds: float, max_keys: int, buckets: int = 96) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_keys = max_keys
        self.bucket_seconds = ttl_seconds / buckets
        self._buckets: dict[int, dict[str, None]] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    async def seen(self, keys: Sequence[str], now: float) -> set[str]:
        self._expire(now)
        wanted = set(keys)
        found: set[str] = set()
        for bucket in self._buckets.values():
            found |= bucket.keys() & wanted
        return found

    async def mark(self, keys: Sequence[str], now: float) -> None:
        self._expire(now)
        bucket = self._buckets.setdefault(int(now // self.bucket_seconds), {})
        before = len(bucket)
        bucket.update(dict.fromkeys(keys))
        self._size += len(bucket) - before
        self._evict_over_cap()

    async def close(self) -> None:
        self._buckets.clear()
        self._size = 0

    def _expire(self, now: float) -> None:
        """A bucket goes once its newest possible key is older than the TTL, so every key lives at least that long."""
        oldest_kept = (now - self.ttl_seconds) // self.bucket_seconds
        for number in [number for number in self._buckets if number < oldest_kept]:
            self._size -= len(self._buckets.pop(number))

    def _evict_over_cap(self) -> None:
        for number in sorted(self._buckets):
            if self._size <= self.max_keys:
                return
            bucket = self._buckets[number]
            while bucket and self._size > self.max_keys:
                del bucket[next(iter(bucket))]
                self._size -= 1
            if not bucket:
                del self._buckets[number]
