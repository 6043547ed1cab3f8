"""Ingestion settings: secrets arrive as `SecretStr` and are checked at start."""

import re
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator

from services.runtime.settings import ServiceSettings
from services.runtime.standard_webhooks import decode_secret

_BASE_URL = r"^https?://[^\s/?#]+(/[^\s?#]*)?$"
_SALESFORCE_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")


class IngestionSettings(ServiceSettings):
    ingest_port: int = Field(default=8080, ge=1, le=65535)
    ingest_host: str = "127.0.0.1"
    generic_webhook_secret: SecretStr = Field(
        description="Standard Webhooks secret(s), 'whsec_<base64>'; several, space-separated, during rotation."
    )
    identity_hmac_key: SecretStr = Field(
        min_length=16, description="Key for pseudonymising e-mail addresses and phone numbers."
    )
    hubspot_client_secret: SecretStr | None = Field(
        default=None, description="The HubSpot app's client secret(s), space-separated during rotation."
    )
    public_base_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="The scheme, host and path prefix CRMs call (HubSpot signs the exact URL), e.g. "
        "https://hooks.example.com behind a proxy. Unset: the URL the request arrived on.",
    )
    salesforce_organization_id: str | None = Field(
        default=None, description="The only Salesforce org whose Outbound Messages are accepted (15 or 18 chars)."
    )
    pipedrive_webhook_user: str | None = Field(default=None, min_length=1, max_length=200)
    pipedrive_webhook_password: SecretStr | None = Field(default=None, min_length=8)
    max_body_bytes: int = Field(default=1_048_576, ge=1_024)
    max_batch_events: int = Field(default=500, ge=1)
    publish_timeout_seconds: float = Field(default=4.0, gt=0)
    dedupe_store_url: str = Field(
        default="memory://", pattern=r"^(memory://|rediss?://\S+)$", description="memory:// or redis://host:port/db"
    )
    dedupe_ttl_seconds: int = Field(default=96 * 3600, ge=60, description="How long a retry is still a duplicate.")
    dedupe_max_keys: int = Field(default=500_000, ge=1_000, description="Cap of the in-memory dedupe store.")
    tenant_rate_limit_per_second: float = Field(default=200.0, gt=0)
    tenant_rate_limit_burst: int = Field(default=2_000, ge=1)
    hubspot_access_token: SecretStr | None = Field(
        default=None, min_length=1, description="A HubSpot private app's access token: enrichment reads CRM records."
    )
    hubspot_api_base_url: str = Field(default="https://api.hubapi.com", pattern=_BASE_URL)
    hubspot_requests_per_10_seconds: int = Field(
        default=100, ge=1, description="HubSpot's per-10-second limit of the private app (100, or 190 on Pro)."
    )
    salesforce_instance_url: str | None = Field(
        default=None, pattern=_BASE_URL, description="The org's My Domain URL, e.g. https://acme.my.salesforce.com"
    )
    salesforce_client_id: str | None = Field(default=None, min_length=1, max_length=300)
    salesforce_client_secret: SecretStr | None = Field(default=None, min_length=1)
    salesforce_api_base_url: str | None = Field(
        default=None, pattern=_BASE_URL, description="Overrides SALESFORCE_INSTANCE_URL for API and token calls."
    )
    pipedrive_api_token: SecretStr | None = Field(default=None, min_length=1)
    pipedrive_api_base_url: str = Field(default="https://api.pipedrive.com", pattern=_BASE_URL)
    enrichment_timeout_seconds: float = Field(
        default=2.0, gt=0, le=30, description="Time one request may spend asking CRM APIs; then it publishes."
    )
    enrichment_cache_ttl_seconds: float = Field(default=300.0, ge=0, description="How long a CRM record is reused.")
    enrichment_recent_sender_ttl_seconds: float = Field(
        default=30 * 86400, ge=0, description="How long the last rep to reach a contact is remembered for replies."
    )

    @field_validator("generic_webhook_secret")
    @classmethod
    def _valid_secrets(cls, value: SecretStr) -> SecretStr:
        parts = value.get_secret_value().split()
        if not parts:
            raise ValueError("at least one 'whsec_<base64>' secret is required")
        for part in parts:
            decode_secret(part)
        return value

    @field_validator("salesforce_organization_id")
    @classmethod
    def _valid_org(cls, value: str | None) -> str | None:
        if value is not None and not _SALESFORCE_ID.match(value):
            raise ValueError("must be a Salesforce id of 15 or 18 letters and digits, e.g. 00D5e000000KQ2eEAG")
        return value

    @model_validator(mode="after")
    def _pipedrive_pair(self) -> Self:
        if (self.pipedrive_webhook_user is None) != (self.pipedrive_webhook_password is None):
            raise ValueError("set PIPEDRIVE_WEBHOOK_USER and PIPEDRIVE_WEBHOOK_PASSWORD together, or neither")
        return self

    @model_validator(mode="after")
    def _salesforce_client(self) -> Self:
        given = [self.salesforce_client_id is not None, self.salesforce_client_secret is not None]
        if any(given) and not all(given):
            raise ValueError("set SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET together, or neither")
        if all(given) and self.salesforce_api_base_url is None and self.salesforce_instance_url is None:
            raise ValueError("SALESFORCE_CLIENT_ID needs SALESFORCE_INSTANCE_URL (the org's My Domain URL)")
        return self

    def crm_api_configured(self) -> bool:
        return (
            self.hubspot_access_token is not None
            or self.salesforce_client_id is not None
            or self.pipedrive_api_token is not None
        )

    def generic_webhook_keys(self) -> list[bytes]:
        return [decode_secret(part) for part in self.generic_webhook_secret.get_secret_value().split()]

    def identity_key(self) -> bytes:
        return self.identity_hmac_key.get_secret_value().encode()

    def hubspot_secrets(self) -> list[bytes]:
        if self.hubspot_client_secret is None:
            return []
        return [part.encode() for part in self.hubspot_client_secret.get_secret_value().split()]
