"""The first frequency rule and the stream around it, on FastStream's in-memory broker."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from faststream.kafka import KafkaBroker, TestKafkaBroker

from schemas import Alert, Channel, Direction, Kind, Level, OutreachEvent, PairScore, Source
from services.scoring.engine import judge, place
from services.scoring.policy import Policy
from services.scoring.processor import Processor
from services.scoring.settings import ScoringSettings
from services.scoring.state import PairState, Touch
from services.scoring.store_memory import MemoryStore
from services.scoring.stream import ScoringStream

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=30)


def touch(n: int, day: float, direction: Direction = Direction.OUTBOUND) -> Touch:
    return Touch(
        event_id=f"e{n}",
        occurred_at=T0 + timedelta(days=day),
        channel=Channel.EMAIL,
        direction=direction,
        kind=Kind.MESSAGE if direction is Direction.OUTBOUND else Kind.REPLY,
    )


def event(n: int, day: float, direction: Direction = Direction.OUTBOUND, contact: str = "c-1") -> OutreachEvent:
    return OutreachEvent(
        event_id=f"e{n}",
        tenant="acme",
        source=Source.GENERIC,
        occurred_at=T0 + timedelta(days=day),
        received_at=NOW,
        sender_id="rep-1",
        contact_id=contact,
        channel=Channel.EMAIL,
        direction=direction,
        kind=Kind.MESSAGE if direction is Direction.OUTBOUND else Kind.REPLY,
    )


def test_levels_rise_with_the_unanswered_streak_and_a_reply_resets_it() -> None:
    pair = PairState()
    levels = []
    for n in range(8):
        place(pair, touch(n, day=2 * n))
        levels.append(judge(pair, T0 + timedelta(days=2 * n), Policy()).level)
    assert levels == [
        Level.OK,
        Level.OK,
        Level.WATCH,
        Level.WATCH,
        Level.NUISANCE,
        Level.NUISANCE,
        Level.NUISANCE,
        Level.STALKING,
    ]
    place(pair, touch(99, day=15, direction=Direction.INBOUND))
    assert judge(pair, T0 + timedelta(days=16), Policy()).level is Level.OK


def test_a_late_event_is_placed_by_event_time_and_a_duplicate_is_ignored() -> None:
    pair = PairState()
    place(pair, touch(2, day=4))
    place(pair, touch(1, day=1))
    assert [t.event_id for t in pair.touches] == ["e1", "e2"]
    assert place(pair, touch(1, day=1)) is False
    assert len(pair.touches) == 2


async def test_redelivered_events_change_nothing_and_alert_once() -> None:
    processor = Processor(MemoryStore(), Policy())
    events = [event(n, day=2 * n) for n in range(3)]
    first, states = await processor.process(events, NOW)
    await processor.save(states)
    again, _ = await processor.process(events, NOW)
    assert [a.level for a in first.alerts] == ["watch"]
    assert (again.scores, again.alerts, again.duplicates) == ([], [], 3)


async def test_stream_publishes_scores_and_one_alert_and_dead_letters_garbage() -> None:
    broker = KafkaBroker()
    settings = ScoringSettings.model_construct()
    ScoringStream(broker, settings, Processor(MemoryStore(), Policy()), lambda: NOW)
    received: dict[str, list[Any]] = {"scores": [], "alerts": [], "dlq": []}

    @broker.subscriber(settings.topic_scores)
    async def scores(body: dict[str, Any]) -> None:
        received["scores"].append(PairScore.model_validate(body))

    @broker.subscriber(settings.topic_alerts)
    async def alerts(body: dict[str, Any]) -> None:
        received["alerts"].append(Alert.model_validate(body))

    @broker.subscriber(settings.topic_events_dlq)
    async def dlq(body: bytes) -> None:
        received["dlq"].append(body)

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(b"{not json", settings.topic_events, key=b"acme:c-1")
        for n in range(3):
            payload = json.loads(event(n, day=2 * n).model_dump_json())
            await test_broker.publish(payload, settings.topic_events, key=b"acme:c-1")

    assert [s.level for s in received["scores"]] == ["ok", "ok", "watch"]
    assert [a.level for a in received["alerts"]] == ["watch"]
    assert received["dlq"] == [b"{not json"]
