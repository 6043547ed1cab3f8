"""Notification settings: where routing lives, how long the cool-down lasts, how hard delivery tries."""

from pathlib import Path
from typing import Self

from pydantic import Field, model_validator

from services.runtime.settings import ServiceSettings

KAFKA_DEFAULT_POLL_INTERVAL_MS = 300_000
POLL_INTERVAL_MARGIN_SECONDS = 60
"""Headroom between the worst-case delivery of one alert and Kafka's max.poll.interval."""


class NotificationSettings(ServiceSettings):
    notify_port: int = Field(default=8082, ge=1, le=65535)
    notify_host: str = "127.0.0.1"
    notification_group_id: str = "rapport-guard-notification"
    notify_routing_file: Path | None = Field(
        default=None, description="Routing YAML (channels, per-level and per-tenant routes); unset = log only."
    )
    notify_cooldown_hours: float = Field(
        default=24.0, ge=0, description="Per-pair quiet period after a message; 0 turns the cool-down off."
    )
    notify_cooldown_store_url: str = Field(default="memory://", pattern=r"^(memory://|rediss?://)")
    notify_cooldown_retention_days: float = Field(
        default=30.0, gt=0, description="How long a pair's notice history is kept (so a late 'resolved' finds it)."
    )
    notify_max_attempts: int = Field(default=5, ge=1, le=20)
    notify_backoff_initial_seconds: float = Field(default=1.0, gt=0)
    notify_backoff_max_seconds: float = Field(default=30.0, gt=0)
    notify_attempt_timeout_seconds: float = Field(default=10.0, gt=0)
    notify_kafka_retry_seconds: float = Field(
        default=1.0, gt=0, description="Pause before an alert is retried when Kafka refused a receipt."
    )

    @model_validator(mode="after")
    def _delivery_fits_in_a_poll_interval(self) -> Self:
        if self.notify_backoff_max_seconds < self.notify_backoff_initial_seconds:
            raise ValueError("NOTIFY_BACKOFF_MAX_SECONDS must not be below NOTIFY_BACKOFF_INITIAL_SECONDS")
        return self

    def delivery_budget_seconds(self) -> float:
        """The longest one channel can take for one alert: every attempt times out, every pause is the longest."""
        pauses = sum(
            min(self.notify_backoff_max_seconds, self.notify_backoff_initial_seconds * 2.0**n)
            for n in range(self.notify_max_attempts - 1)
        )
        return self.notify_max_attempts * self.notify_attempt_timeout_seconds + pauses

    def max_poll_interval_ms(self) -> int:
        """Kafka must not take the partition away while one alert is still being delivered."""
        return max(
            KAFKA_DEFAULT_POLL_INTERVAL_MS, int((self.delivery_budget_seconds() + POLL_INTERVAL_MARGIN_SECONDS) * 1000)
        )
