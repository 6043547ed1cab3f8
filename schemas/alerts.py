"""`outreach.alerts`: emitted when a relationship's level changes, and when a level first announced as history
turns out to hold now (a renewal)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.common import SCHEMA_VERSION, AlertLevel, Identifier, Level, Scope, UtcDatetime
from schemas.judgement import JudgementByChannel


class AlertSubject(BaseModel):
    """Which alert, about whom, and the level it moves from: first on the wire, before the judgement."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = SCHEMA_VERSION
    alert_id: str
    tenant: Identifier
    contact_id: Identifier
    sender_id: Identifier | None
    scope: Scope
    previous_level: Level = Field(
        description="The level the last alert about this relationship announced (ok before any). Equal to `level` "
        "on a renewal: a level first announced as historical, announced again as current (first reason `continues`)."
    )


class Alert(JudgementByChannel[AlertLevel], AlertSubject):
    """A level change, explained, with the earliest respectful time to try again."""

    event_id: str
    occurred_at: UtcDatetime
    emitted_at: UtcDatetime
    historical: bool = False
    """True when the pressure it reports had already ended by the time its event was received (a backfill, a
    late event): kept for the record, but nobody is paged for it. Also the CloudEvents header `ce_historical`.
    When a later event shows the level holds after all, it is announced again with `historical` false."""
