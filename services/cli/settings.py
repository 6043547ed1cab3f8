"""What the command line reads from the environment (and `.env`) when no option names it."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CliSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    identity_hmac_key: SecretStr | None = Field(
        default=None, description="The ingestion's key, so a backtest names people by e-mail or phone as webhooks do."
    )
    policy_file: Path | None = Field(default=None, description="Policy YAML; unset = the built-in default policy.")
    rapport_api_key: SecretStr | None = Field(default=None, description="API key sent by `check` as a bearer token.")
