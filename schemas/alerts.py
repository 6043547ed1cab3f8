"""`outreach.alerts`: emitted only when a relationship's level changes."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.common import (
    SCHEMA_VERSION,
    AlertLevel,
    Channel,
    Identifier,
    Level,
    Reason,
    Scope,
    Tier,
    UtcDatetime,
)


class Alert(BaseModel):
    """A level change, explained, with the earliest respectful time to try again."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = SCHEMA_VERSION
    alert_id: str
    tenant: Identifier
    contact_id: Identifier
    sender_id: Identifier | None
    scope: Scope
    level: AlertLevel
    previous_level: Level
    nuisance_score: float
    rapport_score: float
    tier: Tier
    reasons: list[Reason]
    next_allowed_at: UtcDatetime | None = None
    """The gentlest channel's instant (e-mail by default)."""
    next_allowed_by_channel: dict[Channel, UtcDatetime | None] = Field(default_factory=dict)
    """The earliest welcome instant per channel (email, phone_work, phone_mobile); empty on `resolved`."""
    event_id: str
    occurred_at: UtcDatetime
    emitted_at: UtcDatetime
    historical: bool = False
    """True when the pressure it reports had already ended, by wall clock, when it was scored (a backfill, a
    late event): kept for the record, but nobody is paged for it. Also the CloudEvents header `ce_historical`."""
