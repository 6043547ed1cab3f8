"""The contact store in this process's memory (`STATE_STORE_URL=memory://`), as the tests and the backtest use it."""

import time
from collections.abc import Callable

from services.runtime.memory_keyed_store import MemoryKeyedStore
from services.scoring.state.contact_store import CONTACTS, ContactStore


class MemoryStore(ContactStore):
    def __init__(self, expire_after: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.memory = MemoryKeyedStore(clock)
        super().__init__(self.memory, expire_after)

    def __len__(self) -> int:
        """How many contacts are kept."""
        return self.memory.count(CONTACTS)
