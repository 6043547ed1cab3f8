"""Stream semantics without Kafka: idempotency, event-time placement, alerts only on level changes."""

from datetime import timedelta

import pytest

from schemas import AlertLevel, Channel, Direction, Kind, Level, OutreachEvent, Scope
from schemas.events import event_problem
from services.scoring.engine.judge import ContactView, Judgement, judge_pair
from services.scoring.engine.touches import seconds
from services.scoring.policy.file import PolicySet
from services.scoring.policy.model import History, Policy
from services.scoring.processing import processor as processor_module
from services.scoring.processing.processor import Outputs, Processor
from services.scoring.state.memory_store import MemoryStore
from tests.harness.events import event
from tests.unit.scoring.builders import DAY, T0, emails, reply

NOW = T0 + 60 * DAY


def processor() -> Processor:
    return Processor(MemoryStore(expire_after=10**9), PolicySet())


async def deliver(target: Processor, *batches: list[OutreachEvent]) -> list[Outputs]:
    results = []
    for batch in batches:
        outputs, states = await target.process(batch, NOW)
        await target.save(states)
        results.append(outputs)
    return results


async def test_redelivered_events_change_nothing_and_alert_once() -> None:
    scorer = processor()
    events = emails(3, 2 * DAY)
    first, again = await deliver(scorer, events, events)
    assert [(a.level, a.scope, a.sender_id) for a in first.alerts] == [(AlertLevel.WATCH, Scope.PAIR, "rep-1")]
    assert [s.level for s in first.scores] == [Level.OK, Level.OK, Level.WATCH]
    assert (again.scored, again.alerts, again.duplicates) == ([], [], 3)


async def test_alert_ids_are_deterministic_so_a_replay_after_a_crash_is_recognisable() -> None:
    events = emails(3, 2 * DAY)
    [one] = await deliver(processor(), events)
    [other] = await deliver(processor(), events)
    assert [a.alert_id for a in one.alerts] == [a.alert_id for a in other.alerts]


async def test_levels_that_do_not_change_raise_no_alert() -> None:
    [outputs] = await deliver(processor(), emails(6, 7 * DAY))
    levels = [s.level for s in outputs.scores]
    changes = [level for previous, level in zip([Level.OK, *levels], levels, strict=False) if level != previous]
    assert [a.level.value for a in outputs.alerts] == [level.value for level in changes]
    assert len(outputs.alerts) < len(outputs.scores)


async def test_a_late_event_is_placed_by_event_time() -> None:
    scorer = processor()
    early, middle, late = emails(3, 2 * DAY)
    [first] = await deliver(scorer, [early, late])
    assert [s.level for s in first.scores] == [Level.OK, Level.OK]
    [second] = await deliver(scorer, [middle])
    [score] = second.scores
    assert score.level is Level.OK, "judged as of its own time: the third e-mail had not been sent yet"
    assert [(a.level, a.event_id) for a in second.alerts] == [(AlertLevel.WATCH, middle.event_id)]


async def test_a_reply_after_the_cool_down_resolves_the_alert() -> None:
    scorer = processor()
    [pressure] = await deliver(scorer, emails(3, 2 * DAY))
    assert [a.level for a in pressure.alerts] == [AlertLevel.WATCH]
    [answered] = await deliver(scorer, [reply("r", T0 + 20 * DAY)])
    [resolved] = answered.alerts
    assert (resolved.level, resolved.previous_level, resolved.next_allowed_at) == (
        AlertLevel.RESOLVED,
        Level.WATCH,
        None,
    )
    assert resolved.reasons[0].rule == "engaged"


async def test_a_calm_touch_inside_the_cool_down_keeps_the_level() -> None:
    scorer = processor()
    await deliver(scorer, emails(3, 2 * DAY))
    [calm] = await deliver(scorer, [event("calm", T0 + 7 * DAY, category="support")])
    assert calm.alerts == []
    assert calm.scores[0].level is Level.WATCH, "four days after the watched touch: still inside the cool-down"


async def test_a_pause_longer_than_the_cool_down_resolves_on_the_next_touch() -> None:
    scorer = processor()
    await deliver(scorer, emails(3, 2 * DAY))
    [later] = await deliver(scorer, [event("later", T0 + 70 * DAY)])
    assert [a.level for a in later.alerts] == [AlertLevel.RESOLVED]
    assert [r.rule for r in later.alerts[0].reasons] == ["cool_down_passed"]
    assert "for the whole cool-down of 7 days" in later.alerts[0].reasons[0].message


async def test_a_fall_that_stops_short_of_ok_is_announced_as_a_de_escalation() -> None:
    """Five e-mails in one day after a reply reach stalking; one more a week and a half later is only watched."""
    burst = [event(f"x{n}", T0 + DAY + n * timedelta(hours=3)) for n in range(5)]
    [outputs] = await deliver(processor(), [reply("r", T0), *burst, event("later", T0 + 10 * DAY)])
    assert [(a.previous_level, a.level) for a in outputs.alerts][-2:] == [
        (Level.NUISANCE, AlertLevel.STALKING),
        (Level.STALKING, AlertLevel.WATCH),
    ]
    fall = outputs.alerts[-1]
    assert [r.rule for r in fall.reasons] == ["cool_down_passed", "unanswered_streak"]
    assert fall.next_allowed_at is not None


async def test_the_team_rule_alerts_for_the_team_with_no_sender() -> None:
    colleagues = sorted(
        (
            event(f"{rep}-{n}", T0 + n * timedelta(days=3.5) + rep * timedelta(hours=5), sender=f"rep-{rep}")
            for rep in range(5)
            for n in range(2)
        ),
        key=lambda item: item.occurred_at,
    )
    [outputs] = await deliver(processor(), colleagues)
    team = [a for a in outputs.alerts if a.scope is Scope.TEAM]
    assert team
    assert all(a.sender_id is None for a in team)
    assert [a for a in outputs.alerts if a.scope is Scope.PAIR] == []
    assert {r.rule for r in team[-1].reasons} >= {"team_volume", "team_unanswered_streak"}


async def test_an_unknown_time_zone_or_a_future_event_cannot_be_scored() -> None:
    assert event_problem(event(1, T0, timezone="Mars/Olympus")) is not None
    future = event(2, T0).model_copy(update={"received_at": T0 - 3 * DAY})
    assert event_problem(future) == ("occurred_in_future", "occurred_at: more than a day after the event was received")
    assert event_problem(event(3, T0, timezone="Europe/Berlin")) is None


async def test_state_is_bounded_per_pair() -> None:
    scorer = processor()
    await deliver(scorer, emails(50, timedelta(hours=6)))
    state = (await scorer.store.load_many(["acme:c-1"]))["acme:c-1"]
    assert len(state.pairs["rep-1"].touches) == 32
    [again] = await deliver(scorer, emails(50, timedelta(hours=6)))
    assert (again.scored, again.duplicates) == ([], 50), "forgotten touches are still recognised as seen"


async def test_an_opt_out_is_not_engagement_and_makes_the_next_touch_a_nuisance() -> None:
    pursuit = emails(4, 2 * DAY)
    opt_out = event("stop", pursuit[2].occurred_at + DAY, channel=None, direction=Direction.INBOUND, kind=Kind.OPT_OUT)
    [plain] = await deliver(processor(), pursuit)
    [with_stop] = await deliver(processor(), [*pursuit[:3], opt_out, pursuit[3]])
    assert with_stop.consent == 1
    assert [s.event_id for s in with_stop.scores] == [e.event_id for e in pursuit]
    assert [s.level for s in with_stop.scores[:3]] == [s.level for s in plain.scores[:3]]
    assert with_stop.scores[-1].level is Level.NUISANCE
    assert with_stop.scores[-1].reasons[0].rule == "opted_out"


async def test_an_event_whose_judging_fails_leaves_the_state_as_it_was_evictions_included(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small = PolicySet(default=Policy(history=History(max_touches_per_pair=4)))
    pursuit = emails(5, 2 * DAY)
    colleague = event("colleague", pursuit[-1].occurred_at + DAY, sender="rep-2")
    failing_at = seconds(pursuit[4].occurred_at)
    judge = judge_pair

    def judge_failing_on_the_fifth(view: ContactView, sender_id: str, at: int, known: Level | None = None) -> Judgement:
        if at == failing_at:
            raise RuntimeError("judging failed")
        return judge(view, sender_id, at, known)

    scorer = Processor(MemoryStore(expire_after=10**9), small)
    await deliver(scorer, pursuit[:4])
    monkeypatch.setattr(processor_module, "judge_pair", judge_failing_on_the_fifth)
    [outputs] = await deliver(scorer, [pursuit[4], colleague])
    monkeypatch.undo()
    assert outputs.failed[0][:2] == (0, "processing_failed")
    assert [score.event_id for score in outputs.scores] == [colleague.event_id]

    never_saw_it = Processor(MemoryStore(expire_after=10**9), small)
    await deliver(never_saw_it, [*pursuit[:4], colleague])
    key = pursuit[0].contact_key
    assert await scorer.store.load_many([key]) == await never_saw_it.store.load_many([key])


async def test_scores_and_alerts_say_when_each_channel_is_welcome_again() -> None:
    [outputs] = await deliver(processor(), emails(3, 2 * DAY))
    score, alert = outputs.scores[-1], outputs.alerts[-1]
    for judged in (score, alert):
        assert set(judged.next_allowed_by_channel) == {Channel.EMAIL, Channel.PHONE_WORK, Channel.PHONE_MOBILE}
        assert judged.next_allowed_by_channel[Channel.EMAIL] == judged.next_allowed_at, "e-mail is the gentlest"
        assert all(instant is not None for instant in judged.next_allowed_by_channel.values())


async def test_after_a_stop_on_the_cell_phone_only_the_cell_phone_is_never_welcome() -> None:
    stop = event("stop", T0, channel=Channel.PHONE_MOBILE, direction=Direction.INBOUND, kind=Kind.OPT_OUT)
    [outputs] = await deliver(processor(), [stop, event("mail", T0 + DAY)])
    by_channel = outputs.scores[0].next_allowed_by_channel
    assert by_channel[Channel.PHONE_MOBILE] is None
    assert by_channel[Channel.EMAIL] is not None
    assert by_channel[Channel.PHONE_WORK] is not None
