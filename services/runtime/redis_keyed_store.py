"""The keyed store in Redis: shared by a service's replicas and outliving them.

Values are plain strings with an expiry (`SET … PX`), rankings are sorted sets; a `Writes` is one pipeline,
so a batch costs one round trip. A ranking's changes go as one `ZADD` and one `ZREM` (each member's last change):
the same end state as one command each, at half the commands for scoring's batches (a command costs redis-py
~10-20 µs to queue, pack and read back). Every Redis failure becomes `StoreUnavailable`, naming the server but never
the URL (it may hold a password).
"""

import re
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from redis.exceptions import RedisError

from services.runtime.keyed_store import Delete, Put, Rank, Writes
from services.runtime.keyspace import Keyspace
from services.runtime.redis_connection import connect_redis, redis_address
from services.runtime.store_unavailable import StoreUnavailable

_GLOB = re.compile(r"([*?\[\]\\])")
SCAN_COUNT = 500


class RedisKeyedStore:
    def __init__(self, url: str, name: str, timeout_seconds: float, ca_file: Path | None = None) -> None:
        self.name = name
        self.address = redis_address(url)
        self.client = connect_redis(url, timeout_seconds, ca_file)

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        return StoreUnavailable(self.name, f"{self.address} ({type(exc).__name__})")

    async def get_many(self, space: Keyspace, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        prefix = space.prefix
        try:
            return cast(list[bytes | None], await self.client.mget([prefix + key for key in keys]))
        except (RedisError, OSError) as exc:
            raise self._unavailable(exc) from exc

    async def write(self, writes: Writes) -> None:
        if not writes:
            return
        try:
            async with self.client.pipeline(transaction=False) as pipeline:
                rankings: dict[str, dict[str, float | None]] = {}
                for change in writes.changes:
                    if isinstance(change, Put):
                        milliseconds = max(1, round(change.ttl_seconds * 1000))
                        value_key = change.space.prefix + change.key
                        pipeline.set(value_key, change.value, px=milliseconds, nx=change.only_if_absent)
                    elif isinstance(change, Delete):
                        pipeline.delete(change.space.prefix + change.key)
                    elif isinstance(change, Rank):
                        rankings.setdefault(change.space.name, {})[change.member] = change.score
                    else:
                        rankings.setdefault(change.space.name, {})[change.member] = None
                for name, members in rankings.items():
                    if ranked := {member: score for member, score in members.items() if score is not None}:
                        pipeline.zadd(name, ranked)
                    if unranked := [member for member, score in members.items() if score is None]:
                        pipeline.zrem(name, *unranked)
                await pipeline.execute()
        except (RedisError, OSError) as exc:
            raise self._unavailable(exc) from exc

    async def delete(self, space: Keyspace, keys: Sequence[str]) -> int:
        if not keys:
            return 0
        try:
            return int(await self.client.delete(*[space.prefix + key for key in keys]))
        except (RedisError, OSError) as exc:
            raise self._unavailable(exc) from exc

    async def delete_starting_with(self, space: Keyspace, start: str) -> int:
        pattern = _GLOB.sub(r"\\\1", space.prefix + start) + "*"
        try:
            found = [key async for key in self.client.scan_iter(match=pattern, count=SCAN_COUNT)]
            return int(await self.client.delete(*found)) if found else 0
        except (RedisError, OSError) as exc:
            raise self._unavailable(exc) from exc

    async def ranked(self, space: Keyspace, upto: float, limit: int) -> list[str]:
        try:
            members = await self.client.zrangebyscore(space.name, "-inf", upto, start=0, num=limit)
        except (RedisError, OSError) as exc:
            raise self._unavailable(exc) from exc
        return [member.decode() if isinstance(member, bytes) else str(member) for member in members]

    async def ping(self) -> None:
        try:
            await self.client.ping()
        except (RedisError, OSError) as exc:
            raise self._unavailable(exc) from exc

    async def close(self) -> None:
        await self.client.aclose()
