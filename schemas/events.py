"""`outreach.events`: one touch between a sender and a contact."""

from datetime import timedelta
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
    known_timezone,
)

SECONDS_EPOCH = 1_577_836_800
"""2020-01-01T00:00:00Z: the scorer keeps instants as signed 32-bit seconds from it (its state codec)."""
EARLIEST = SECONDS_EPOCH - 2**31 + 1
LATEST = SECONDS_EPOCH + 2**31 - 1
FUTURE_TOLERANCE = timedelta(days=1)
"""How far past its arrival an event may say it happened (clocks drift; a touch is not scheduled ahead)."""


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


def event_problem(event: OutreachEvent) -> tuple[str, str] | None:
    """Why the scorer cannot take an event that is otherwise valid, as (reason, `field: problem`), or None.

    Ingestion rejects such an item of the generic webhook with the problem, so the integrator hears of it; the
    scorer dead-letters one that arrives all the same (from a CRM adapter, or another producer)."""
    if event.contact_timezone is not None:
        try:
            known_timezone(event.contact_timezone)
        except ValueError as exc:
            return "unknown_timezone", f"contact_timezone: {exc}"
    at = int(event.occurred_at.timestamp())
    if not EARLIEST <= at <= LATEST:
        return "occurred_at_out_of_range", "occurred_at: outside the years 1952-2088"
    if event.occurred_at > event.received_at + FUTURE_TOLERANCE:
        return "occurred_in_future", "occurred_at: more than a day after the event was received"
    return None
