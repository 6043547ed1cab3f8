"""The one place that builds a FastStream Kafka broker from settings."""

from faststream.kafka import KafkaBroker

from services.runtime.settings import ServiceSettings


def build_broker(settings: ServiceSettings, client_suffix: str) -> KafkaBroker:
    """A broker that needs neither idempotent nor transactional producers (the embedded broker has neither)."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers.split(","),
        client_id=f"{settings.kafka_client_id}-{client_suffix}",
        request_timeout_ms=settings.kafka_request_timeout_ms,
        enable_idempotence=False,
        acks="all",
        logger=None,
    )
