"""Ingestion's Prometheus metrics; labels are bounded (source, reason), never an id."""

from prometheus_client import Counter

WEBHOOKS_RECEIVED = Counter("rapport_ingestion_webhooks_received_total", "Webhook requests received", ["source"])
WEBHOOKS_REJECTED = Counter(
    "rapport_ingestion_webhooks_rejected_total",
    "Webhook requests or items refused",
    ["source", "reason"],
)
EVENTS_PUBLISHED = Counter(
    "rapport_ingestion_events_published_total",
    "Events acknowledged by Kafka on outreach.events",
    ["source"],
)
