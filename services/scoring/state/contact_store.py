"""Contact states in the keyed store: one value per contact, in `codec`'s compact form, and one ranking of the
contacts by when their earliest announced level falls by wall clock (the sweep's work list).

The keys keep the names they had before the keyed-store convention (`rg:contact:<tenant>:<contact_id>`,
`rg:due`): old and new replicas share the state while an upgrade rolls, so a rename would lose it.
A batch is one `Writes`, so on Redis it costs two round trips: one MGET to load and one pipeline to save.
"""

from collections.abc import Mapping, Sequence

from services.runtime.keyed_store import KeyedStore, Writes
from services.runtime.keyspace import Keyspace
from services.scoring.state.codec import encode, restore
from services.scoring.state.history import ContactState

CONTACTS = Keyspace("scoring", "state", established="rg:contact")
DUE = Keyspace("scoring", "due", established="rg:due")
STORE_NAME = "state store"
"""How readiness and 503 answers name this store."""


class ContactStore:
    def __init__(self, keyed: KeyedStore, expire_after: float) -> None:
        """`expire_after`: seconds without a write after which a contact is forgotten."""
        self.keyed = keyed
        self.expire_after = expire_after

    async def load_many(self, contact_keys: Sequence[str]) -> dict[str, ContactState]:
        blobs = await self.keyed.get_many(CONTACTS, contact_keys)
        return {key: restore(blob) for key, blob in zip(contact_keys, blobs, strict=True)}

    async def save_many(self, states: Mapping[str, ContactState]) -> None:
        writes = Writes()
        for key, state in states.items():
            if state.empty:
                writes.delete(CONTACTS, key)
                writes.unrank(DUE, key)
                continue
            writes.put(CONTACTS, key, encode(state), self.expire_after)
            if (due := state.next_due) is None:
                writes.unrank(DUE, key)
            else:
                writes.rank(DUE, key, due)
        await self.keyed.write(writes)

    async def delete(self, contact_key: str) -> bool:
        unrank = Writes()
        unrank.unrank(DUE, contact_key)
        await self.keyed.write(unrank)
        return await self.keyed.delete(CONTACTS, [contact_key]) > 0

    async def due(self, now: int, limit: int) -> list[str]:
        """A contact whose state expired stays listed until the sweep loads it, finds nothing and saves that."""
        return await self.keyed.ranked(DUE, now, limit)

    async def ping(self) -> None:
        await self.keyed.ping()

    async def close(self) -> None:
        await self.keyed.close()
