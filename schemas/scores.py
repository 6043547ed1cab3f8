"""`outreach.scores`: the judgement of one relationship after one event."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.common import SCHEMA_VERSION, Identifier, Level, UtcDatetime
from schemas.judgement import JudgementByChannel


class ScoredEvent(BaseModel):
    """Whose relationship, after which event: first on the wire, before the judgement."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = SCHEMA_VERSION
    tenant: Identifier
    sender_id: Identifier
    contact_id: Identifier
    event_id: str
    occurred_at: UtcDatetime


class PairScore(JudgementByChannel[Level], ScoredEvent):
    """The pair's judgement as of the event's own time (a late event is scored where it belongs)."""
