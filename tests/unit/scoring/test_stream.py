"""The scoring stream on FastStream's in-memory broker: what lands on which topic, with which headers."""

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence

import pytest
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from schemas import Alert, OutreachEvent, PairScore
from services.scoring.policy.file import PolicySet
from services.scoring.processing.processor import Processor
from services.scoring.recovery.replay_guard import ReplayGuard
from services.scoring.recovery.takeover import PartitionTakeover
from services.scoring.settings import ScoringSettings
from services.scoring.state.history import ContactState
from services.scoring.state.memory_store import MemoryStore
from services.scoring.state.store import StoreUnavailable
from services.scoring.stream.consumer import ScoringStream
from tests.harness.events import event
from tests.unit.scoring.builders import DAY, T0, emails

NOW = T0 + 30 * DAY


class UnreachableStore(MemoryStore):
    async def load_many(self, contact_keys: Sequence[str]) -> dict[str, ContactState]:
        raise StoreUnavailable("redis: ConnectionError")

    async def save_many(self, states: Mapping[str, ContactState]) -> None:
        raise StoreUnavailable("redis: ConnectionError")

    async def delete(self, contact_key: str) -> bool:
        raise StoreUnavailable("redis: ConnectionError")


Received = dict[str, list[tuple[bytes, dict[str, str]]]]


async def _undecoded(_: KafkaMessage) -> None:
    """Tests read the raw bytes and headers themselves."""


def wired(store: MemoryStore) -> tuple[KafkaBroker, ScoringSettings, ScoringStream, Received]:
    broker = KafkaBroker()
    settings = ScoringSettings.model_construct(scoring_retry_seconds=0.01)
    stream = ScoringStream(broker, settings, Processor(store, PolicySet()), lambda: NOW)
    received: Received = {}
    for name, topic in (
        ("scores", settings.topic_scores),
        ("alerts", settings.topic_alerts),
        ("dlq", settings.topic_events_dlq),
    ):
        received[name] = []
        broker.subscriber(topic, decoder=_undecoded)(_keeper(received[name]))
    return broker, settings, stream, received


def _keeper(seen: list[tuple[bytes, dict[str, str]]]) -> Callable[[KafkaMessage], Awaitable[None]]:
    async def keep(message: KafkaMessage) -> None:
        seen.append((message.body, dict(message.headers)))

    return keep


def scores(received: Received) -> list[PairScore]:
    return [PairScore.model_validate_json(body) for body, _ in received["scores"]]


def alerts(received: Received) -> list[Alert]:
    return [Alert.model_validate_json(body) for body, _ in received["alerts"]]


async def test_scores_every_event_alerts_on_the_change_and_dead_letters_what_it_cannot_read() -> None:
    broker, settings, _, received = wired(MemoryStore(expire_after=10**9))
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(b"{not json", settings.topic_events, key=b"acme:c-1")
        strange = event("tz", T0, timezone="Mars/Olympus")
        await test_broker.publish(json.loads(strange.model_dump_json()), settings.topic_events, key=b"acme:c-1")
        for item in emails(3, 2 * DAY):
            await test_broker.publish(json.loads(item.model_dump_json()), settings.topic_events, key=b"acme:c-1")

    assert [s.level for s in scores(received)] == ["ok", "ok", "watch"]
    assert [a.level for a in alerts(received)] == ["watch"]
    assert received["dlq"][0][0] == b"{not json"
    reasons = [headers["dlq_error"] for _, headers in received["dlq"]]
    assert reasons == ["invalid_event", "unknown_timezone"]


async def test_alerts_carry_cloudevents_headers() -> None:
    broker, settings, _, received = wired(MemoryStore(expire_after=10**9))
    async with TestKafkaBroker(broker) as test_broker:
        for item in emails(3, 2 * DAY):
            await test_broker.publish(json.loads(item.model_dump_json()), settings.topic_events, key=b"acme:c-1")
    [(body, headers)] = received["alerts"]
    alert = Alert.model_validate_json(body)
    assert headers["ce_id"] == alert.alert_id
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_type"] == "io.rapportguard.alert.watch"
    assert headers["ce_source"] == "rapport-guard/scoring"
    assert headers["ce_subject"] == "acme:c-1"
    assert headers["ce_time"] == NOW.isoformat().replace("+00:00", "Z")


class Delivery:
    """A consumed batch as FastStream hands it over: the records, and whether it was committed or rewound."""

    def __init__(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        self.raw_message = tuple(records)
        self.outcome: str | None = None

    async def ack(self) -> None:
        self.outcome = "committed"

    async def nack(self) -> None:
        self.outcome = "rewound"


def records_of(events: list[OutreachEvent]) -> list[ConsumerRecord[bytes, bytes]]:
    return [
        ConsumerRecord("outreach.events", 0, offset, 0, 0, b"acme:c-1", item.model_dump_json().encode(), None, 0, 0, [])
        for offset, item in enumerate(events)
    ]


async def test_an_unreachable_store_commits_nothing_publishes_nothing_and_reports_itself() -> None:
    broker, _, stream, received = wired(UnreachableStore(expire_after=10**9))
    async with TestKafkaBroker(broker):
        batch = Delivery(records_of(emails(3, 2 * DAY)))
        await stream.on_batch(batch)  # type: ignore[arg-type]
    assert batch.outcome == "rewound"
    assert received["scores"] == received["alerts"] == received["dlq"] == []
    assert stream.store_problem == "state store unavailable: redis: ConnectionError"


async def test_once_the_store_answers_again_the_same_batch_is_scored_and_committed() -> None:
    store = UnreachableStore(expire_after=10**9)
    broker, _, stream, received = wired(store)
    records = records_of(emails(3, 2 * DAY))
    async with TestKafkaBroker(broker):
        await stream.on_batch(Delivery(records))  # type: ignore[arg-type]
        store.__class__ = MemoryStore  # type: ignore[assignment]
        retried = Delivery(records)
        await stream.on_batch(retried)  # type: ignore[arg-type]
    assert retried.outcome == "committed"
    assert stream.store_problem is None
    assert [s.level for s in scores(received)] == ["ok", "ok", "watch"]


@pytest.mark.parametrize("garbage", [b"", b"[]", b'{"event_id": "x"}'])
async def test_any_unreadable_record_is_dead_lettered_with_its_position(garbage: bytes) -> None:
    broker, settings, _, received = wired(MemoryStore(expire_after=10**9))
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(garbage, settings.topic_events, key=b"acme:c-1")
    [(body, headers)] = received["dlq"]
    assert body == garbage
    assert headers["dlq_error"] == "invalid_event"
    assert headers["dlq_topic"] == settings.topic_events
    assert headers["dlq_service"] == "scoring"


async def test_outputs_already_on_kafka_before_a_crash_are_not_published_again_and_the_state_still_moves() -> None:
    store = MemoryStore(expire_after=10**9)
    first, _, before, published = wired(store)
    async with TestKafkaBroker(first):
        await before.on_batch(Delivery(records_of(emails(3, 2 * DAY))))  # type: ignore[arg-type]
    [(_, alert_headers)] = published["alerts"]
    on_kafka = {headers["score_id"] for _, headers in published["scores"][:2]} | {alert_headers["ce_id"]}

    broker, _, after, received = wired(MemoryStore(expire_after=10**9))
    after.guard.held = {id_.encode() for id_ in on_kafka}
    async with TestKafkaBroker(broker):
        batch = Delivery(records_of(emails(3, 2 * DAY)))
        await after.on_batch(batch)  # type: ignore[arg-type]
    assert batch.outcome == "committed"
    assert [headers["score_id"] for _, headers in received["scores"]] == [published["scores"][2][1]["score_id"]]
    assert received["alerts"] == [], "the watch alert was already announced"
    state = (await after.processor.store.load_many(["acme:c-1"]))["acme:c-1"]
    assert len(state.pairs["rep-1"].touches) == 3
    assert state.pairs["rep-1"].alerted == "watch"


def test_the_guard_lets_go_once_each_replayed_partition_delivers_an_event_written_after_it_looked() -> None:
    guard = ReplayGuard({}, 0)
    guard.held = {b"already-published"}
    guard.until = {("outreach.events", 0): 1_000, ("outreach.events", 1): 1_000}

    def record(partition: int, timestamp: int) -> ConsumerRecord[bytes, bytes]:
        return ConsumerRecord("outreach.events", partition, 0, timestamp, 0, None, b"", None, 0, 0, [])

    guard.consumed([record(0, 999), record(1, 1_000)])
    assert guard.already_published("already-published"), "both events may have been scored before"
    guard.consumed([record(0, 1_001)])
    assert guard.already_published("already-published"), "partition 1 may still replay"
    guard.consumed([record(1, 1_500)])
    assert not guard.holding


class SaveFailsOnce(MemoryStore):
    """Redis going away between a batch's publish and its save."""

    failed = False

    async def save_many(self, states: Mapping[str, ContactState]) -> None:
        if not self.failed:
            self.failed = True
            raise StoreUnavailable("redis: ConnectionError")
        await super().save_many(states)


class TopicsReadBack(PartitionTakeover):
    """Re-arming reads the ids back from what the in-memory broker delivered, as the real one reads the topics."""

    def __init__(self, received: Received) -> None:
        super().__init__({"bootstrap_servers": ["127.0.0.1:9"]}, "g", asyncio.Lock(), ReplayGuard({}, 0), None)
        self.received = received
        self.rearmed = 0
        self.ready.set()

    def still_owned(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> Sequence[ConsumerRecord[bytes, bytes]]:
        return records

    async def rearm(self) -> None:
        self.rearmed += 1
        self.guard.held = {headers["score_id"].encode() for _, headers in self.received["scores"]} | {
            headers["ce_id"].encode() for _, headers in self.received["alerts"]
        }


async def test_a_batch_whose_save_failed_after_publishing_is_not_published_twice_when_it_comes_again() -> None:
    store = SaveFailsOnce(expire_after=10**9)
    broker = KafkaBroker()
    settings = ScoringSettings.model_construct(scoring_retry_seconds=0.01)
    received: Received = {"scores": [], "alerts": []}
    takeover = TopicsReadBack(received)
    stream = ScoringStream(broker, settings, Processor(store, PolicySet()), lambda: NOW, takeover=takeover)
    broker.subscriber(settings.topic_scores, decoder=_undecoded)(_keeper(received["scores"]))
    broker.subscriber(settings.topic_alerts, decoder=_undecoded)(_keeper(received["alerts"]))
    async with TestKafkaBroker(broker):
        first, again = Delivery(records_of(emails(3, 2 * DAY))), Delivery(records_of(emails(3, 2 * DAY)))
        await stream.on_batch(first)  # type: ignore[arg-type]
        await stream.on_batch(again)  # type: ignore[arg-type]
    assert (first.outcome, again.outcome) == ("rewound", "committed")
    assert takeover.rearmed == 1
    assert len(received["scores"]) == 3, "each event's score once"
    assert len(received["alerts"]) == 1, "the watch alert once"
    assert len((await store.load_many(["acme:c-1"]))["acme:c-1"].pairs["rep-1"].touches) == 3
