"""A backfill is on record but is not news: alerts whose pressure had ended when their event arrived are historical.
And a level first announced as history that later touches show still holds is announced again, as news."""

from datetime import datetime, timedelta

from schemas import Alert, AlertLevel, Level, OutreachEvent, Scope
from services.scoring.policy.file import PolicySet
from services.scoring.processing.alerts import CONTINUES
from services.scoring.processing.processor import Outputs, Processor
from services.scoring.processing.sweep import Sweeper
from services.scoring.state.codec import encode
from services.scoring.state.memory_store import MemoryStore
from services.scoring.stream.outputs import alert_output
from tests.harness.events import event
from tests.unit.scoring.builders import DAY, T0, emails

HOUR = timedelta(hours=1)

PURSUIT = emails(8, DAY)
"""Eight unanswered e-mails a day apart: watch, nuisance, then stalking."""


def arriving(events: list[OutreachEvent], now: datetime) -> list[OutreachEvent]:
    """The events as received at `now`: whether an alert is news is judged as of its event's arrival."""
    return [item.model_copy(update={"received_at": now}) for item in events]


async def scored(events: list[OutreachEvent], now: datetime) -> Outputs:
    outputs, _ = await Processor(MemoryStore(expire_after=10**9), PolicySet()).process(arriving(events, now), now)
    return outputs


async def test_a_pursuit_that_ended_94_days_ago_is_on_record_but_not_news() -> None:
    outputs = await scored(PURSUIT, T0 + 100 * DAY)
    assert AlertLevel.STALKING in [alert.level for alert in outputs.alerts]
    assert all(alert.historical for alert in outputs.alerts)
    assert {alert_output("alerts", alert).headers["ce_historical"] for alert in outputs.alerts} == {"true"}
    assert Level.STALKING in [score.level for score in outputs.scores], "scores keep their event-time levels"


async def test_a_pursuit_going_on_now_is_news() -> None:
    outputs = await scored(PURSUIT, T0 + 7 * DAY + timedelta(hours=1))
    assert outputs.alerts
    assert not any(alert.historical for alert in outputs.alerts)
    assert {alert_output("alerts", alert).headers["ce_historical"] for alert in outputs.alerts} == {"false"}


async def test_only_the_levels_that_have_since_fallen_are_historical() -> None:
    """Seen four days after the last e-mail: the stalking touches are still inside the cool-down."""
    outputs = await scored(PURSUIT, T0 + 11 * DAY)
    assert [(alert.level, alert.historical) for alert in outputs.alerts][-1] == (AlertLevel.STALKING, False)


NOW = T0 + 28 * DAY + timedelta(hours=1)
ONGOING = emails(15, 2 * DAY)
"""Fifteen unanswered e-mails two days apart, the last an hour before `NOW`: four weeks of pursuit, still going on."""
TEAM = sorted(
    (
        event(f"rep-{rep}-{n}", T0 + n * 4 * DAY + rep * 30 * HOUR, sender=f"rep-{rep}")
        for rep in range(3)
        for n in range(7)
    ),
    key=lambda item: item.occurred_at,
)
"""Three senders e-mailing in turn, each every four days, the last an hour before `NOW`."""


async def one_at_a_time(
    processor: Processor, events: list[OutreachEvent], now: datetime, sweeper: Sweeper | None = None
) -> list[Alert]:
    """Each event in a batch of its own, as a backfill posted one request at a time arrives; the sweep between."""
    said = []
    for item in events:
        outputs, states = await processor.process(arriving([item], now), now)
        await processor.save(states)
        said += outputs.alerts
        if sweeper is not None:
            swept = await sweeper.sweep(now)
            await processor.store.save_many(swept.states)
            said += swept.alerts
    return said


def renewals(alerts: list[Alert]) -> list[Alert]:
    return [alert for alert in alerts if alert.reasons and alert.reasons[0].rule == CONTINUES]


async def test_a_backfill_posted_one_event_at_a_time_is_news_once_its_latest_touches_show_it_goes_on() -> None:
    """The stalking alert is raised while the later touches have not arrived: historical then. The touch that
    shows it still holds now announces it again, as current, and only once."""
    said = await one_at_a_time(Processor(MemoryStore(expire_after=10**9), PolicySet()), ONGOING, NOW)
    news = [alert for alert in said if not alert.historical]
    assert [(alert.level, alert.previous_level) for alert in news] == [(AlertLevel.STALKING, Level.STALKING)]
    assert news == renewals(said)
    renewal = news[0]
    assert "still going on" in renewal.reasons[0].message
    assert [reason.rule for reason in renewal.reasons[1:]] != [], "and the reasons that hold the level now"
    assert renewal.next_allowed_at is not None
    assert renewal.next_allowed_at > NOW, "pause until, as of now"
    assert alert_output("alerts", renewal).headers["ce_historical"] == "false"
    assert len({alert.alert_id for alert in said}) == len(said), "a renewal has an id of its own"
    before = said[: said.index(renewal)]
    assert AlertLevel.STALKING in [alert.level for alert in before]
    assert all(alert.historical for alert in before)


async def test_a_sweep_between_the_batches_does_not_keep_the_pursuit_from_being_news() -> None:
    """The sweep resolves each historical level before the next touch arrives; the next rise must not be damped
    as a repeat of a wave nobody heard of as news."""
    store = MemoryStore(expire_after=10**9)
    said = await one_at_a_time(Processor(store, PolicySet()), ONGOING, NOW, Sweeper(store, PolicySet()))
    pair = [alert for alert in said if alert.scope is Scope.PAIR]
    assert [(alert.level, alert.historical) for alert in pair][-1] == (AlertLevel.STALKING, False)
    assert [alert for alert in said if not alert.historical and alert.level is not AlertLevel.RESOLVED] == [pair[-1]]


async def test_the_team_is_news_again_as_its_pairs_are() -> None:
    said = await one_at_a_time(Processor(MemoryStore(expire_after=10**9), PolicySet()), TEAM, NOW)
    team = [alert for alert in said if alert.scope is Scope.TEAM]
    assert all(alert.historical for alert in team[:-1])
    assert (team[-1].level, team[-1].previous_level, team[-1].historical) == (
        AlertLevel.STALKING,
        Level.STALKING,
        False,
    )
    assert team[-1].reasons[0].rule == CONTINUES
    assert team[-1].sender_id is None
    last = {alert.sender_id: (alert.level, alert.historical) for alert in said if alert.scope is Scope.PAIR}
    assert last == dict.fromkeys(["rep-0", "rep-1", "rep-2"], (AlertLevel.STALKING, False))
    assert [alert.sender_id for alert in renewals(said) if alert.scope is Scope.PAIR] == ["rep-0"]


async def test_a_backfill_that_really_ended_stays_history() -> None:
    said = await one_at_a_time(Processor(MemoryStore(expire_after=10**9), PolicySet()), PURSUIT, T0 + 100 * DAY)
    assert AlertLevel.STALKING in [alert.level for alert in said]
    assert all(alert.historical for alert in said)
    assert renewals(said) == []


async def test_an_old_touch_arriving_late_does_not_make_an_ended_pursuit_news() -> None:
    """More of the past, delivered after the rest: still nothing holds as of now."""
    processor = Processor(MemoryStore(expire_after=10**9), PolicySet())
    said = await one_at_a_time(processor, [*PURSUIT[:3], *PURSUIT[5:], PURSUIT[4], PURSUIT[3]], T0 + 100 * DAY)
    assert said
    assert all(alert.historical for alert in said)
    assert renewals(said) == []


async def test_redelivered_events_say_nothing_new() -> None:
    processor = Processor(MemoryStore(expire_after=10**9), PolicySet())
    said = await one_at_a_time(processor, ONGOING, NOW)
    assert renewals(said)
    assert await one_at_a_time(processor, ONGOING, NOW) == []
    outputs, _ = await processor.process(arriving(ONGOING, NOW + DAY), NOW + DAY)
    assert (outputs.alerts, outputs.duplicates) == ([], len(ONGOING))


async def test_a_batch_scored_again_after_a_crash_renews_under_the_same_id() -> None:
    """The state is saved only once the outputs are on Kafka: scored again, the renewal has the same id, which the
    replay guard recognises."""
    store = MemoryStore(expire_after=10**9)
    processor = Processor(store, PolicySet())
    said = await one_at_a_time(processor, ONGOING[:11], NOW)
    assert renewals(said) == []
    first, _ = await processor.process(arriving(ONGOING[11:13], NOW), NOW)
    again, _ = await processor.process(arriving(ONGOING[11:], NOW), NOW)
    assert [alert.alert_id for alert in renewals(first.alerts)] == [alert.alert_id for alert in renewals(again.alerts)]
    assert len(renewals(again.alerts)) == 1


async def test_a_restore_comes_back_to_the_same_state_and_then_says_what_the_live_scorer_says() -> None:
    """The memory store's restore replays the partition in larger batches: it ends where the live scorer did, so
    the tail scored after it announces nothing twice."""
    live_store, restored_store = MemoryStore(expire_after=10**9), MemoryStore(expire_after=10**9)
    live, restored = Processor(live_store, PolicySet()), Processor(restored_store, PolicySet())
    await one_at_a_time(live, TEAM, NOW)
    _, states = await restored.process(arriving(TEAM, NOW), NOW)
    await restored.save(states)
    keys = ["acme:c-1"]
    assert [encode(state) for state in (await live_store.load_many(keys)).values()] == [
        encode(state) for state in (await restored_store.load_many(keys)).values()
    ]
    more = event("rep-0-late", NOW, sender="rep-0")
    live_said, restored_said = await one_at_a_time(live, [more], NOW), await one_at_a_time(restored, [more], NOW)
    assert live_said == restored_said
    assert renewals(live_said) == []


async def test_how_events_fall_into_batches_changes_no_alert() -> None:
    """Judged on each event's arrival, not on the batch: a crash's re-run or a clean run in larger batches must
    publish the same alerts, renewals and historical marks included (what `make reliability` compares)."""
    for events in (ONGOING, TEAM):
        one_by_one = await one_at_a_time(Processor(MemoryStore(expire_after=10**9), PolicySet()), events, NOW)
        together = (await scored(events, NOW)).alerts
        assert renewals(one_by_one), "the story is renewed, so the comparison covers renewals"
        assert [(a.alert_id, a.historical) for a in together] == [(a.alert_id, a.historical) for a in one_by_one]
