"""Scoring's Prometheus metrics (names agreed in docs/metrics.md); labels are bounded, never an id."""

from prometheus_client import Counter, Histogram

EVENTS = Counter("rapport_scoring_events_total", "Events consumed, by what became of them", ["result"])
BATCH_DURATION = Histogram(
    "rapport_scoring_batch_duration_seconds",
    "One consumed batch, from parse to commit",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENT_DELAY = Histogram(
    "rapport_scoring_event_delay_seconds",
    "Now minus the event's occurred_at or received_at, when scored",
    ["since"],
    buckets=(0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600, 86400, 604800, 2592000),
)
SCORES = Counter("rapport_scoring_scores_total", "Scores published, by level", ["level"])
ALERTS = Counter("rapport_scoring_alerts_total", "Alerts published", ["level", "scope"])
RULE_HITS = Counter("rapport_scoring_rule_hits_total", "Broken rules, one per rule per score", ["rule"])
NEXT_ALLOWED_DELAY = Histogram(
    "rapport_scoring_next_allowed_delay_seconds",
    "next_allowed_at minus the event time, when set",
    buckets=(0, 3600, 21600, 86400, 172800, 604800, 1209600, 2592000, 5184000),
)
STORE_OPERATIONS = Counter("rapport_scoring_store_operations_total", "State store operations", ["operation", "outcome"])
STORE_DURATION = Histogram(
    "rapport_scoring_store_operation_duration_seconds",
    "State store operation time",
    ["operation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5),
)
CHECKS = Counter("rapport_scoring_checks_total", "Pre-send checks answered", ["decision"])
DEAD_LETTERED = Counter("rapport_scoring_dead_lettered_total", "Events sent to the dead-letter topic", ["reason"])
RESTORED = Counter(
    "rapport_scoring_restored_events_total",
    "Events replayed from outreach.events to rebuild a memory store after a restart or a rebalance",
)
HELD_BACK = Counter(
    "rapport_scoring_outputs_held_back_total",
    "Scores and alerts not published again because they were on Kafka before a crash or a rebalance",
    ["output"],
)
