"""In-process state store: the default, and the reference for every other backend.

States are kept encoded (about 14 bytes a touch), ordered by last write, so expiring the inactive ones only
ever looks at the oldest entries.
"""

import time
from collections.abc import Callable, Mapping, Sequence

from services.scoring.state.codec import encode, restore
from services.scoring.state.history import ContactState


class MemoryStore:
    def __init__(self, expire_after: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.expire_after = expire_after
        self.clock = clock
        self._entries: dict[str, tuple[float, bytes]] = {}
        self._due: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def load_many(self, contact_keys: Sequence[str]) -> dict[str, ContactState]:
        self._expire()
        return {key: restore(entry[1] if (entry := self._entries.get(key)) else None) for key in contact_keys}

    async def save_many(self, states: Mapping[str, ContactState]) -> None:
        deadline = self.clock() + self.expire_after
        for key, state in states.items():
            self._entries.pop(key, None)
            self._due.pop(key, None)
            if not state.empty:
                self._entries[key] = (deadline, encode(state))
                if (due := state.next_due) is not None:
                    self._due[key] = due
        self._expire()

    async def due(self, now: int, limit: int) -> list[str]:
        self._expire()
        return [key for key, due in sorted(self._due.items(), key=lambda item: item[1]) if due <= now][:limit]

    async def delete(self, contact_key: str) -> bool:
        self._due.pop(contact_key, None)
        return self._entries.pop(contact_key, None) is not None

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def _expire(self) -> None:
        now = self.clock()
        while self._entries:
            oldest = next(iter(self._entries))
            if self._entries[oldest][0] > now:
                return
            del self._entries[oldest]
            self._due.pop(oldest, None)
