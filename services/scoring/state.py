"""What the scorer remembers about one contact, and the one interface every store implements."""

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from schemas import Channel, Direction, Kind, Level, Outcome
from schemas.common import UtcDatetime


class Touch(BaseModel):
    """One event as the rules need it: no tenant, no ids but its own."""

    event_id: str
    occurred_at: UtcDatetime
    channel: Channel
    direction: Direction
    kind: Kind
    outcome: Outcome | None = None
    category: str | None = None


class PairState(BaseModel):
    """One sender's history with the contact, oldest first, and the level last announced."""

    touches: list[Touch] = Field(default_factory=list)
    alerted_level: Level = Level.OK


class ContactState(BaseModel):
    """Everything kept under one contact key: one `PairState` per sender."""

    pairs: dict[str, PairState] = Field(default_factory=dict)
    last_seen_at: datetime | None = None

    def pair(self, sender_id: str) -> PairState:
        return self.pairs.setdefault(sender_id, PairState())


class StoreUnavailable(Exception):
    """The store cannot be reached: the caller must not commit offsets."""


class StateStore(Protocol):
    """Keyed by contact key (`tenant:contact_id`); a missing key is an empty state."""

    async def load(self, contact_key: str) -> ContactState: ...

    async def save(self, contact_key: str, state: ContactState) -> None: ...

    async def delete(self, contact_key: str) -> bool: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
