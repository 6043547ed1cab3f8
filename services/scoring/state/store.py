"""The one interface every state store implements: contact states by contact key (`tenant:contact_id`).

A store keeps each state in the compact form of `codec`, forgets a contact after `expire_after` without a write,
and raises `services.runtime.store_unavailable.StoreUnavailable` when it cannot answer, so the caller commits
nothing and retries. `contact_store.ContactStore` is the one implementation, over the keyed store;
`metered_store.MeteredStore` wraps it with metrics.
"""

from collections.abc import Mapping, Sequence
from typing import Protocol

from services.scoring.state.history import ContactState


class StateStore(Protocol):
    async def load_many(self, contact_keys: Sequence[str]) -> dict[str, ContactState]:
        """A state for every key; a key never seen (or expired) gets an empty state."""
        ...

    async def save_many(self, states: Mapping[str, ContactState]) -> None:
        """Write all of them; a state with no pairs left is removed instead."""
        ...

    async def delete(self, contact_key: str) -> bool:
        """Erase everything kept about a contact; False when there was nothing."""
        ...

    async def due(self, now: int, limit: int) -> list[str]:
        """Up to `limit` contact keys whose `next_due` is at or before `now` (the sweep's work list)."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
