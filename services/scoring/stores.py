"""`STATE_STORE_URL` picks the backend: `memory://` (one process) or `redis://…` (shared by replicas)."""

from services.scoring.settings import ScoringSettings
from services.scoring.state import StateStore
from services.scoring.store_memory import MemoryStore
from services.scoring.store_metered import MeteredStore
from services.scoring.store_redis import RedisStore


def open_store(settings: ScoringSettings) -> StateStore:
    expire_after = settings.state_expire_after_days * 86400
    url = settings.state_store_url
    store: StateStore
    if url.startswith("memory://"):
        store = MemoryStore(expire_after)
    else:
        store = RedisStore(url, expire_after, settings.state_store_timeout_seconds)
    return MeteredStore(store)
