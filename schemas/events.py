"""`outreach.events`: one touch between a sender and a contact."""

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.common import (
    SCHEMA_VERSION,
    Channel,
    Direction,
    Identifier,
    Kind,
    Outcome,
    Source,
    UtcDatetime,
    consent_problem,
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
    channel: Channel | None = None
    """None only for `opt_out` / `opt_in` covering every channel."""
    direction: Direction
    kind: Kind
    outcome: Outcome | None = None
    category: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _consent_or_touch(self) -> Self:
        problem = consent_problem(self.kind, self.direction, self.channel)
        if problem is not None:
            raise ValueError(problem)
        return self

    @property
    def contact_key(self) -> str:
        return contact_key(self.tenant, self.contact_id)
