"""Notification's Prometheus metrics (names agreed in docs/metrics.md); labels are bounded, never an id."""

from prometheus_client import Counter, Histogram

from schemas import DeliveryOutcome

DELIVERIES = Counter(
    "rapport_notification_deliveries_total",
    "Outcomes per channel: delivered, suppressed (cool-down), failed (one attempt, retried) or dead_lettered",
    ["channel", "outcome"],
)
RETRIES = Counter("rapport_notification_retries_total", "Attempts that failed and were tried again", ["channel"])
DEAD_LETTERED = Counter(
    "rapport_notification_dead_lettered_total",
    "Alerts put on the dead-letter topic after a channel's last attempt failed",
    ["channel"],
)
ERASED_ALERTS = Counter(
    "rapport_notification_erased_alerts_total", "Alerts dropped because their contact was erased after they were scored"
)
DELIVERY_DURATION = Histogram(
    "rapport_notification_delivery_duration_seconds",
    "Time one delivery attempt took, successful or not (timeouts included)",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def prepare(kinds: set[str]) -> None:
    """Expose zeros for the configured channel kinds, so rates and alerts work before the first failure."""
    for kind in kinds:
        for outcome in DeliveryOutcome:
            DELIVERIES.labels(kind, outcome.value)
        RETRIES.labels(kind)
        DEAD_LETTERED.labels(kind)
        DELIVERY_DURATION.labels(kind)
