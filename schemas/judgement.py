"""The judgement of a relationship: what scores, alerts and the scoring service's HTTP answers all say about it.

Declared once, here, so that every topic and every answer names, types and describes it the same way. Each message
inherits it and adds what it is about: the event scored, the alert announced, the touch checked.
"""

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from schemas.common import AlertLevel, Channel, Level, Reason, Tier, UtcDatetime

LevelT = TypeVar("LevelT", Level, AlertLevel)
"""`Level`, except on an alert, which also announces `resolved`."""


class Judgement(BaseModel, Generic[LevelT]):
    """How a relationship stands, why, and when the sender may try again."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    level: LevelT = Field(
        description="ok < watch < nuisance < stalking. On an alert, the level announced (`resolved`: back to ok); "
        "on a check, the level the touch would bring."
    )
    nuisance_score: float = Field(
        description="0-100: each broken rule's severity times its overshoot, less the headroom rapport earns."
    )
    rapport_score: float = Field(
        description="0-100: how much the contact has engaged (replies, answered calls, meetings), decayed with time."
    )
    tier: Tier = Field(description="The rapport tier whose limits apply.")
    reasons: list[Reason] = Field(
        description="The rules behind the level (on a check, those the touch would break), in words for a person. "
        "An alert that announces a fall leads with why it fell: `engaged`, `cool_down_passed` or `consent_given`; "
        "one that announces again, as current, a level first announced as history leads with `continues`."
    )
    next_allowed_at: UtcDatetime | None = Field(
        default=None,
        description="The earliest instant at which one more outbound touch would break no rule: on the channel "
        "checked, elsewhere on the gentlest channel (e-mail by default). Null while the contact has opted out of "
        "it, and on a `resolved` alert.",
    )


class JudgementByChannel(Judgement[LevelT], Generic[LevelT]):
    """A judgement as published on Kafka: with a next welcome instant per channel, so "pause until" is true for
    calls too."""

    next_allowed_by_channel: dict[Channel, UtcDatetime | None] = Field(
        default_factory=dict,
        description="The earliest welcome instant on `email`, `phone_work` and `phone_mobile` each; null for a "
        "channel the contact opted out of; empty on a `resolved` alert.",
    )
