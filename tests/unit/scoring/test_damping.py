"""Fewer, better alerts: a pursuit in waves is announced once, unless it gets worse, the window passes, or the
contact engaged in between."""

import asyncio
from datetime import datetime

from schemas import Alert, AlertLevel, OutreachEvent, Scope
from services.scoring.policy.file import PolicySet, parse_policy
from services.scoring.processing.processor import Processor
from services.scoring.processing.sweep import Sweeper
from services.scoring.state.codec import decode, encode
from services.scoring.state.memory_store import MemoryStore
from tests.unit.scoring.builders import DAY, T0, emails, reply


class Scorer:
    def __init__(self, policies: PolicySet | None = None) -> None:
        self.store = MemoryStore(expire_after=10**9)
        self.policies = policies or PolicySet()
        self.processor = Processor(self.store, self.policies)

    def deliver(self, events: list[OutreachEvent], now: datetime) -> list[Alert]:
        async def run() -> list[Alert]:
            outputs, states = await self.processor.process(events, now)
            await self.processor.save(states)
            return outputs.alerts

        return asyncio.run(run())

    def sweep(self, now: datetime) -> list[Alert]:
        async def run() -> list[Alert]:
            swept = await Sweeper(self.store, self.policies).sweep(now)
            await self.store.save_many(swept.states)
            return swept.alerts

        return asyncio.run(run())


def wave(start: datetime, count: int = 5, name: str = "w") -> list[OutreachEvent]:
    return [item.model_copy(update={"event_id": f"{name}-{item.event_id}"}) for item in emails(count, DAY, start=start)]


def levels(alerts: list[Alert]) -> list[AlertLevel]:
    return [alert.level for alert in alerts]


def first_wave(scorer: Scorer) -> datetime:
    """Five e-mails on five days, then the cool-down passes calmly: announced up, then resolved by the sweep."""
    first = wave(T0, name="a")
    assert levels(scorer.deliver(first, first[-1].occurred_at))[-1] is AlertLevel.STALKING
    fallen = first[-1].occurred_at + 8 * DAY
    assert levels(scorer.sweep(fallen)) == [AlertLevel.RESOLVED]
    return fallen


def test_a_second_wave_no_worse_within_the_window_is_not_announced_again() -> None:
    scorer = Scorer()
    fallen = first_wave(scorer)
    second = wave(fallen + 10 * DAY, name="b")
    assert scorer.deliver(second, second[-1].occurred_at) == [], "the same story again: damped"
    state = asyncio.run(scorer.store.load_many(["acme:c-1"]))["acme:c-1"]
    pair = state.pairs["rep-1"]
    assert (pair.alerted, pair.announced) == ("stalking", "ok"), "judged stalking, readers were told ok"
    assert decode(encode(state)) == state, "what readers were told survives the store"
    assert scorer.sweep(second[-1].occurred_at + 8 * DAY) == [], "and its quiet end is no news either"


def test_a_wave_after_the_window_or_after_the_contact_engaged_is_announced() -> None:
    late = Scorer()
    fallen = first_wave(late)
    third = wave(fallen + 40 * DAY, name="c")
    assert AlertLevel.STALKING in levels(late.deliver(third, third[-1].occurred_at)), "30 days passed: news again"

    engaged = Scorer()
    fallen = first_wave(engaged)
    answer = reply("r", fallen + DAY)
    second = wave(fallen + 10 * DAY, name="b")
    engaged.deliver([answer], answer.occurred_at)
    assert AlertLevel.STALKING in levels(engaged.deliver(second, second[-1].occurred_at)), "a new story"


def test_a_second_wave_that_goes_further_is_announced() -> None:
    scorer = Scorer()
    first = wave(T0, count=3, name="a")
    assert levels(scorer.deliver(first, first[-1].occurred_at)) == [AlertLevel.NUISANCE]
    fallen = first[-1].occurred_at + 8 * DAY
    assert levels(scorer.sweep(fallen)) == [AlertLevel.RESOLVED]
    second = wave(fallen + 10 * DAY, name="b")
    alerts = scorer.deliver(second, second[-1].occurred_at)
    assert AlertLevel.NUISANCE not in levels(alerts), "as far as the first wave went: damped"
    assert levels(alerts)[-1] is AlertLevel.STALKING
    assert alerts[0].previous_level == "ok", "announced against what readers were told"


def test_damping_off_announces_every_wave() -> None:
    scorer = Scorer(parse_policy({"alerts": {"damping": "0s"}}))
    fallen = first_wave(scorer)
    second = wave(fallen + 10 * DAY, name="b")
    assert AlertLevel.STALKING in levels(scorer.deliver(second, second[-1].occurred_at))


TEAM = ("rep-1", "rep-2", "rep-3")
TEAM_POLICY = {
    "rules": {"unanswered_window": "14d"},
    "rapport": {"tiers": {"acquaintance": 50, "established": 60, "trusted": 70}},
}
"""Unanswered touches count for two weeks, so each wave is judged on its own (the same wave, the same level), and
one reply earns no looser tier: what the engagement changes is the story, not the limits."""


def team_wave(start: datetime, name: str) -> list[OutreachEvent]:
    """Three colleagues write twice each, a day apart: the team reaches watch, no pair on its own does."""
    events = [event for sender in TEAM for event in emails(2, DAY, start=start, sender=sender)]
    named = [event.model_copy(update={"event_id": f"{name}-{event.event_id}"}) for event in events]
    return sorted(named, key=lambda event: event.occurred_at)


def team_levels(alerts: list[Alert]) -> list[AlertLevel]:
    return [alert.level for alert in alerts if alert.scope is Scope.TEAM]


def first_team_wave(scorer: Scorer) -> datetime:
    """The team's watch, announced, then resolved by the sweep once the cool-down passed calmly."""
    first = team_wave(T0, "a")
    alerts = scorer.deliver(first, first[-1].occurred_at)
    assert (levels(alerts), team_levels(alerts)) == ([AlertLevel.WATCH], [AlertLevel.WATCH])
    fallen = first[-1].occurred_at + 8 * DAY
    assert team_levels(scorer.sweep(fallen)) == [AlertLevel.RESOLVED]
    return fallen


def test_the_team_watch_again_within_the_window_is_not_announced_again() -> None:
    scorer = Scorer(parse_policy(TEAM_POLICY))
    fallen = first_team_wave(scorer)
    second = team_wave(fallen + 10 * DAY, "b")
    assert scorer.deliver(second, second[-1].occurred_at) == [], "the team's same story again: damped"
    state = asyncio.run(scorer.store.load_many(["acme:c-1"]))["acme:c-1"]
    assert (state.team_alerted, state.team_announced) == ("watch", "ok"), "judged watch, readers were told ok"
    assert decode(encode(state)) == state, "what readers were told of the team survives the store"
    assert scorer.sweep(second[-1].occurred_at + 8 * DAY) == [], "and its quiet end is no news either"
    third = team_wave(second[-1].occurred_at + 16 * DAY, "c")
    assert scorer.deliver(third, third[-1].occurred_at) == [], "nor a third wave inside the window"


def test_the_team_watch_again_after_the_window_or_an_engagement_is_announced() -> None:
    late = Scorer(parse_policy(TEAM_POLICY))
    fallen = first_team_wave(late)
    second = team_wave(fallen + 40 * DAY, "b")
    assert team_levels(late.deliver(second, second[-1].occurred_at)) == [AlertLevel.WATCH], "30 days passed"

    engaged = Scorer(parse_policy(TEAM_POLICY))
    fallen = first_team_wave(engaged)
    answer = reply("r", fallen + DAY, sender="rep-3")
    engaged.deliver([answer], answer.occurred_at)
    second = team_wave(fallen + 10 * DAY, "b")
    assert team_levels(engaged.deliver(second, second[-1].occurred_at)) == [AlertLevel.WATCH], "answered one: new"
