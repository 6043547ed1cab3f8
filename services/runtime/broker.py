"""The one place that builds a FastStream Kafka broker from settings, instrumented the same way for every service."""

from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY

from services.runtime.consumer_lag import CONSUMER_LAG
from services.runtime.kafka_security import kafka_security, kafka_security_options
from services.runtime.settings import ServiceSettings

DEFAULT_MAX_BATCH_BYTES = 16_384
"""aiokafka's default record batch size per partition."""


def build_broker(
    settings: ServiceSettings, service: str, max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES
) -> KafkaBroker:
    """A broker that needs neither idempotent nor transactional producers (the embedded broker has neither).

    Its messages are counted and timed by FastStream's Prometheus middleware (`faststream_*`, app_name = service)
    and its consumers' lag is reported as `rapport_consumer_lag`. `max_batch_bytes` bounds one record batch per
    partition; ingestion raises it to send many events at once.
    """
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers.split(","),
        client_id=f"{settings.kafka_client_id}-{service}",
        request_timeout_ms=settings.kafka_request_timeout_ms,
        max_batch_size=max_batch_bytes,
        enable_idempotence=False,
        acks="all",
        security=kafka_security(settings),
        logger=None,
        middlewares=[KafkaPrometheusMiddleware(registry=REGISTRY, app_name=service)],
    )
    CONSUMER_LAG.watch(broker, service)
    return broker


def kafka_client_options(settings: ServiceSettings) -> dict[str, Any]:
    """Connection options for every aiokafka client a service opens beside its broker (admin clients, readers):
    built here so that each of them reaches the cluster exactly as the broker does."""
    return {"bootstrap_servers": settings.kafka_bootstrap_servers.split(","), **kafka_security_options(settings)}
