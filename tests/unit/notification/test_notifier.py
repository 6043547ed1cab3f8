"""One alert through routing, cool-down and every channel, with a receipt for each outcome."""

from datetime import datetime, timedelta

import pytest

from schemas import AlertLevel, Scope
from services.notification.channels.base import Channel, DeliveryFailed
from services.notification.cooldown import pair_key
from services.notification.cooldown_store import MemoryCooldownStore
from services.notification.notifier import Notifier, delivery_id
from services.notification.retries import RetryPolicy
from services.notification.routing import Routing
from tests.harness.alerts import T0, make_alert
from tests.unit.notification.fakes import RecordingOutbox, ScriptedChannel, retryable

ROUTES = {
    "channels": {
        "crm": {"type": "webhook", "url": "http://127.0.0.1:1/", "secret": "whsec_" + "a" * 40},
        "chat": {"type": "slack", "url": "http://127.0.0.1:1/"},
    },
    "routes": {
        "default": {"watch": ["crm"], "nuisance": ["crm", "chat"], "stalking": ["crm", "chat"], "resolved": []},
    },
}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def no_pause(seconds: float) -> None:
    return None


def notifier(channels: dict[str, Channel], clock: Clock, store: MemoryCooldownStore | None = None) -> Notifier:
    return Notifier(
        Routing.model_validate(ROUTES),
        channels,
        store=store or MemoryCooldownStore(timedelta(days=30)),
        cooldown=timedelta(hours=24),
        retry=RetryPolicy(max_attempts=3, initial_seconds=1, max_seconds=1, attempt_timeout_seconds=1),
        clock=clock,
        sleep=no_pause,
    )


async def test_each_routed_channel_gets_the_alert_and_each_outcome_a_receipt() -> None:
    crm, chat = ScriptedChannel("crm"), ScriptedChannel("chat", kind="slack", failures=retryable(1))
    outbox = RecordingOutbox()
    alert = make_alert(AlertLevel.NUISANCE)
    await notifier({"crm": crm, "chat": chat}, Clock()).notify(alert, outbox)
    assert sorted(outbox.outcomes()) == [("chat", "delivered", 2), ("chat", "failed", 1), ("crm", "delivered", 1)]
    assert crm.attempts == [delivery_id(alert.alert_id, "crm")]
    assert chat.attempts == [delivery_id(alert.alert_id, "chat")] * 2
    assert delivery_id(alert.alert_id, "crm") != delivery_id(alert.alert_id, "chat")


async def test_a_channel_that_never_recovers_dead_letters_while_the_others_deliver() -> None:
    crm, chat = ScriptedChannel("crm", failures=retryable(5)), ScriptedChannel("chat", kind="slack")
    outbox = RecordingOutbox()
    await notifier({"crm": crm, "chat": chat}, Clock()).notify(make_alert(AlertLevel.STALKING), outbox)
    assert outbox.dead_letters == [("crm", 3, "receiver answered HTTP 500")]
    final = {(r.channel, r.outcome.value, r.attempts, r.error) for r, _ in outbox.receipts if r.outcome != "failed"}
    assert final == {("crm", "dead_lettered", 3, "receiver answered HTTP 500"), ("chat", "delivered", 1, None)}


async def test_a_repeat_inside_the_cooldown_is_suppressed_with_a_receipt_and_counted_in_the_next_message() -> None:
    crm, chat = ScriptedChannel("crm"), ScriptedChannel("chat", kind="slack")
    clock = Clock()
    service = notifier({"crm": crm, "chat": chat}, clock)
    await service.notify(make_alert(AlertLevel.WATCH), RecordingOutbox())
    clock.now += timedelta(hours=2)
    repeat = RecordingOutbox()
    await service.notify(make_alert(AlertLevel.WATCH), repeat)
    assert [(r.channel, r.outcome.value, reason) for r, reason in repeat.receipts] == [
        ("crm", "suppressed", "cooldown")
    ]
    clock.now += timedelta(hours=1)
    await service.notify(make_alert(AlertLevel.NUISANCE), RecordingOutbox())
    assert [notice.held_back for notice in crm.delivered] == [0, 1]
    assert [notice.alert.level for notice in chat.delivered] == ["nuisance"]


async def test_a_level_routed_nowhere_gets_a_receipt_saying_so() -> None:
    outbox = RecordingOutbox()
    await notifier({}, Clock()).notify(make_alert(AlertLevel.RESOLVED), outbox)
    assert [(r.channel, r.outcome.value, reason) for r, reason in outbox.receipts] == [
        ("none", "suppressed", "not_routed")
    ]


async def test_the_cooldown_is_remembered_only_after_delivery_finished() -> None:
    store = MemoryCooldownStore(timedelta(days=30))
    alert = make_alert(AlertLevel.WATCH)

    class Crash(Exception):
        pass

    class CrashingOutbox(RecordingOutbox):
        async def receipt(self, receipt: object, reason: str | None = None) -> None:
            raise Crash

    crm = ScriptedChannel("crm")
    service = notifier({"crm": crm}, Clock(), store)
    with pytest.raises(ExceptionGroup) as failed:
        await service.notify(alert, CrashingOutbox())
    assert failed.group_contains(Crash)
    assert await store.load(pair_key(alert)) is None
    again = RecordingOutbox()
    await service.notify(alert, again)
    assert again.outcomes() == [("crm", "delivered", 1)]
    assert crm.attempts == [delivery_id(alert.alert_id, "crm")] * 2


async def test_a_redelivered_alert_after_its_state_was_saved_is_delivered_again_not_suppressed() -> None:
    crm = ScriptedChannel("crm")
    service = notifier({"crm": crm}, Clock())
    alert = make_alert(AlertLevel.WATCH)
    await service.notify(alert, RecordingOutbox())
    again = RecordingOutbox()
    await service.notify(alert, again)
    assert again.outcomes() == [("crm", "delivered", 1)]


async def test_a_non_retryable_refusal_goes_straight_to_the_dead_letter_topic() -> None:
    crm = ScriptedChannel("crm", failures=[DeliveryFailed("receiver answered HTTP 401", retryable=False)])
    outbox = RecordingOutbox()
    await notifier({"crm": crm}, Clock()).notify(make_alert(AlertLevel.WATCH), outbox)
    assert outbox.outcomes() == [("crm", "dead_lettered", 1)]
    assert outbox.dead_letters == [("crm", 1, "receiver answered HTTP 401")]


async def test_a_historical_alert_pages_nobody_and_says_why() -> None:
    crm = ScriptedChannel("crm")
    outbox = RecordingOutbox()
    service = notifier({"crm": crm}, Clock())
    await service.notify(make_alert(AlertLevel.STALKING).model_copy(update={"historical": True}), outbox)
    assert crm.attempts == []
    assert [(r.channel, r.outcome.value, reason) for r, reason in outbox.receipts] == [
        ("none", "suppressed", "historical")
    ]
    await service.notify(make_alert(AlertLevel.WATCH), RecordingOutbox())
    assert len(crm.delivered) == 1, "a historical alert opens no cool-down window"


def merging(crm: ScriptedChannel, clock: Clock) -> Notifier:
    """Pair and team alerts of every level to the CRM."""
    routes = {
        "channels": ROUTES["channels"],
        "routes": {
            "default": {level: ["crm"] for level in ("watch", "nuisance", "stalking", "resolved")} | {"team": ["crm"]}
        },
    }
    return Notifier(
        Routing.model_validate(routes),
        {"crm": crm},
        store=MemoryCooldownStore(timedelta(days=30)),
        cooldown=timedelta(hours=24),
        retry=RetryPolicy(max_attempts=3, initial_seconds=1, max_seconds=1, attempt_timeout_seconds=1),
        clock=clock,
        sleep=no_pause,
    )


async def test_a_team_alert_right_after_the_pair_alert_about_the_same_contact_is_merged_into_it() -> None:
    """One event, two alerts (the rep's and the team's): the people routed to get one message."""
    crm = ScriptedChannel("crm")
    clock = Clock()
    guard = merging(crm, clock)
    outbox = RecordingOutbox()
    await guard.notify(make_alert(AlertLevel.NUISANCE), outbox)
    clock.now = T0 + timedelta(minutes=1)
    team = make_alert(AlertLevel.NUISANCE, scope=Scope.TEAM)
    await guard.notify(team, outbox)
    assert len(crm.attempts) == 1, "one message about the contact"
    assert [(r.alert_id, r.outcome.value, why) for r, why in outbox.receipts[-1:]] == [
        (team.alert_id, "suppressed", "merged")
    ]
    await guard.notify(make_alert(AlertLevel.NUISANCE, contact="c-2", scope=Scope.TEAM), outbox)
    assert len(crm.attempts) == 2, "another contact is another story"


async def test_a_worse_team_alert_breaks_through_and_a_later_pair_alert_no_worse_joins_it() -> None:
    crm = ScriptedChannel("crm")
    clock = Clock()
    guard = merging(crm, clock)
    outbox = RecordingOutbox()
    await guard.notify(make_alert(AlertLevel.WATCH), outbox)
    await guard.notify(make_alert(AlertLevel.STALKING, scope=Scope.TEAM), outbox)
    assert len(crm.attempts) == 2
    clock.now = T0 + timedelta(hours=2)
    await guard.notify(make_alert(AlertLevel.NUISANCE, sender="rep-2"), outbox)
    assert len(crm.attempts) == 2, "rep-2's nuisance is part of the team's stalking just told"
    clock.now = T0 + timedelta(hours=30)
    await guard.notify(make_alert(AlertLevel.NUISANCE, sender="rep-3"), outbox)
    assert len(crm.attempts) == 3, "after the cool-down it is news again"


async def test_a_redelivered_alert_is_delivered_again_not_merged() -> None:
    crm = ScriptedChannel("crm")
    clock = Clock()
    guard = merging(crm, clock)
    team = make_alert(AlertLevel.NUISANCE, scope=Scope.TEAM)
    await guard.notify(team, RecordingOutbox())
    pair = make_alert(AlertLevel.STALKING)
    await guard.notify(pair, RecordingOutbox())
    await guard.notify(team, RecordingOutbox())
    assert crm.attempts.count(delivery_id(team.alert_id, "crm")) == 2, "same delivery id: the receiver drops it"
