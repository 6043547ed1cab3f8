"""`STATE_STORE_URL` picks the keyed store behind the contact states: `memory://` (one process) or `redis://…`
(shared by replicas); every operation is metered, whichever it is."""

from services.runtime.keyed_store_factory import open_keyed_store
from services.scoring.settings import ScoringSettings
from services.scoring.state.contact_store import STORE_NAME, ContactStore
from services.scoring.state.metered_store import MeteredStore
from services.scoring.state.store import StateStore


def open_store(settings: ScoringSettings) -> StateStore:
    keyed = open_keyed_store(
        settings.state_store_url,
        STORE_NAME,
        timeout_seconds=settings.state_store_timeout_seconds,
        ca_file=settings.redis_ssl_cafile,
    )
    return MeteredStore(ContactStore(keyed, settings.state_expire_after_days * 86400))
