"""Message contracts: the only definition of every topic's format."""

from schemas.alerts import Alert
from schemas.common import (
    SCHEMA_VERSION,
    AlertLevel,
    Channel,
    Direction,
    Kind,
    Level,
    Outcome,
    Reason,
    Scope,
    Source,
    Tier,
    contact_key,
)
from schemas.erasures import Erasure
from schemas.events import OutreachEvent
from schemas.judgement import Judgement, JudgementByChannel
from schemas.receipts import DeliveryOutcome, NotificationReceipt
from schemas.scores import PairScore

__all__ = [
    "SCHEMA_VERSION",
    "Alert",
    "AlertLevel",
    "Channel",
    "DeliveryOutcome",
    "Direction",
    "Erasure",
    "Judgement",
    "JudgementByChannel",
    "Kind",
    "Level",
    "NotificationReceipt",
    "Outcome",
    "OutreachEvent",
    "PairScore",
    "Reason",
    "Scope",
    "Source",
    "Tier",
    "contact_key",
]
