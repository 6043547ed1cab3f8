"""Erasing a contact from scoring: recorded on `outreach.erasures` first, then forgotten here.

The record goes to Kafka before anything is deleted and the erase is answered only once Kafka has it, so an
erase that was answered reaches every replica and every other service (they read the compacted topic), and one
that failed can simply be retried. Each replica then drops what its store holds (`forget`, also run for every
erasure the feed reads), and the processor refuses the contact's late or replayed events.

With the memory store each replica holds only the contacts of the partitions it scores. A replica asked to erase
a contact it does not score cannot tell whether anything is kept about it: unless it knows the contact erased
already, it records the erasure anyway (`RECORDED`), and the replica that scores the contact drops it when it
reads the record, as does any replica that takes the partition over later.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum

from schemas import Erasure, contact_key
from services.runtime.erasures import ErasedContacts
from services.scoring.engine.touches import seconds
from services.scoring.state.history import forget_until
from services.scoring.state.store import StateStore

Publish = Callable[[Erasure], Awaitable[None]]
"""Records an erasure on Kafka, returning once acknowledged; raises ErasureNotRecorded otherwise."""


class ErasureNotRecorded(Exception):
    """Kafka did not take the erasure: nothing was erased, and the request may be retried."""


class Erased(StrEnum):
    """What an erase request came to."""

    ERASED = "erased"
    """Something was kept here: it is gone, and the erasure is recorded for every other replica and service."""
    RECORDED = "recorded"
    """Another replica scores the contact (memory store): the erasure is recorded, and that replica drops it."""
    UNKNOWN = "unknown"
    """Nothing is kept about the contact, or it was erased already, as far as this replica can know."""


class ContactEraser:
    def __init__(
        self,
        store: StateStore,
        erased: ErasedContacts,
        clock: Callable[[], datetime],
        publish: Publish | None,
        scores_here: Callable[[str], bool] | None = None,
    ) -> None:
        """`publish` records the erasure on Kafka and returns once acknowledged; None only in tests of one process.
        `scores_here(contact_key)` says whether this replica's store holds the contact's state (a memory store
        holds only its own partitions' contacts); None when the store holds every contact (Redis, one process)."""
        self.store = store
        self.erased = erased
        self.clock = clock
        self.publish = publish
        self.scores_here = scores_here

    async def erase(self, tenant: str, contact_id: str) -> Erased:
        """Raises StoreUnavailable or ErasureNotRecorded (then nothing was erased)."""
        key = contact_key(tenant, contact_id)
        outcome = Erased.ERASED
        if (await self.store.load_many([key]))[key].empty:
            if self.scores_here is None or self.scores_here(key) or self.erased.erased_at(key) is not None:
                return Erased.UNKNOWN
            outcome = Erased.RECORDED
        erasure = Erasure(tenant=tenant, contact_id=contact_id, erased_at=self.clock())
        if self.publish is not None:
            await self.publish(erasure)
        await self.forget(erasure)
        return outcome

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
