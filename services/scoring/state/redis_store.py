"""The contact store in Redis (`STATE_STORE_URL=redis://…`), as the benches and tests open it directly."""

from pathlib import Path

from services.runtime.redis_keyed_store import RedisKeyedStore
from services.scoring.state.contact_store import STORE_NAME, ContactStore


class RedisStore(ContactStore):
    def __init__(
        self, url: str, expire_after: float, timeout_seconds: float = 2.0, ca_file: Path | None = None
    ) -> None:
        self.redis = RedisKeyedStore(url, STORE_NAME, timeout_seconds, ca_file)
        self.client = self.redis.client
        """The Redis client itself, for benches and tests that look at the server."""
        super().__init__(self.redis, expire_after)
