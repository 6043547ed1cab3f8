"""Remembers which events were already accepted, so a CRM's retry is answered `duplicate`.

Retries arrive for a day or more (HubSpot 24 h, Salesforce 24 h, Standard Webhooks senders ~76 h), so keys are
kept for `DEDUPE_TTL_SECONDS` (96 h by default), in the keyed store at `rg:ingestion:dedupe:<digest>`. Keys are
marked only after Kafka acknowledged the events: a `503` leaves nothing marked, and a crash between publish and
mark costs at most one duplicate downstream, where scoring is idempotent per (tenant, source, event_id) anyway.

A store that does not answer never refuses a webhook (a CRM bans endpoints that fail): `seen` then answers
"nothing seen", `mark` gives up, both log the store's readiness message, and downstream idempotency absorbs the
duplicates that may follow. For the same reason the ingestion's `/readyz` does not depend on this store.
"""

import hashlib
import logging
import time
from collections.abc import Callable, Sequence

from services.runtime.keyed_store import KeyedStore, Writes
from services.runtime.keyspace import Keyspace
from services.runtime.memory_keyed_store import MemoryKeyedStore
from services.runtime.store_unavailable import StoreUnavailable

DEDUPE = Keyspace("ingestion", "dedupe")
STORE_NAME = "dedupe store"
MARK = b"1"

log = logging.getLogger(__name__)


def dedupe_key(source: str, tenant: str, event_id: str) -> str:
    """A fixed-size key; the separator cannot occur in a tenant, so no two triples share a key."""
    return hashlib.blake2b(f"{source}\x1f{tenant}\x1f{event_id}".encode(), digest_size=16).hexdigest()


class DedupeStore:
    def __init__(self, keyed: KeyedStore, ttl_seconds: float) -> None:
        self.keyed = keyed
        self.ttl_seconds = ttl_seconds

    async def seen(self, keys: Sequence[str]) -> set[str]:
        """The keys already marked within the TTL."""
        if not keys:
            return set()
        try:
            marks = await self.keyed.get_many(DEDUPE, keys)
        except StoreUnavailable as exc:
            log.warning("dedupe lookup failed, treating events as new: %s", exc)
            return set()
        return {key for key, mark in zip(keys, marks, strict=True) if mark is not None}

    async def mark(self, keys: Sequence[str]) -> None:
        """Remember the keys for the TTL from their first mark (a second mark does not extend it)."""
        writes = Writes()
        for key in keys:
            writes.put(DEDUPE, key, MARK, self.ttl_seconds, only_if_absent=True)
        try:
            await self.keyed.write(writes)
        except StoreUnavailable as exc:
            log.warning("dedupe mark failed; retries of these events will reach scoring: %s", exc)

    async def ping(self) -> None:
        await self.keyed.ping()

    async def close(self) -> None:
        await self.keyed.close()


class MemoryDedupe(DedupeStore):
    """At most `max_keys` keys in this process: past it the oldest go first, so under a flood the window shrinks
    and memory does not grow."""

    def __init__(self, ttl_seconds: float, max_keys: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.memory = MemoryKeyedStore(clock, max_values=max_keys)
        super().__init__(self.memory, ttl_seconds)

    def __len__(self) -> int:
        return self.memory.count(DEDUPE)
