"""`outreach.events`: one touch between a sender and a contact."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.common import (
    SCHEMA_VERSION,
    Channel,
    Direction,
    Identifier,
    Kind,
    Outcome,
    Source,
    UtcDatetime,
    contact_key,
)


class OutreachEvent(BaseModel):
    """A touch as the scorer sees it: pseudonymous ids only, never an address or a number."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: str = Field(min_length=1, max_length=200)
    tenant: Identifier = "default"
    source: Source
    occurred_at: UtcDatetime
    received_at: UtcDatetime
    sender_id: Identifier
    contact_id: Identifier
    contact_timezone: str | None = Field(default=None, max_length=64)
    channel: Channel
    direction: Direction
    kind: Kind
    outcome: Outcome | None = None
    category: str | None = Field(default=None, max_length=64)

    @property
    def contact_key(self) -> str:
        return contact_key(self.tenant, self.contact_id)
