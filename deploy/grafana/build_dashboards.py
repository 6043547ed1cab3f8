"""Writes Rapport Guard's Grafana dashboards (deploy/grafana/dashboards/*.json) from the panel lists below.

Dashboards are code so that every panel is reviewed as a query, not as a blob of JSON: `make dashboards`
regenerates the files, a unit test fails when they drift from this module, and an integration test runs every
query against a real Prometheus scraping the running services. Metric names: docs/metrics.md.
"""

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUT_DIR = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
GRID_WIDTH = 24
RATE = "$__rate_interval"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False
    heatmap: bool = False


@dataclass(frozen=True)
class Panel:
    title: str
    description: str
    queries: tuple[Query, ...]
    unit: str = "short"
    kind: str = "timeseries"
    width: int = 12
    height: int = 8
    stacking: str = "none"
    mappings: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    rows: tuple[Row, ...]
    tags: tuple[str, ...] = field(default=("rapport-guard",))


def quantiles(metric: str, by: str, legend: str, levels: tuple[float, ...] = (0.5, 0.95, 0.99)) -> tuple[Query, ...]:
    """One histogram_quantile query per level, grouped by `by` (which must include `le`)."""
    return tuple(
        Query(
            f"histogram_quantile({level}, sum by ({by}) (rate({metric}_bucket[{RATE}])))",
            f"p{round(level * 100)} {legend}".strip(),
        )
        for level in levels
    )


def rate_or_zero(metric: str, by: str, baseline: str) -> str:
    """A rate that reads 0 per `by` group (from `baseline`'s groups) while the counter has never moved."""
    return f"sum by ({by}) (rate({metric}[{RATE}])) or sum by ({by}) (rate({baseline}[{RATE}])) * 0"


def share(metric: str, part: str, base: str = "", by: str = "") -> str:
    """The share of a counter's rate (within `base`) that also matches `part`; 0, not "no data", while none does."""
    grouping = f"sum by ({by}) " if by else "sum"
    whole = f"{grouping}(rate({metric}{{{base}}}[{RATE}]))" if base else f"{grouping}(rate({metric}[{RATE}]))"
    matched = f"{grouping}(rate({metric}{{{','.join(filter(None, (base, part)))}}}[{RATE}]))"
    return f"({matched} or {whole} * 0) / {whole}"


UP_MAPPINGS = (
    {
        "type": "value",
        "options": {
            "0": {"text": "DOWN", "color": "red", "index": 0},
            "1": {"text": "UP", "color": "green", "index": 1},
        },
    },
)

OVERVIEW = Dashboard(
    uid="rapport-guard-overview",
    title="Rapport Guard / Overview",
    description="Traffic, alerts by level, latency, consumer lag and errors of ingestion, scoring and notification.",
    rows=(
        Row(
            "Services",
            (
                Panel(
                    "Scrape targets",
                    "1 when Prometheus can scrape the service's /metrics (alert RapportServiceDown at 0 for 2 min).",
                    (Query('up{job=~"rapport-.*"}', "{{job}}"),),
                    kind="stat",
                    width=8,
                    height=5,
                    mappings=UP_MAPPINGS,
                ),
                Panel(
                    "HTTP requests by service",
                    "Every request each service answered, probes and scrapes included.",
                    (Query(f"sum by (service) (rate(rapport_http_requests_total[{RATE}]))", "{{service}}"),),
                    unit="reqps",
                    width=16,
                    height=5,
                ),
            ),
        ),
        Row(
            "Traffic",
            (
                Panel(
                    "Webhooks received",
                    "CRM webhook requests by source, before any check.",
                    (
                        Query(
                            f"sum by (source) (rate(rapport_ingestion_webhooks_received_total[{RATE}]))", "{{source}}"
                        ),
                    ),
                    unit="reqps",
                ),
                Panel(
                    "Events through the pipeline",
                    "Items judged by ingestion, events acknowledged by Kafka, and events handled by scoring.",
                    (
                        Query(
                            f"sum by (source, result) (rate(rapport_ingestion_events_total[{RATE}]))",
                            "ingested {{source}} {{result}}",
                        ),
                        Query(
                            f"sum by (source) (rate(rapport_ingestion_events_published_total[{RATE}]))",
                            "published {{source}}",
                        ),
                        Query(f"sum by (result) (rate(rapport_scoring_events_total[{RATE}]))", "scoring {{result}}"),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Kafka messages consumed",
                    "Messages each service's subscribers processed, by outcome (FastStream's middleware).",
                    (
                        Query(
                            "sum by (app_name, handler, status) "
                            f"(rate(faststream_received_processed_messages_total[{RATE}]))",
                            "{{app_name}} ← {{handler}} {{status}}",
                        ),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Kafka messages published",
                    "Messages each service published, by topic and outcome (FastStream's middleware).",
                    (
                        Query(
                            "sum by (app_name, destination, status) "
                            f"(rate(faststream_published_messages_total[{RATE}]))",
                            "{{app_name}} → {{destination}} {{status}}",
                        ),
                    ),
                    unit="ops",
                ),
            ),
        ),
        Row(
            "Alerts",
            (
                Panel(
                    "Alerts emitted by level",
                    "Level changes published on outreach.alerts, per minute.",
                    (Query(f"60 * sum by (level) (rate(rapport_scoring_alerts_total[{RATE}]))", "{{level}}"),),
                    unit="opm",
                    stacking="normal",
                    width=10,
                ),
                Panel(
                    "Alerts in the time range",
                    "Alerts emitted over the dashboard's time range, by level.",
                    (
                        Query(
                            "sum by (level) (increase(rapport_scoring_alerts_total[$__range]))",
                            "{{level}}",
                            instant=True,
                        ),
                    ),
                    kind="stat",
                    width=4,
                ),
                Panel(
                    "Notifications by channel and outcome",
                    "Delivery outcomes per minute: delivered, suppressed (cool-down), failed, dead-lettered.",
                    (
                        Query(
                            f"60 * sum by (channel, outcome) (rate(rapport_notification_deliveries_total[{RATE}]))",
                            "{{channel}} {{outcome}}",
                        ),
                    ),
                    unit="opm",
                    width=10,
                ),
            ),
        ),
        Row(
            "Latency",
            (
                Panel(
                    "HTTP latency (p95) by service and route",
                    "95th percentile time to answer, probes and /metrics left out.",
                    (
                        Query(
                            "histogram_quantile(0.95, sum by (service, route, le) "
                            '(rate(rapport_http_request_duration_seconds_bucket{route!~"/metrics|/healthz|/readyz"}'
                            f"[{RATE}])))",
                            "{{service}} {{route}}",
                        ),
                    ),
                    unit="s",
                ),
                Panel(
                    "Webhook wait for Kafka acknowledgement",
                    "How long ingestion waits for the broker before it can answer 202.",
                    quantiles("rapport_ingestion_publish_duration_seconds", "le", ""),
                    unit="s",
                ),
                Panel(
                    "Scoring batch duration",
                    "One consumed batch end to end: parse, score, publish, save, commit.",
                    quantiles("rapport_scoring_batch_duration_seconds", "le", ""),
                    unit="s",
                ),
                Panel(
                    "Delay until scored",
                    "Now minus the event's occurred_at (CRM delays included) and minus its received_at (ours).",
                    quantiles("rapport_scoring_event_delay_seconds", "since, le", "since {{since}}", (0.5, 0.95)),
                    unit="s",
                ),
                Panel(
                    "Delivery duration (p95) by channel",
                    "Time to deliver one alert on each channel, retries included.",
                    (
                        Query(
                            "histogram_quantile(0.95, sum by (channel, le) "
                            f"(rate(rapport_notification_delivery_duration_seconds_bucket[{RATE}])))",
                            "{{channel}}",
                        ),
                    ),
                    unit="s",
                ),
                Panel(
                    "Kafka handler duration (p95)",
                    "Time each subscriber spends on one message or batch (FastStream's middleware).",
                    (
                        Query(
                            "histogram_quantile(0.95, sum by (app_name, handler, le) "
                            f"(rate(faststream_received_processed_messages_duration_seconds_bucket[{RATE}])))",
                            "{{app_name}} ← {{handler}}",
                        ),
                    ),
                    unit="s",
                ),
            ),
        ),
        Row(
            "Lag",
            (
                Panel(
                    "Consumer lag per partition",
                    "Records on the broker not yet fetched by the consumer (alert RapportConsumerLagGrowing).",
                    (
                        Query(
                            "sum by (service, topic, partition) (rapport_consumer_lag)",
                            "{{service}} {{topic}}[{{partition}}]",
                        ),
                    ),
                ),
                Panel(
                    "Messages in process",
                    "Messages a handler has taken but not finished.",
                    (
                        Query(
                            "sum by (app_name, handler) (faststream_received_messages_in_process)",
                            "{{app_name}} ← {{handler}}",
                        ),
                    ),
                ),
            ),
        ),
        Row(
            "Errors",
            (
                Panel(
                    "HTTP 4xx and 5xx by route",
                    "Refused requests: 401 is a signature problem at the sender, 503 a Kafka problem here.",
                    (
                        Query(
                            "sum by (service, route, status) "
                            f'(rate(rapport_http_requests_total{{status=~"4..|5.."}}[{RATE}]))',
                            "{{service}} {{route}} {{status}}",
                        ),
                    ),
                    unit="reqps",
                ),
                Panel(
                    "Webhook 5xx ratio",
                    "Share of webhook requests answered 5xx (alert RapportIngestion5xxRatio above 5 %).",
                    (
                        Query(
                            share(
                                "rapport_http_requests_total",
                                'status=~"5.."',
                                base='service="ingestion",route=~"/v1/webhooks/.+"',
                            ),
                            "5xx share",
                        ),
                    ),
                    unit="percentunit",
                ),
                Panel(
                    "Webhooks rejected by reason",
                    "Requests or items refused by ingestion, by source and reason.",
                    (
                        Query(
                            f"sum by (source, reason) (rate(rapport_ingestion_webhooks_rejected_total[{RATE}]))",
                            "{{source}} {{reason}}",
                        ),
                    ),
                    unit="reqps",
                ),
                Panel(
                    "Dead letters",
                    "Events scoring could not use (outreach.events.dlq) and alerts notification gave up on "
                    "(outreach.alerts.dlq), per minute.",
                    (
                        Query(
                            f"60 * sum by (reason) (rate(rapport_scoring_dead_lettered_total[{RATE}]))",
                            "events: {{reason}}",
                        ),
                        Query(
                            "60 * ("
                            + rate_or_zero(
                                "rapport_notification_dead_lettered_total",
                                "channel",
                                "rapport_notification_deliveries_total",
                            )
                            + ")",
                            "alerts: {{channel}}",
                        ),
                    ),
                    unit="opm",
                ),
                Panel(
                    "Notification failure ratio by channel",
                    "Share of delivery outcomes that failed or were dead-lettered (alert above 10 %).",
                    (
                        Query(
                            share(
                                "rapport_notification_deliveries_total", 'outcome=~"failed|dead_lettered"', by="channel"
                            ),
                            "{{channel}}",
                        ),
                    ),
                    unit="percentunit",
                ),
                Panel(
                    "Notification retries",
                    "Delivery attempts repeated after a failure, per minute.",
                    (
                        Query(
                            "60 * ("
                            + rate_or_zero(
                                "rapport_notification_retries_total", "channel", "rapport_notification_deliveries_total"
                            )
                            + ")",
                            "{{channel}}",
                        ),
                    ),
                    unit="opm",
                ),
                Panel(
                    "State store operations",
                    "Loads, saves and deletes against the state store, by outcome.",
                    (
                        Query(
                            f"sum by (operation, outcome) (rate(rapport_scoring_store_operations_total[{RATE}]))",
                            "{{operation}} {{outcome}}",
                        ),
                    ),
                    unit="ops",
                ),
                Panel(
                    "State store latency (p95)",
                    "95th percentile time of one store operation.",
                    (
                        Query(
                            "histogram_quantile(0.95, sum by (operation, le) "
                            f"(rate(rapport_scoring_store_operation_duration_seconds_bucket[{RATE}])))",
                            "{{operation}}",
                        ),
                    ),
                    unit="s",
                ),
            ),
        ),
    ),
)

RELATIONSHIPS = Dashboard(
    uid="rapport-guard-relationships",
    title="Rapport Guard / Relationships",
    description="How outreach is judged: level mix, which rules are broken, and how long senders are asked to wait.",
    rows=(
        Row(
            "Level mix",
            (
                Panel(
                    "Scores by level",
                    "Share of scored events at each level.",
                    (Query(f"sum by (level) (rate(rapport_scoring_scores_total[{RATE}]))", "{{level}}"),),
                    unit="ops",
                    stacking="percent",
                    width=10,
                ),
                Panel(
                    "Level mix in the time range",
                    "Scored events over the dashboard's time range, by level.",
                    (
                        Query(
                            "sum by (level) (increase(rapport_scoring_scores_total[$__range]))",
                            "{{level}}",
                            instant=True,
                        ),
                    ),
                    kind="piechart",
                    width=4,
                ),
                Panel(
                    "Alerts by level and scope",
                    "Level changes per minute, for single senders (pair) and for whole teams (team).",
                    (
                        Query(
                            f"60 * sum by (level, scope) (rate(rapport_scoring_alerts_total[{RATE}]))",
                            "{{scope}} {{level}}",
                        ),
                    ),
                    unit="opm",
                    width=10,
                ),
            ),
        ),
        Row(
            "Rules",
            (
                Panel(
                    "Rule hits",
                    "Broken rules per minute, one per rule per score.",
                    (Query(f"60 * sum by (rule) (rate(rapport_scoring_rule_hits_total[{RATE}]))", "{{rule}}"),),
                    unit="opm",
                    width=14,
                ),
                Panel(
                    "Most broken rules in the time range",
                    "The ten rules broken most often over the dashboard's time range.",
                    (
                        Query(
                            "topk(10, sum by (rule) (increase(rapport_scoring_rule_hits_total[$__range])))",
                            "{{rule}}",
                            instant=True,
                        ),
                    ),
                    kind="bargauge",
                    width=10,
                ),
            ),
        ),
        Row(
            "Next allowed touch",
            (
                Panel(
                    "Wait until the next touch is welcome",
                    "next_allowed_at minus the event's time, when a score sets it.",
                    quantiles("rapport_scoring_next_allowed_delay_seconds", "le", "", (0.5, 0.9, 0.99)),
                    unit="s",
                ),
                Panel(
                    "Distribution of waits",
                    "How many scores asked for each length of pause.",
                    (
                        Query(
                            f"sum by (le) (increase(rapport_scoring_next_allowed_delay_seconds_bucket[{RATE}]))",
                            "{{le}}",
                            heatmap=True,
                        ),
                    ),
                    kind="heatmap",
                ),
            ),
        ),
        Row(
            "Pre-send checks",
            (
                Panel(
                    "Checks by decision",
                    "POST /v1/check answers per minute: allow, warn, block.",
                    (
                        Query(
                            f"60 * sum by (decision) (rate(rapport_scoring_checks_total[{RATE}]))",
                            "{{decision}}",
                        ),
                    ),
                    unit="opm",
                    stacking="normal",
                ),
                Panel(
                    "Share of checks blocked",
                    "Touches the guard advised against, as a share of all checks.",
                    (Query(share("rapport_scoring_checks_total", 'decision="block"'), "blocked"),),
                    unit="percentunit",
                ),
            ),
        ),
    ),
)

DASHBOARDS = {"overview.json": OVERVIEW, "relationships.json": RELATIONSHIPS}


def target(query: Query, ref: str) -> dict[str, Any]:
    return {
        "datasource": DATASOURCE,
        "refId": ref,
        "expr": query.expr,
        "legendFormat": query.legend,
        "instant": query.instant,
        "range": not query.instant,
        "format": "heatmap" if query.heatmap else "time_series",
    }


def panel_options(panel: Panel) -> dict[str, Any]:
    if panel.kind == "timeseries":
        return {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
    if panel.kind == "heatmap":
        return {"calculate": False, "yAxis": {"unit": panel.unit}, "color": {"scheme": "Oranges"}}
    if panel.kind == "piechart":
        return {"legend": {"displayMode": "table", "placement": "right", "values": ["value", "percent"]}}
    return {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "orientation": "horizontal"}


def panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": panel.unit}
    if panel.kind == "timeseries":
        defaults["custom"] = {"stacking": {"mode": panel.stacking, "group": "A"}, "fillOpacity": 10}
    if panel.mappings:
        defaults["mappings"] = list(panel.mappings)
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": panel_options(panel),
        "targets": [target(query, chr(ord("A") + n)) for n, query in enumerate(panel.queries)],
    }


def dashboard_json(dashboard: Dashboard) -> dict[str, Any]:
    """Rows one under another; panels fill a row left to right and wrap at Grafana's 24 columns."""
    panels: list[dict[str, Any]] = []
    y = 0
    for row in dashboard.rows:
        panels.append(
            {
                "id": len(panels) + 1,
                "type": "row",
                "title": row.title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y},
                "panels": [],
            }
        )
        y += 1
        x, line_height = 0, 0
        for panel in row.panels:
            if x + panel.width > GRID_WIDTH:
                x, y = 0, y + line_height
                line_height = 0
            panels.append(panel_json(panel, len(panels) + 1, x, y))
            x += panel.width
            line_height = max(line_height, panel.height)
        y += line_height
    return {
        "uid": dashboard.uid,
        "title": dashboard.title,
        "description": dashboard.description,
        "tags": list(dashboard.tags),
        "timezone": "utc",
        "editable": False,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": []},
        "annotations": {"list": []},
        "links": [
            {
                "title": "Rapport Guard",
                "type": "dashboards",
                "tags": ["rapport-guard"],
                "asDropdown": False,
                "includeVars": False,
                "keepTime": True,
            }
        ],
        "panels": panels,
    }


def rendered() -> dict[str, str]:
    """File name → the JSON text it should hold."""
    return {
        name: json.dumps(dashboard_json(board), indent=2, ensure_ascii=False) + "\n"
        for name, board in DASHBOARDS.items()
    }


def main() -> None:
    OUT_DIR.mkdir(exist_ok=True)
    for name, text in rendered().items():
        (OUT_DIR / name).write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote {OUT_DIR / name}\n")


if __name__ == "__main__":
    main()
