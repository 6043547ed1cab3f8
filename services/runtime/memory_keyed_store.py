"""The keyed store in this process's memory: the default, and the reference the Redis backend is tested against.

Values are kept in write order, so expiring them only ever looks at the oldest; a read checks each value's own
deadline too, so a keyspace whose values have different lifetimes is still answered right. A deadline is rounded
up to a thousandth of the time to live, so that values written close together share one (deadline, value) entry
when the value is the same object (the dedupe's mark): a value lives its time to live and at most 0.1 % more.
It never becomes unavailable, and it is gone with the process.
"""

import heapq
import math
import time
from collections.abc import Callable, Sequence

from services.runtime.keyed_store import Delete, Put, Rank, Writes
from services.runtime.keyspace import Keyspace

Entries = dict[str, tuple[float, bytes]]
"""key → (deadline on the store's clock, value), oldest write first."""


class MemoryKeyedStore:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_values: int | None = None) -> None:
        """`max_values`: at most this many values per keyspace; past it the oldest writes are forgotten first, so
        under a flood the memory stays bounded and only the window shrinks."""
        self.clock = clock
        self.max_values = max_values
        self._values: dict[Keyspace, Entries] = {}
        self._rankings: dict[Keyspace, dict[str, float]] = {}
        self._last_entry: tuple[float, bytes] = (math.nan, b"")

    def count(self, space: Keyspace) -> int:
        """How many live values the keyspace holds."""
        now = self.clock()
        return sum(1 for deadline, _ in self._live(space, now).values() if deadline > now)

    async def get_many(self, space: Keyspace, keys: Sequence[str]) -> list[bytes | None]:
        now = self.clock()
        entries = self._live(space, now)
        found: list[bytes | None] = []
        for key in keys:
            entry = entries.get(key)
            found.append(entry[1] if entry is not None and entry[0] > now else None)
        return found

    async def write(self, writes: Writes) -> None:
        now = self.clock()
        for change in writes.changes:
            if isinstance(change, Put):
                self._put(change, now)
            elif isinstance(change, Delete):
                self._values.get(change.space, {}).pop(change.key, None)
            elif isinstance(change, Rank):
                self._rankings.setdefault(change.space, {})[change.member] = change.score
            else:
                self._rankings.get(change.space, {}).pop(change.member, None)
        for entries in self._values.values():
            _expire(entries, now)

    async def delete(self, space: Keyspace, keys: Sequence[str]) -> int:
        now = self.clock()
        entries = self._live(space, now)
        removed = [entries.pop(key, None) for key in keys]
        return sum(1 for entry in removed if entry is not None and entry[0] > now)

    async def delete_starting_with(self, space: Keyspace, start: str) -> int:
        now = self.clock()
        entries = self._live(space, now)
        removed = [entries.pop(key) for key in [key for key in entries if key.startswith(start)]]
        return sum(1 for deadline, _ in removed if deadline > now)

    async def ranked(self, space: Keyspace, upto: float, limit: int) -> list[str]:
        ranking = self._rankings.get(space, {})
        due = ((score, member) for member, score in ranking.items() if score <= upto)
        return [member for _, member in heapq.nsmallest(limit, due)]

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def _live(self, space: Keyspace, now: float) -> Entries:
        entries = self._values.setdefault(space, {})
        _expire(entries, now)
        return entries

    def _put(self, change: Put, now: float) -> None:
        entries = self._values.setdefault(change.space, {})
        if change.only_if_absent and (entry := entries.get(change.key)) is not None and entry[0] > now:
            return
        entries.pop(change.key, None)
        entries[change.key] = self._entry(now, change)
        while self.max_values is not None and len(entries) > self.max_values:
            del entries[next(iter(entries))]

    def _entry(self, now: float, change: Put) -> tuple[float, bytes]:
        step = change.ttl_seconds / 1000
        deadline = math.ceil((now + change.ttl_seconds) / step) * step if step > 0 else now
        last = self._last_entry
        if last[0] == deadline:
            deadline = last[0]
            if last[1] is change.value:
                return last
        self._last_entry = (deadline, change.value)
        return self._last_entry


def _expire(entries: Entries, now: float) -> None:
    while entries:
        oldest = next(iter(entries))
        if entries[oldest][0] > now:
            return
        del entries[oldest]
