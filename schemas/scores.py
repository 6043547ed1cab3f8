"""`outreach.scores`: the judgement of one relationship after one event."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.common import SCHEMA_VERSION, Channel, Identifier, Level, Reason, Tier, UtcDatetime


class PairScore(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = SCHEMA_VERSION
    tenant: Identifier
    sender_id: Identifier
    contact_id: Identifier
    event_id: str
    occurred_at: UtcDatetime
    level: Level
    nuisance_score: float
    rapport_score: float
    tier: Tier
    reasons: list[Reason]
    next_allowed_at: UtcDatetime | None = None
    """The gentlest channel's instant (e-mail by default)."""
    next_allowed_by_channel: dict[Channel, UtcDatetime | None] = Field(default_factory=dict)
    """The earliest welcome instant per channel (email, phone_work, phone_mobile); null while opted out."""
