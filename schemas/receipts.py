"""`outreach.notifications`: what happened to one alert on one delivery channel."""

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.common import SCHEMA_VERSION, UtcDatetime


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"
    SUPPRESSED = "suppressed"
    FAILED = "failed"
    DEAD_LETTERED = "dead_lettered"


class NotificationReceipt(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = SCHEMA_VERSION
    alert_id: str
    channel: str
    outcome: DeliveryOutcome
    attempts: int
    at: UtcDatetime
    error: str | None = None
