"""The frequency policy as data. This first version holds one rule: the unanswered streak."""

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    streak_window: timedelta = Field(default=timedelta(days=30))
    watch_streak: int = Field(default=3, ge=1)
    nuisance_streak: int = Field(default=5, ge=1)
    stalking_streak: int = Field(default=8, ge=1)
    min_gap: timedelta = Field(default=timedelta(days=3))
