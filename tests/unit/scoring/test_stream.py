"""The scoring stream on FastStream's in-memory broker: what lands on which topic, with which headers."""

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from schemas import Alert, OutreachEvent, PairScore
from services.runtime.store_unavailable import StoreUnavailable
from services.scoring.policy.file import PolicySet
from services.scoring.processing.processor import Processor
from services.scoring.recovery.replay_guard import ReplayGuard
from services.scoring.recovery.state_machine import Phase, Recovery
from services.scoring.settings import ScoringSettings
from services.scoring.state.history import ContactState
from services.scoring.state.memory_store import MemoryStore
from services.scoring.stream.consumer import ScoringStream
from services.scoring.stream.outputs import PublisherSender
from tests.harness.events import event
from tests.unit.scoring.builders import DAY, T0, emails
from tests.unit.scoring.memory_log import MemoryLog
from tests.unit.scoring.recovery_case import phase_of

NOW = T0 + 30 * DAY


class UnreachableStore(MemoryStore):
    async def load_many(self, contact_keys: Sequence[str]) -> dict[str, ContactState]:
        raise StoreUnavailable("state store", "Redis at 127.0.0.1:6379 (ConnectionError)")

    async def save_many(self, states: Mapping[str, ContactState]) -> None:
        raise StoreUnavailable("state store", "Redis at 127.0.0.1:6379 (ConnectionError)")

    async def delete(self, contact_key: str) -> bool:
        raise StoreUnavailable("state store", "Redis at 127.0.0.1:6379 (ConnectionError)")


Received = dict[str, list[tuple[bytes, dict[str, str]]]]


async def _undecoded(_: KafkaMessage) -> None:
    """Tests read the raw bytes and headers themselves."""


@dataclass
class Wired:
    broker: KafkaBroker
    settings: ScoringSettings
    stream: ScoringStream
    received: Received
    log: MemoryLog
    """What recovery reads: the events written by `records_of`, and every score and alert the stream published."""

    def records_of(self, events: list[OutreachEvent]) -> list[ConsumerRecord[bytes, bytes]]:
        """The events as written to partition 0 of the events topic (and so as delivered)."""
        topic = self.settings.topic_events
        return [self.log.append(topic, 0, item.model_dump_json().encode(), key=b"acme:c-1") for item in events]

    async def take_over(self) -> None:
        await self.stream.recovery.on_partitions_assigned([TopicPartition(self.settings.topic_events, 0)])


def wired(store: MemoryStore, log: MemoryLog | None = None) -> Wired:
    """A stream that owns partition 0 of the events topic once `take_over` ran (the in-memory broker delivers
    everything on it), with recovery reading `log`."""
    broker = KafkaBroker()
    settings = ScoringSettings.model_construct(scoring_retry_seconds=0.01)
    log = log or MemoryLog()
    guard = ReplayGuard({settings.topic_scores: "score_id", settings.topic_alerts: "ce_id"}, 0)
    recovery = Recovery(log, settings.scoring_group_id, guard, None)
    stream = ScoringStream(
        broker, settings, Processor(store, PolicySet()), lambda: NOW, recovery, sender=PublisherSender(broker)
    )
    received: Received = {}
    for name, topic in (
        ("scores", settings.topic_scores),
        ("alerts", settings.topic_alerts),
        ("dlq", settings.topic_events_dlq),
    ):
        received[name] = []
        broker.subscriber(topic, decoder=_undecoded)(_keeper(received[name], log, topic))
    return Wired(broker, settings, stream, received, log)


def _keeper(
    seen: list[tuple[bytes, dict[str, str]]], log: MemoryLog, topic: str
) -> Callable[[KafkaMessage], Awaitable[None]]:
    async def keep(message: KafkaMessage) -> None:
        headers = dict(message.headers)
        seen.append((message.body, headers))
        log.append(topic, 0, message.body, headers=[(name, value.encode()) for name, value in headers.items()])

    return keep


def scores(received: Received) -> list[PairScore]:
    return [PairScore.model_validate_json(body) for body, _ in received["scores"]]


def alerts(received: Received) -> list[Alert]:
    return [Alert.model_validate_json(body) for body, _ in received["alerts"]]


async def test_scores_every_event_alerts_on_the_change_and_dead_letters_what_it_cannot_read() -> None:
    wire = wired(MemoryStore(expire_after=10**9))
    await wire.take_over()
    topic = wire.settings.topic_events
    async with TestKafkaBroker(wire.broker) as test_broker:
        await test_broker.publish(b"{not json", topic, key=b"acme:c-1")
        strange = event("tz", T0, timezone="Mars/Olympus")
        await test_broker.publish(json.loads(strange.model_dump_json()), topic, key=b"acme:c-1")
        for item in emails(3, 2 * DAY):
            await test_broker.publish(json.loads(item.model_dump_json()), topic, key=b"acme:c-1")

    assert [s.level for s in scores(wire.received)] == ["ok", "ok", "watch"]
    assert [a.level for a in alerts(wire.received)] == ["watch"]
    assert wire.received["dlq"][0][0] == b"{not json"
    reasons = [headers["dlq_error"] for _, headers in wire.received["dlq"]]
    assert reasons == ["invalid_event", "unknown_timezone"]


async def test_alerts_carry_cloudevents_headers() -> None:
    wire = wired(MemoryStore(expire_after=10**9))
    await wire.take_over()
    async with TestKafkaBroker(wire.broker) as test_broker:
        for item in emails(3, 2 * DAY):
            await test_broker.publish(json.loads(item.model_dump_json()), wire.settings.topic_events, key=b"acme:c-1")
    [(body, headers)] = wire.received["alerts"]
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


async def test_an_unreachable_store_commits_nothing_publishes_nothing_and_reports_itself() -> None:
    wire = wired(UnreachableStore(expire_after=10**9))
    await wire.take_over()
    async with TestKafkaBroker(wire.broker):
        batch = Delivery(wire.records_of(emails(3, 2 * DAY)))
        await wire.stream.on_batch(batch)  # type: ignore[arg-type]
    assert batch.outcome == "rewound"
    assert wire.received["scores"] == wire.received["alerts"] == wire.received["dlq"] == []
    assert wire.stream.store_problem == "state store unavailable: Redis at 127.0.0.1:6379 (ConnectionError)"


async def test_once_the_store_answers_again_the_same_batch_is_scored_and_committed() -> None:
    store = UnreachableStore(expire_after=10**9)
    wire = wired(store)
    await wire.take_over()
    records = wire.records_of(emails(3, 2 * DAY))
    async with TestKafkaBroker(wire.broker):
        await wire.stream.on_batch(Delivery(records))  # type: ignore[arg-type]
        store.__class__ = MemoryStore  # type: ignore[assignment]
        retried = Delivery(records)
        await wire.stream.on_batch(retried)  # type: ignore[arg-type]
    assert retried.outcome == "committed"
    assert wire.stream.store_problem is None
    assert [s.level for s in scores(wire.received)] == ["ok", "ok", "watch"]


@pytest.mark.parametrize("garbage", [b"", b"[]", b'{"event_id": "x"}'])
async def test_any_unreadable_record_is_dead_lettered_with_its_position(garbage: bytes) -> None:
    wire = wired(MemoryStore(expire_after=10**9))
    await wire.take_over()
    async with TestKafkaBroker(wire.broker) as test_broker:
        await test_broker.publish(garbage, wire.settings.topic_events, key=b"acme:c-1")
    [(body, headers)] = wire.received["dlq"]
    assert body == garbage
    assert headers["dlq_error"] == "invalid_event"
    assert headers["dlq_topic"] == wire.settings.topic_events
    assert headers["dlq_service"] == "scoring"


async def test_no_batch_is_scored_before_its_partitions_are_taken_over() -> None:
    wire = wired(MemoryStore(expire_after=10**9))
    batch = Delivery(wire.records_of(emails(3, 2 * DAY)))
    async with TestKafkaBroker(wire.broker):
        scoring = asyncio.create_task(wire.stream.on_batch(batch))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        assert not scoring.done()
        assert wire.received["scores"] == []
        await wire.take_over()
        await asyncio.wait_for(scoring, 5)
    assert batch.outcome == "committed"
    assert len(wire.received["scores"]) == 3


async def test_outputs_already_on_kafka_before_a_crash_are_not_published_again_and_the_state_still_moves() -> None:
    before = wired(MemoryStore(expire_after=10**9))
    await before.take_over()
    async with TestKafkaBroker(before.broker):
        await before.stream.on_batch(Delivery(before.records_of(emails(3, 2 * DAY))))  # type: ignore[arg-type]
    published = before.received
    [(_, alert_headers)] = published["alerts"]

    # killed after publishing two scores and the alert, before committing: that is what the topics now hold
    log = MemoryLog()
    after = wired(MemoryStore(expire_after=10**9), log)
    records = after.records_of(emails(3, 2 * DAY))
    for body, headers in published["scores"][:2]:
        log.append(after.settings.topic_scores, 0, body, headers=[("score_id", headers["score_id"].encode())])
    log.append(after.settings.topic_alerts, 0, b"{}", headers=[("ce_id", alert_headers["ce_id"].encode())])
    await after.take_over()
    async with TestKafkaBroker(after.broker):
        batch = Delivery(records)
        await after.stream.on_batch(batch)  # type: ignore[arg-type]
    assert batch.outcome == "committed"
    assert [headers["score_id"] for _, headers in after.received["scores"]] == [published["scores"][2][1]["score_id"]]
    assert after.received["alerts"] == [], "the watch alert was already announced"
    state = (await after.stream.processor.store.load_many(["acme:c-1"]))["acme:c-1"]
    assert len(state.pairs["rep-1"].touches) == 3
    assert state.pairs["rep-1"].alerted == "watch"


class SaveFailsOnce(MemoryStore):
    """Redis going away between a batch's publish and its save."""

    failed = False

    async def save_many(self, states: Mapping[str, ContactState]) -> None:
        if not self.failed:
            self.failed = True
            raise StoreUnavailable("state store", "Redis at 127.0.0.1:6379 (ConnectionError)")
        await super().save_many(states)


async def test_a_batch_whose_save_failed_after_publishing_is_not_published_twice_when_it_comes_again() -> None:
    store = SaveFailsOnce(expire_after=10**9)
    wire = wired(store)
    await wire.take_over()
    records = wire.records_of(emails(3, 2 * DAY))
    async with TestKafkaBroker(wire.broker):
        first, again = Delivery(records), Delivery(records)
        await wire.stream.on_batch(first)  # type: ignore[arg-type]
        assert phase_of(wire.stream.recovery) == Phase.UNSETTLED
        await wire.stream.on_batch(again)  # type: ignore[arg-type]
    assert (first.outcome, again.outcome) == ("rewound", "committed")
    assert phase_of(wire.stream.recovery) == Phase.SCORING
    assert len(wire.received["scores"]) == 3, "each event's score once"
    assert len(wire.received["alerts"]) == 1, "the watch alert once"
    assert len((await store.load_many(["acme:c-1"]))["acme:c-1"].pairs["rep-1"].touches) == 3
