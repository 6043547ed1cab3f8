"""A service's store URL picks the keyed store's backend: `memory://` or `redis://` / `rediss://`."""

from pathlib import Path

from services.runtime.keyed_store import KeyedStore
from services.runtime.memory_keyed_store import MemoryKeyedStore
from services.runtime.redis_keyed_store import RedisKeyedStore


def open_keyed_store(
    url: str, name: str, *, timeout_seconds: float, ca_file: Path | None = None, max_values: int | None = None
) -> KeyedStore:
    """`name` says which store it is in readiness messages ("state store"); `timeout_seconds` bounds every Redis
    call, so an absent Redis is reported, not waited for; `max_values` caps each keyspace of the memory backend."""
    if url.startswith("memory://"):
        return MemoryKeyedStore(max_values=max_values)
    if url.startswith(("redis://", "rediss://")):
        return RedisKeyedStore(url, name, timeout_seconds, ca_file)
    scheme = url.split("://", 1)[0] if "://" in url else "no scheme"
    raise ValueError(f"{name}: the URL must start with memory://, redis:// or rediss:// (got {scheme})")
