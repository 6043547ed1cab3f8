"""The one place that builds a FastStream Kafka broker from settings, instrumented the same way for every service."""

from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY

from services.runtime.consumer_lag import CONSUMER_LAG
from services.runtime.settings import ServiceSettings


def build_broker(settings: ServiceSettings, service: str) -> KafkaBroker:
    """A broker that needs neither idempotent nor transactional producers (the embedded broker has neither).

    Its messages are counted and timed by FastStream's Prometheus middleware (`faststream_*`, app_name = service)
    and its consumers' lag is reported as `rapport_consumer_lag`.
    """
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers.split(","),
        client_id=f"{settings.kafka_client_id}-{service}",
        request_timeout_ms=settings.kafka_request_timeout_ms,
        enable_idempotence=False,
        acks="all",
        logger=None,
        middlewares=[KafkaPrometheusMiddleware(registry=REGISTRY, app_name=service)],
    )
    CONSUMER_LAG.watch(broker, service)
    return broker
