"""Settings every service shares; each service extends `ServiceSettings` with its own."""

import sys
from typing import Self

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Read from the environment, `.env`, and secret files (`SECRETS_DIR`, one file per setting)."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        secrets_dir=None,
    )

    kafka_bootstrap_servers: str = Field(
        default="localhost:9092", description="Comma-separated host:port list of the Kafka brokers."
    )
    kafka_client_id: str = "rapport-guard"
    kafka_request_timeout_ms: int = Field(default=10_000, ge=1_000)
    topic_events: str = "outreach.events"
    topic_events_dlq: str = "outreach.events.dlq"
    topic_scores: str = "outreach.scores"
    topic_alerts: str = "outreach.alerts"
    topic_notifications: str = "outreach.notifications"
    topic_alerts_dlq: str = "outreach.alerts.dlq"
    topic_erasures: str = "outreach.erasures"
    log_level: str = "INFO"

    @classmethod
    def load(cls) -> Self:
        """Build the settings, or stop the process with a message naming each bad field."""
        try:
            return cls()
        except ValidationError as exc:
            lines = [f"{cls.__name__}: invalid configuration"]
            for error in exc.errors():
                field = ".".join(str(part) for part in error["loc"]).upper() or "(settings)"
                lines.append(f"  {field}: {error['msg']}")
            sys.stderr.write("\n".join(lines) + "\n")
            raise SystemExit(2) from None
