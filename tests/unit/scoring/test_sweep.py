"""Alerts follow the clock: a pair that went quiet is announced resolved (or de-escalated) once its cool-down passes."""

import asyncio
from datetime import datetime, timedelta

from schemas import AlertLevel, Level, OutreachEvent
from services.scoring.policy.file import PolicySet
from services.scoring.processing.processor import Processor
from services.scoring.processing.sweep import Sweeper, Swept
from services.scoring.state.codec import decode, encode
from services.scoring.state.memory_store import MemoryStore
from tests.harness.events import event
from tests.unit.scoring.builders import DAY, T0, emails, reply

PURSUIT = emails(8, DAY)
LAST = PURSUIT[-1].occurred_at


def scored(events: list[OutreachEvent], now: datetime) -> MemoryStore:
    store = MemoryStore(expire_after=10**9)

    async def run() -> None:
        processor = Processor(store, PolicySet())
        _, states = await processor.process(events, now)
        await processor.save(states)

    asyncio.run(run())
    return store


def sweep(store: MemoryStore, now: datetime, save: bool = True) -> Swept:
    async def run() -> Swept:
        sweeper = Sweeper(store, PolicySet())
        swept = await sweeper.sweep(now)
        if save:
            await store.save_many(swept.states)
        return swept

    return asyncio.run(run())


def test_a_stalking_pair_that_went_quiet_is_resolved_by_the_clock_once_and_says_why() -> None:
    store = scored(PURSUIT, LAST)
    assert sweep(store, LAST + 6 * DAY).alerts == [], "still inside the cool-down"
    now = LAST + 8 * DAY
    [resolved] = sweep(store, now).alerts
    assert (resolved.level, resolved.previous_level, resolved.sender_id) == (
        AlertLevel.RESOLVED,
        Level.STALKING,
        "rep-1",
    )
    assert resolved.reasons[0].rule == "cool_down_passed"
    assert resolved.occurred_at == LAST + 7 * DAY, "when it fell, not when it was noticed"
    assert (resolved.emitted_at, resolved.next_allowed_at, resolved.historical) == (now, None, False)
    assert resolved.next_allowed_by_channel == {}, "nothing holds the sender back once resolved"
    assert sweep(store, now + DAY).alerts == [], "announced once"
    state = asyncio.run(store.load_many(["acme:c-1"]))["acme:c-1"]
    assert (state.pairs["rep-1"].alerted, state.next_due) == (Level.OK, None)


def test_a_sweep_repeated_after_a_crash_yields_the_same_ids_and_one_found_later_the_same_too() -> None:
    store = scored(PURSUIT, LAST)
    first = sweep(store, LAST + 8 * DAY, save=False)
    again = sweep(store, LAST + 9 * DAY)
    assert [a.alert_id for a in first.alerts] == [a.alert_id for a in again.alerts]
    assert first.alerts


def test_a_fall_that_stops_short_of_ok_is_swept_as_a_de_escalation() -> None:
    burst = [event(f"x{n}", T0 + DAY + n * timedelta(hours=3)) for n in range(5)]
    store = scored([reply("r", T0), *burst, event("later", T0 + 5 * DAY)], T0 + 5 * DAY)
    [fall] = sweep(store, T0 + 9 * DAY).alerts
    assert (fall.previous_level, fall.level) == (Level.STALKING, AlertLevel.NUISANCE), "the burst left the cool-down"
    assert fall.next_allowed_at is not None
    assert fall.reasons[0].rule == "cool_down_passed"
    assert len(fall.reasons) > 1, "the rules still holding the lower level follow"
    [resolved] = sweep(store, T0 + 13 * DAY).alerts
    assert (resolved.previous_level, resolved.level) == (Level.NUISANCE, AlertLevel.RESOLVED)


def test_the_due_instant_is_kept_in_the_stored_state() -> None:
    store = scored(PURSUIT, LAST)
    state = asyncio.run(store.load_many(["acme:c-1"]))["acme:c-1"]
    assert state.pairs["rep-1"].due_at == int((LAST + 7 * DAY).timestamp())
    assert decode(encode(state)) == state


def test_replicas_sharing_one_store_each_sweep_only_their_own_contacts_so_a_fall_goes_out_once() -> None:
    """Like Redis under two replicas: one due list, swept by both at the same moment; each replica scores the
    contacts of its own partitions, and the other replica's come first in the list."""
    contacts = [f"c-{n:02}" for n in range(12)]  # one due instant: ties go in key order, as in Redis
    store = scored([item for c in contacts for item in emails_to(c)], LAST)
    mine = {f"acme:{c}" for c in contacts[6:]}

    async def both() -> list[Swept]:
        replicas = [
            Sweeper(store, PolicySet(), batch=2, scores_here=mine.__contains__),
            Sweeper(store, PolicySet(), batch=2, scores_here=lambda key: key not in mine),
        ]
        rounds = []
        for _ in range(4):
            swept = [await replica.sweep(LAST + 8 * DAY) for replica in replicas]  # both, before either saves
            for each in swept:
                await store.save_many(each.states)
            rounds += swept
        return rounds

    rounds = asyncio.run(both())
    resolved = [alert.contact_id for swept in rounds for alert in swept.alerts]
    assert sorted(resolved) == sorted(contacts), "every contact's fall, each once"
    assert [alert.contact_id for alert in rounds[0].alerts] == ["c-06", "c-07"], "its own, past the other's"


def emails_to(contact: str) -> list[OutreachEvent]:
    return [event(f"{contact}-{n}", item.occurred_at, contact=contact) for n, item in enumerate(PURSUIT)]
