"""Redis state store: shared by scoring replicas, one key per contact, expired by Redis after inactivity.

A batch costs two round trips, one MGET to load and one pipelined write; every Redis failure becomes
`StoreUnavailable` so that the stream commits nothing and retries.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import cast

import redis.asyncio as redis
from redis.exceptions import RedisError

from services.runtime.redis_connection import connect_redis
from services.scoring.state.codec import encode, restore
from services.scoring.state.history import ContactState
from services.scoring.state.store import StoreUnavailable

KEY_PREFIX = "rg:contact:"


class RedisStore:
    def __init__(
        self, url: str, expire_after: float, timeout_seconds: float = 2.0, ca_file: Path | None = None
    ) -> None:
        self.expire_after = max(1, round(expire_after))
        self.client: redis.Redis = connect_redis(url, timeout_seconds, ca_file)

    @staticmethod
    def key(contact_key: str) -> str:
        return KEY_PREFIX + contact_key

    async def load_many(self, contact_keys: Sequence[str]) -> dict[str, ContactState]:
        try:
            blobs = await self.client.mget([self.key(key) for key in contact_keys])
        except RedisError as exc:
            raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc
        return {key: restore(cast(bytes | None, blob)) for key, blob in zip(contact_keys, blobs, strict=True)}

    async def save_many(self, states: Mapping[str, ContactState]) -> None:
        pipeline = self.client.pipeline(transaction=False)
        for key, state in states.items():
            if state.pairs:
                pipeline.set(self.key(key), encode(state), ex=self.expire_after)
            else:
                pipeline.delete(self.key(key))
        try:
            await pipeline.execute()
        except RedisError as exc:
            raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc

    async def delete(self, contact_key: str) -> bool:
        try:
            return bool(await self.client.delete(self.key(contact_key)))
        except RedisError as exc:
            raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc

    async def ping(self) -> None:
        try:
            await self.client.ping()
        except RedisError as exc:
            raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc

    async def close(self) -> None:
        await self.client.aclose()
