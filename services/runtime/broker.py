"""The one place that builds a FastStream Kafka broker from settings."""

from faststream.kafka import KafkaBroker

from services.runtime.settings import ServiceSettings

DEFAULT_MAX_BATCH_BYTES = 16_384
"""aiokafka's default record batch size per partition."""


def build_broker(
    settings: ServiceSettings, client_suffix: str, max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES
) -> KafkaBroker:
    """A broker that needs neither idempotent nor transactional producers (the embedded broker has neither).

    `max_batch_bytes` bounds one record batch per partition; ingestion raises it to send many events at once.
    """
    return KafkaBroker(
        settings.kafka_bootstrap_servers.split(","),
        client_id=f"{settings.kafka_client_id}-{client_suffix}",
        request_timeout_ms=settings.kafka_request_timeout_ms,
        max_batch_size=max_batch_bytes,
        enable_idempotence=False,
        acks="all",
        logger=None,
    )
