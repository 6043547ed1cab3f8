"""Erasing a contact from scoring: recorded on `outreach.erasures` first, then forgotten here.

The record goes to Kafka before anything is deleted and the erase is answered only once Kafka has it, so an
erase that was answered reaches every replica and every other service (they read the compacted topic), and one
that failed can simply be retried. Each replica then drops what its store holds (`forget`, also run for every
erasure the feed reads), and the processor refuses the contact's late or replayed events.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime

from schemas import Erasure, contact_key
from services.runtime.erasures import ErasedContacts
from services.scoring.engine.touches import seconds
from services.scoring.state.history import forget_until
from services.scoring.state.store import StateStore

Publish = Callable[[Erasure], Awaitable[None]]
"""Records an erasure on Kafka, returning once acknowledged; raises ErasureNotRecorded otherwise."""


class ErasureNotRecorded(Exception):
    """Kafka did not take the erasure: nothing was erased, and the request may be retried."""


class ContactEraser:
    def __init__(
        self, store: StateStore, erased: ErasedContacts, clock: Callable[[], datetime], publish: Publish | None
    ) -> None:
        """`publish` records the erasure on Kafka and returns once acknowledged; None only in tests of one process."""
        self.store = store
        self.erased = erased
        self.clock = clock
        self.publish = publish

    async def erase(self, tenant: str, contact_id: str) -> bool:
        """False when nothing is kept about the contact here. Raises StoreUnavailable or ErasureNotRecorded
        (then nothing was erased)."""
        key = contact_key(tenant, contact_id)
        if (await self.store.load_many([key]))[key].empty:
            return False
        erasure = Erasure(tenant=tenant, contact_id=contact_id, erased_at=self.clock())
        if self.publish is not None:
            await self.publish(erasure)
        await self.forget(erasure)
        return True

    async def forget(self, erasure: Erasure) -> None:
        """Drop what the store holds about the contact up to the erasure; what came after it stays."""
        self.erased.note(erasure)
        key = erasure.contact_key
        state = (await self.store.load_many([key]))[key]
        if state.empty:
            return
        forget_until(state, seconds(erasure.erased_at))
        if state.empty:
            await self.store.delete(key)
        else:
            await self.store.save_many({key: state})
