"""Ingestion settings: secrets arrive as `SecretStr` and are checked at start."""

from pydantic import Field, SecretStr, field_validator

from services.runtime.settings import ServiceSettings
from services.runtime.standard_webhooks import decode_secret


class IngestionSettings(ServiceSettings):
    ingest_port: int = Field(default=8080, ge=1, le=65535)
    ingest_host: str = "127.0.0.1"
    generic_webhook_secret: SecretStr = Field(
        description="Standard Webhooks secret(s), 'whsec_<base64>'; several, space-separated, during rotation."
    )
    identity_hmac_key: SecretStr = Field(
        min_length=16, description="Key for pseudonymising e-mail addresses and phone numbers."
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1_024)
    max_batch_events: int = Field(default=500, ge=1)
    publish_timeout_seconds: float = Field(default=4.0, gt=0)

    @field_validator("generic_webhook_secret")
    @classmethod
    def _valid_secrets(cls, value: SecretStr) -> SecretStr:
        parts = value.get_secret_value().split()
        if not parts:
            raise ValueError("at least one 'whsec_<base64>' secret is required")
        for part in parts:
            decode_secret(part)
        return value

    def generic_webhook_keys(self) -> list[bytes]:
        return [decode_secret(part) for part in self.generic_webhook_secret.get_secret_value().split()]

    def identity_key(self) -> bytes:
        return self.identity_hmac_key.get_secret_value().encode()
