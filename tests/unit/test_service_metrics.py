"""What every service's `/metrics` shows: requests by route template, FastStream's counters, consumer lag."""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError, KafkaTimeoutError
from fastapi import FastAPI
from fastapi.testclient import TestClient
from faststream.kafka import TestKafkaBroker
from prometheus_client import REGISTRY, CollectorRegistry, Gauge
from prometheus_client.parser import text_string_to_metric_families

from services.notification.app import create_app as create_notification_app
from services.notification.settings import NotificationSettings
from services.runtime.broker import build_broker
from services.runtime.consumer_lag import ConsumerLag
from services.runtime.http_metrics import install_http_metrics
from services.runtime.probes import probes_router
from services.scoring.app import create_app as create_scoring_app
from services.scoring.policy.file import PolicySet
from services.scoring.processing.processor import Processor
from services.scoring.recovery.replay_guard import ReplayGuard
from services.scoring.recovery.state_machine import Recovery
from services.scoring.settings import ScoringSettings
from services.scoring.state.memory_store import MemoryStore
from services.scoring.stream.consumer import ScoringStream
from services.scoring.stream.outputs import PublisherSender
from tests.harness.api_keys import operator_keys_file
from tests.unit.scoring.memory_log import MemoryLog


async def ready() -> None:
    return None


async def nothing_to_refresh() -> None:
    return None


def samples(text: str, name: str) -> list[dict[str, str]]:
    """Label sets of the samples called `name` in a Prometheus text exposition."""
    return [
        dict(sample.labels) | {"value": str(sample.value)}
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


@pytest.fixture
def items_app() -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(probes_router(ready, before_scrape=nothing_to_refresh))
    install_http_metrics(app, "unit-items")

    @app.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    @app.post("/boom")
    async def boom() -> None:
        raise RuntimeError("handler failed")

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_requests_are_counted_by_route_template_not_by_path(items_app: TestClient) -> None:
    for item_id in ("contact-1", "contact-2", "contact-3"):
        assert items_app.get(f"/items/{item_id}").status_code == 200
    scraped = samples(items_app.get("/metrics").text, "rapport_http_requests_total")
    mine = [s for s in scraped if s["service"] == "unit-items" and s["route"].startswith("/items")]
    assert mine == [
        {"service": "unit-items", "route": "/items/{item_id}", "method": "GET", "status": "200", "value": "3.0"}
    ]


def test_unknown_paths_and_failures_keep_labels_bounded(items_app: TestClient) -> None:
    for n in range(5):
        assert items_app.get(f"/no/such/path/{n}").status_code == 404
    assert items_app.post("/boom").status_code == 500
    assert items_app.request("BREW", "/items/pot").status_code == 405
    scraped = samples(items_app.get("/metrics").text, "rapport_http_requests_total")
    by_route = {(s["route"], s["method"], s["status"]): s["value"] for s in scraped if s["service"] == "unit-items"}
    assert by_route[("unmatched", "GET", "404")] == "5.0"
    assert by_route[("/boom", "POST", "500")] == "1.0"
    assert by_route[("/items/{item_id}", "other", "405")] == "1.0"
    assert not any("/no/such" in route for route, _, _ in by_route)


def test_request_duration_is_a_histogram_in_seconds(items_app: TestClient) -> None:
    items_app.get("/items/x")
    scraped = samples(items_app.get("/metrics").text, "rapport_http_request_duration_seconds_count")
    counts = [s for s in scraped if s["service"] == "unit-items" and s["route"] == "/items/{item_id}"]
    assert len(counts) == 1
    assert float(counts[0]["value"]) >= 1


def scoring_settings(api_keys_file: Path | None = None) -> ScoringSettings:
    return ScoringSettings(identity_hmac_key="identity-key-for-unit-tests", api_keys_file=api_keys_file)


@pytest.mark.parametrize(
    ("service", "build"),
    [
        ("scoring", lambda tmp: create_scoring_app(scoring_settings(operator_keys_file(tmp)[1]))),
        ("notification", lambda _: create_notification_app(NotificationSettings())),
    ],
)
def test_each_service_reports_its_own_requests(service: str, build: Any, tmp_path: Path) -> None:
    client = TestClient(build(tmp_path))  # no lifespan: the broker is never started
    assert client.get("/healthz").status_code == 200
    scraped = samples(client.get("/metrics").text, "rapport_http_requests_total")
    assert {"service": service, "route": "/healthz", "method": "GET", "status": "200"}.items() <= next(
        s for s in scraped if s["service"] == service and s["route"] == "/healthz"
    ).items()


def outreach_event(event_id: str) -> bytes:
    return json.dumps(
        {
            "schema_version": 1,
            "event_id": event_id,
            "tenant": "acme",
            "source": "generic",
            "occurred_at": datetime(2026, 11, 2, 9, tzinfo=UTC).isoformat(),
            "received_at": datetime(2026, 11, 2, 9, 1, tzinfo=UTC).isoformat(),
            "sender_id": "rep-1",
            "contact_id": "c-1",
            "channel": "email",
            "direction": "outbound",
            "kind": "message",
        }
    ).encode()


async def test_faststream_middleware_counts_messages_under_the_service_name() -> None:
    settings = scoring_settings()
    broker = build_broker(settings, "scoring-unit")
    recovery = Recovery(MemoryLog(), settings.scoring_group_id, ReplayGuard({}, 0), None)
    await recovery.on_partitions_assigned([TopicPartition(settings.topic_events, 0)])
    ScoringStream(
        broker,
        settings,
        Processor(MemoryStore(expire_after=10**9), PolicySet()),
        lambda: datetime(2026, 11, 3, tzinfo=UTC),
        recovery,
        sender=PublisherSender(broker),
    )

    def received() -> float:
        total = 0.0
        for family in REGISTRY.collect():
            for sample in family.samples:
                if sample.name == "faststream_received_messages_total" and sample.labels == {
                    "app_name": "scoring-unit",
                    "broker": "kafka",
                    "handler": settings.topic_events,
                }:
                    total += sample.value
        return total

    before = received()
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(outreach_event("e-1"), settings.topic_events, key=b"acme:c-1")
        await test_broker.publish(b"not json", settings.topic_events, key=b"acme:c-2")
    assert received() - before == 2
    published = REGISTRY.get_sample_value(
        "faststream_published_messages_total",
        {"app_name": "scoring-unit", "broker": "kafka", "destination": settings.topic_events_dlq, "status": "success"},
    )
    assert published == 1


@dataclass
class FakeConsumer:
    """Stands in for AIOKafkaConsumer: end offsets on the broker, last seen high-water marks, positions."""

    ends: dict[TopicPartition, int]
    positions: dict[TopicPartition, int | None]
    highwaters: dict[TopicPartition, int | None] = field(default_factory=dict)
    broker_down: bool = False
    revoked: set[TopicPartition] = field(default_factory=set)

    def assignment(self) -> set[TopicPartition]:
        return set(self.positions)

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        if self.broker_down:
            raise KafkaTimeoutError()
        return {partition: self.ends[partition] for partition in partitions}

    def highwater(self, partition: TopicPartition) -> int | None:
        return self.highwaters.get(partition)

    async def position(self, partition: TopicPartition) -> int:
        at = self.positions[partition]
        if partition in self.revoked or at is None:
            raise IllegalStateError(f"Partition {partition} is not assigned")
        return at


@dataclass
class FakeSubscriber:
    consumer: FakeConsumer | None


@dataclass(eq=False)
class FakeBroker:
    subscribers: list[FakeSubscriber]


def lag_readings(registry: CollectorRegistry) -> dict[tuple[str, str, str], float]:
    return {
        (s.labels["service"], s.labels["topic"], s.labels["partition"]): s.value
        for family in registry.collect()
        for s in family.samples
        if s.name == "rapport_consumer_lag"
    }


async def test_lag_is_end_offset_minus_position_for_each_assigned_partition() -> None:
    registry = CollectorRegistry()
    lag = ConsumerLag(Gauge("rapport_consumer_lag", "lag", ["service", "topic", "partition"], registry=registry))
    p0, p1, p2 = (TopicPartition("outreach.events", n) for n in range(3))
    consumer = FakeConsumer(ends={p0: 120, p1: 7, p2: 3}, positions={p0: 100, p1: 7, p2: None})
    broker = FakeBroker([FakeSubscriber(consumer), FakeSubscriber(None)])
    lag.watch(broker, "scoring")  # type: ignore[arg-type]
    await lag.refresh()
    assert lag_readings(registry) == {
        ("scoring", "outreach.events", "0"): 20.0,
        ("scoring", "outreach.events", "1"): 0.0,
    }


async def test_last_seen_highwater_stands_in_while_the_broker_does_not_answer() -> None:
    registry = CollectorRegistry()
    lag = ConsumerLag(Gauge("rapport_consumer_lag", "lag", ["service", "topic", "partition"], registry=registry))
    p0, p1 = TopicPartition("outreach.alerts", 0), TopicPartition("outreach.alerts", 1)
    consumer = FakeConsumer(ends={}, positions={p0: 10, p1: 4}, highwaters={p0: 15, p1: None}, broker_down=True)
    broker = FakeBroker([FakeSubscriber(consumer)])  # watched weakly: the test must hold it, as an app does
    lag.watch(broker, "notification")  # type: ignore[arg-type]
    await lag.refresh()
    assert lag_readings(registry) == {("notification", "outreach.alerts", "0"): 5.0}


async def test_partitions_that_leave_the_consumer_leave_the_gauge() -> None:
    registry = CollectorRegistry()
    lag = ConsumerLag(Gauge("rapport_consumer_lag", "lag", ["service", "topic", "partition"], registry=registry))
    p0, p1 = TopicPartition("outreach.alerts", 0), TopicPartition("outreach.alerts", 1)
    consumer = FakeConsumer(ends={p0: 5, p1: 9}, positions={p0: 1, p1: 2})
    broker = FakeBroker([FakeSubscriber(consumer)])
    lag.watch(broker, "notification")  # type: ignore[arg-type]
    await lag.refresh()
    assert set(lag_readings(registry)) == {
        ("notification", "outreach.alerts", "0"),
        ("notification", "outreach.alerts", "1"),
    }
    del consumer.positions[p1]
    consumer.revoked.add(p0)
    await lag.refresh()
    assert lag_readings(registry) == {}
