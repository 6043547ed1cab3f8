"""Settings every service shares; each service extends `ServiceSettings` with its own."""

import os
import sys
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, FilePath, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SecretsSettingsSource, SettingsConfigDict

KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
KafkaSaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
SECRETS_DIR = "SECRETS_DIR"


class ServiceSettings(BaseSettings):
    """Read from the environment, `.env`, and secret files: one file per setting, named as its variable, in the
    directory `SECRETS_DIR` names (a Kubernetes or Docker secret mount). The environment and `.env` win over them."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        directory = os.environ.get(SECRETS_DIR)
        if not directory:
            return init_settings, env_settings, dotenv_settings
        return init_settings, env_settings, dotenv_settings, SecretsSettingsSource(settings_cls, secrets_dir=directory)

    kafka_bootstrap_servers: str = Field(
        default="localhost:9092", description="Comma-separated host:port list of the Kafka brokers."
    )
    kafka_client_id: str = "rapport-guard"
    kafka_request_timeout_ms: int = Field(default=10_000, ge=1_000)
    kafka_security_protocol: KafkaSecurityProtocol = Field(
        default="PLAINTEXT", description="How every Kafka client reaches the brokers (hosted Kafka: SASL_SSL)."
    )
    kafka_sasl_mechanism: KafkaSaslMechanism = Field(
        default="PLAIN", description="SASL mechanism for SASL_PLAINTEXT and SASL_SSL."
    )
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: FilePath | None = Field(
        default=None, description="PEM CA bundle that signed the brokers' certificates; unset = the system CAs."
    )
    kafka_ssl_certfile: FilePath | None = Field(default=None, description="PEM client certificate (mTLS).")
    kafka_ssl_keyfile: FilePath | None = Field(
        default=None, description="PEM key of the client certificate, when the certificate file does not hold it."
    )
    redis_ssl_cafile: FilePath | None = Field(
        default=None, description="PEM CA bundle for `rediss://` stores; unset = the system CAs."
    )
    topic_events: str = "outreach.events"
    topic_events_dlq: str = "outreach.events.dlq"
    topic_scores: str = "outreach.scores"
    topic_alerts: str = "outreach.alerts"
    topic_notifications: str = "outreach.notifications"
    topic_alerts_dlq: str = "outreach.alerts.dlq"
    topic_erasures: str = "outreach.erasures"
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _kafka_security_is_complete(self) -> Self:
        """Refuse half a configuration at start: otherwise it surfaces as a broker that never answers."""
        protocol = self.kafka_security_protocol
        if protocol.startswith("SASL_"):
            if not self.kafka_sasl_username:
                raise ValueError(f"KAFKA_SASL_USERNAME: required when KAFKA_SECURITY_PROTOCOL is {protocol}")
            if self.kafka_sasl_password is None or not self.kafka_sasl_password.get_secret_value():
                raise ValueError(f"KAFKA_SASL_PASSWORD: required when KAFKA_SECURITY_PROTOCOL is {protocol}")
        if not protocol.endswith("SSL"):
            for name, value in (
                ("KAFKA_SSL_CAFILE", self.kafka_ssl_cafile),
                ("KAFKA_SSL_CERTFILE", self.kafka_ssl_certfile),
                ("KAFKA_SSL_KEYFILE", self.kafka_ssl_keyfile),
            ):
                if value is not None:
                    raise ValueError(
                        f"{name}: only used when KAFKA_SECURITY_PROTOCOL is SSL or SASL_SSL, not {protocol}"
                    )
        if self.kafka_ssl_keyfile is not None and self.kafka_ssl_certfile is None:
            raise ValueError("KAFKA_SSL_KEYFILE: set KAFKA_SSL_CERTFILE too (the key belongs to a client certificate)")
        return self

    @classmethod
    def load(cls) -> Self:
        """Build the settings, or stop the process with a message naming each bad field."""
        directory = os.environ.get(SECRETS_DIR)
        if directory and not Path(directory).is_dir():
            problem = f"{SECRETS_DIR}: {directory} is not a directory"
            sys.stderr.write(f"{cls.__name__}: invalid configuration\n  {problem}\n")
            raise SystemExit(2)
        try:
            return cls()
        except ValidationError as exc:
            lines = [f"{cls.__name__}: invalid configuration"]
            for error in exc.errors():
                field = ".".join(str(part) for part in error["loc"]).upper()
                message = error["msg"].removeprefix("Value error, ")
                lines.append(f"  {field}: {message}" if field else f"  {message}")
            sys.stderr.write("\n".join(lines) + "\n")
            raise SystemExit(2) from None
