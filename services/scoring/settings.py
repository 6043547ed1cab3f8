"""Scoring settings."""

from pathlib import Path

from pydantic import Field

from services.runtime.settings import ServiceSettings


class ScoringSettings(ServiceSettings):
    scoring_port: int = Field(default=8081, ge=1, le=65535)
    scoring_host: str = "127.0.0.1"
    state_store_url: str = Field(default="memory://", pattern=r"^(memory://|rediss?://)")
    policy_file: Path | None = None
    scoring_group_id: str = "rapport-guard-scoring"
    scoring_batch_max_records: int = Field(default=500, ge=1)
    scoring_retry_seconds: float = Field(default=1.0, gt=0)
