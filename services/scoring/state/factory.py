"""`STATE_STORE_URL` picks the backend: `memory://` (one process) or `redis://…` (shared by replicas)."""

from services.scoring.settings import ScoringSettings
from services.scoring.state.memory_store import MemoryStore
from services.scoring.state.metered_store import MeteredStore
from services.scoring.state.redis_store import RedisStore
from services.scoring.state.store import StateStore


def open_store(settings: ScoringSettings) -> StateStore:
    expire_after = settings.state_expire_after_days * 86400
    url = settings.state_store_url
    store: StateStore
    if url.startswith("memory://"):
        store = MemoryStore(expire_after)
    else:
        store = RedisStore(url, expire_after, settings.state_store_timeout_seconds, settings.redis_ssl_cafile)
    return MeteredStore(store)
