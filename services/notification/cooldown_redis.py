"""The cool-down history in Redis: survives restarts and is shared by notification replicas.

One JSON value per relationship, expiring after the retention. Every alert about one contact comes from one
Kafka partition and so from one consumer at a time, which is why a plain GET and SET are enough.
"""

from datetime import datetime, timedelta
from pathlib import Path

from pydantic import ValidationError
from redis.exceptions import RedisError

from services.notification.cooldown import PairNotices
from services.notification.cooldown_store import CooldownStoreUnavailable
from services.runtime.redis_connection import connect_redis

KEY_PREFIX = "rapport-guard:notification:cooldown:"


class RedisCooldownStore:
    def __init__(self, url: str, retention: timedelta, ca_file: Path | None = None) -> None:
        self.redis = connect_redis(url, 5, ca_file)
        self.retention = retention

    async def load(self, key: str) -> PairNotices | None:
        try:
            raw = await self.redis.get(KEY_PREFIX + key)
        except RedisError as exc:
            raise CooldownStoreUnavailable(type(exc).__name__) from exc
        if raw is None:
            return None
        try:
            return PairNotices.model_validate_json(raw)
        except ValidationError:
            return None

    async def save(self, key: str, notices: PairNotices, now: datetime) -> None:
        try:
            await self.redis.set(KEY_PREFIX + key, notices.model_dump_json(), ex=self.retention)
        except RedisError as exc:
            raise CooldownStoreUnavailable(type(exc).__name__) from exc

    async def problem(self) -> str | None:
        try:
            await self.redis.ping()
        except RedisError as exc:
            return f"cool-down store unavailable: {type(exc).__name__}"
        return None

    async def close(self) -> None:
        await self.redis.aclose()
