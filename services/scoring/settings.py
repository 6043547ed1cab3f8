"""Scoring settings."""

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from services.runtime.settings import ServiceSettings


class ScoringSettings(ServiceSettings):
    scoring_port: int = Field(default=8081, ge=1, le=65535)
    scoring_host: str = "127.0.0.1"
    state_store_url: str = Field(default="memory://", pattern=r"^(memory://|rediss?://)")
    state_store_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    state_expire_after_days: float = Field(
        default=180, gt=0, description="A contact's state is forgotten after this long without a new event."
    )
    policy_file: Path | None = Field(default=None, description="Policy YAML; unset = the built-in default policy.")
    identity_hmac_key: SecretStr = Field(
        min_length=16,
        description="The ingestion's key, so a check names people by e-mail or phone exactly as webhooks do.",
    )
    api_keys_file: Path | None = Field(
        default=None,
        description="YAML list of {name, tenant, scopes, hash}: who may call the API. Required; reloaded on change.",
    )
    check_rate_limit_per_second: float = Field(
        default=5_000.0,
        gt=0,
        description="Checks per second allowed to one API key (token bucket refill); a cap on a runaway client, "
        "above what one replica serves (make bench drives one key at full speed).",
    )
    check_rate_limit_burst: int = Field(default=10_000, ge=1, description="Checks one API key may make at once.")
    scoring_group_id: str = "rapport-guard-scoring"
    scoring_batch_max_records: int = Field(default=500, ge=1)
    scoring_retry_seconds: float = Field(default=1.0, gt=0)
    scoring_sweep_seconds: float = Field(
        default=60,
        ge=0,
        le=3600,
        description="How often levels that fell with the passing of time are announced (resolved, de-escalation);"
        " 0 turns the sweep off.",
    )
    scoring_clock_skew_seconds: float = Field(
        default=30,
        ge=0,
        le=3600,
        description="Most that ingestion's and scoring's clocks may differ; widens the replay guard's look back.",
    )

    @field_validator("api_keys_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    def identity_key(self) -> bytes:
        return self.identity_hmac_key.get_secret_value().encode()
