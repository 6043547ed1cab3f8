"""Ingestion's Prometheus metrics (names agreed in docs/metrics.md); labels are bounded, never an id."""

from prometheus_client import Counter, Histogram

WEBHOOKS_RECEIVED = Counter("rapport_ingestion_webhooks_received_total", "Webhook requests received", ["source"])
WEBHOOKS_REJECTED = Counter(
    "rapport_ingestion_webhooks_rejected_total",
    "Webhook requests refused as a whole",
    ["source", "reason"],
)
EVENTS = Counter(
    "rapport_ingestion_events_total",
    "Items of answered webhook requests, by what became of them",
    ["source", "result"],
)
EVENTS_PUBLISHED = Counter(
    "rapport_ingestion_events_published_total",
    "Events acknowledged by Kafka on outreach.events",
    ["source"],
)
PUBLISH_DURATION = Histogram(
    "rapport_ingestion_publish_duration_seconds",
    "Wait for Kafka to acknowledge one request's events",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
ENRICHMENT = Counter(
    "rapport_ingestion_enrichment_total",
    "Touches from CRM webhooks by whether the CRM's API could be asked (enriched) or not (not_enriched: "
    "published with what the webhook said)",
    ["source", "result"],
)
ENRICHMENT_FAILURES = Counter(
    "rapport_ingestion_enrichment_failures_total",
    "CRM API look-ups that failed, by why (timeout, unreachable, rate_limited, unauthorized, error)",
    ["source", "reason"],
)
