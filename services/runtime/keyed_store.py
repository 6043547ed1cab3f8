"""The keyed-store capability every service's state is kept in: bytes by key, each with its time to live, and
rankings (members ordered by a score), in keyspaces that follow `keyspace.Keyspace`.

Two backends, chosen by URL (`keyed_store_factory.open_keyed_store`): `memory://` (one process) and
`redis://` / `rediss://` (shared by replicas, outlives them). Every operation either answers or raises
`StoreUnavailable`; domain code sees only this interface, never Redis.
"""

from collections.abc import Sequence
from typing import NamedTuple, Protocol

from services.runtime.keyspace import Keyspace


class Put(NamedTuple):
    space: Keyspace
    key: str
    value: bytes
    ttl_seconds: float
    only_if_absent: bool


class Delete(NamedTuple):
    space: Keyspace
    key: str


class Rank(NamedTuple):
    space: Keyspace
    member: str
    score: float


class Unrank(NamedTuple):
    space: Keyspace
    member: str


Change = Put | Delete | Rank | Unrank


class Writes:
    """Changes sent together (one round trip to Redis) and applied in the order they were added."""

    __slots__ = ("changes",)

    def __init__(self) -> None:
        self.changes: list[Change] = []

    def __len__(self) -> int:
        return len(self.changes)

    def put(self, space: Keyspace, key: str, value: bytes, ttl_seconds: float, *, only_if_absent: bool = False) -> None:
        """Keep `value` for `ttl_seconds` from now; `only_if_absent` leaves a live value (and its expiry) alone."""
        self.changes.append(Put(space, key, value, ttl_seconds, only_if_absent))

    def delete(self, space: Keyspace, key: str) -> None:
        self.changes.append(Delete(space, key))

    def rank(self, space: Keyspace, member: str, score: float) -> None:
        """Add `member` to the ranking, or move it to `score`. Rankings do not expire."""
        self.changes.append(Rank(space, member, score))

    def unrank(self, space: Keyspace, member: str) -> None:
        self.changes.append(Unrank(space, member))


class KeyedStore(Protocol):
    async def get_many(self, space: Keyspace, keys: Sequence[str]) -> list[bytes | None]:
        """The live value of each key, in order; None for a key never written, deleted or expired."""
        ...

    async def write(self, writes: Writes) -> None:
        """Apply every change, in one round trip."""
        ...

    async def delete(self, space: Keyspace, keys: Sequence[str]) -> int:
        """Remove the keys' values; how many of them were there."""
        ...

    async def delete_starting_with(self, space: Keyspace, start: str) -> int:
        """Remove every value whose key starts with `start` (everything about one contact); how many there were."""
        ...

    async def ranked(self, space: Keyspace, upto: float, limit: int) -> list[str]:
        """Up to `limit` members scored at or below `upto`, lowest score first (ties by member)."""
        ...

    async def ping(self) -> None:
        """Return when the store answers; raise `StoreUnavailable` (with the readiness message) when not."""
        ...

    async def close(self) -> None: ...
