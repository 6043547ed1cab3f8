"""The dedupe store in Redis, shared by every ingestion replica: `SET key 1 NX EX ttl`.

Redis trouble never refuses a webhook (a CRM bans endpoints that fail): `seen` then answers "nothing seen" and
`mark` gives up, and downstream idempotency absorbs the duplicates that may follow.
"""

import logging
from collections.abc import Sequence
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.runtime.redis_connection import connect_redis

log = logging.getLogger(__name__)


class RedisDedupe:
    def __init__(self, url: str, ttl_seconds: int, timeout_seconds: float = 1.0, ca_file: Path | None = None) -> None:
        self.client: Redis = connect_redis(url, timeout_seconds, ca_file)
        self.ttl_seconds = ttl_seconds

    async def seen(self, keys: Sequence[str], now: float) -> set[str]:
        del now  # Redis expires keys itself
        if not keys:
            return set()
        try:
            values = await self.client.mget(list(keys))
        except (RedisError, OSError) as exc:
            log.warning("dedupe lookup failed, treating events as new: %s", type(exc).__name__)
            return set()
        return {key for key, value in zip(keys, values, strict=True) if value is not None}

    async def mark(self, keys: Sequence[str], now: float) -> None:
        del now
        if not keys:
            return
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.set(key, b"1", nx=True, ex=self.ttl_seconds)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("dedupe mark failed; retries of these events will reach scoring: %s", type(exc).__name__)

    async def close(self) -> None:
        await self.client.aclose()
