"""Properties a sceptic would ask for, checked over many generated histories (hypothesis)."""

import random
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import Channel, Direction, Kind, Level, Outcome, OutreachEvent, Source
from services.scoring.engine.judge import ContactView, pair_level, team_level, verdict
from services.scoring.engine.touches import instant, seconds
from services.scoring.policy.file import PolicySet
from services.scoring.policy.model import Policy
from services.scoring.processing.processor import Processor
from services.scoring.state.codec import encode
from services.scoring.state.memory_store import MemoryStore
from tests.unit.scoring.builders import T0, state_of

POLICY = Policy()
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "America/Los_Angeles"]
MINUTE = 60


@st.composite
def touches(draw: st.DrawFn, senders: int = 3, most: int = 40, span_days: int = 60) -> list[OutreachEvent]:
    """One contact's history: several senders, every channel, replies, exemptions, in random event-time order."""
    zone = draw(st.sampled_from(ZONES))
    count = draw(st.integers(min_value=0, max_value=most))
    events = []
    for n in range(count):
        direction = draw(st.sampled_from([Direction.OUTBOUND] * 4 + [Direction.INBOUND]))
        channel = draw(st.sampled_from(list(Channel)))
        kind = draw(st.sampled_from([kind for kind in Kind if not kind.is_consent]))
        events.append(
            OutreachEvent(
                event_id=f"e-{n}",
                tenant="acme",
                source=Source.GENERIC,
                occurred_at=T0 + timedelta(minutes=draw(st.integers(0, span_days * 24 * 60))),
                received_at=T0 + timedelta(days=span_days + 1),
                sender_id=f"rep-{draw(st.integers(0, senders - 1))}",
                contact_id="c-1",
                contact_timezone=zone,
                channel=channel,
                direction=direction,
                kind=kind,
                outcome=draw(st.sampled_from([None, None, *Outcome])),
                category=draw(st.sampled_from([None, None, None, "transactional"])),
            )
        )
    return events


def breaches_at(events: list[OutreachEvent], sender: str, at: int, channel: Channel) -> list[str]:
    pair, team = ContactView(state_of(events), POLICY).considered(sender, at, channel, as_of=at)
    return [breach.rule for breach in pair.breaches() + ([] if team is None else team.breaches())]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    history=touches(),
    sender=st.sampled_from(["rep-0", "rep-1", "rep-9"]),
    channel=st.sampled_from(list(Channel)),
    wait=st.integers(0, 20 * 24 * 60),
)
def test_a_touch_at_next_allowed_at_breaks_no_rule_and_a_minute_earlier_breaks_one(
    history: list[OutreachEvent], sender: str, channel: Channel, wait: int
) -> None:
    latest = max((seconds(item.occurred_at) for item in history), default=seconds(T0))
    at = latest + wait * MINUTE
    allowed = ContactView(state_of(history), POLICY).next_allowed_at(sender, at, channel)
    assert allowed is not None
    assert allowed >= at
    assert breaches_at(history, sender, allowed, channel) == []
    if allowed - MINUTE >= at:
        assert breaches_at(history, sender, allowed - MINUTE, channel) != []


def final_state(batches: list[list[OutreachEvent]]) -> dict[str, bytes]:
    store = MemoryStore(expire_after=10**9)
    processor = Processor(store, PolicySet())

    async def run() -> None:
        for batch in batches:
            _, states = await processor.process(batch, instant(seconds(T0)))
            await processor.save(states)

    import asyncio

    asyncio.run(run())
    states = asyncio.run(store.load_many(["acme:c-1"]))
    for state in states.values():
        # What readers were told depends on what arrived first, and when (damping, history): judging does not.
        state.team_told, state.team_historical = None, False
        for pair in state.pairs.values():
            pair.told, pair.historical = None, False
    return {key: encode(state) for key, state in states.items()}


def in_batches(events: list[OutreachEvent], rng: random.Random) -> list[list[OutreachEvent]]:
    batches, rest = [], list(events)
    while rest:
        size = rng.randint(1, 6)
        batches.append(rest[:size])
        rest = rest[size:]
    return batches


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=touches(most=45), seed=st.integers(0, 2**32))
def test_shuffled_and_duplicated_delivery_ends_in_the_state_of_in_order_delivery(
    history: list[OutreachEvent], seed: int
) -> None:
    rng = random.Random(seed)
    in_order = sorted(history, key=lambda item: item.occurred_at)
    redelivered = history + rng.sample(history, k=len(history) // 2)
    rng.shuffle(redelivered)
    assert final_state(in_batches(redelivered, rng)) == final_state([in_order])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    history=touches(),
    sender=st.sampled_from(["rep-0", "rep-1"]),
    channel=st.sampled_from(list(Channel)),
    engaged=st.tuples(
        st.sampled_from(["rep-0", "rep-1", "rep-2"]),
        st.sampled_from([Kind.REPLY, Kind.MESSAGE, Kind.MEETING, Kind.CALL]),
        st.integers(0, 60 * 24 * 60),
    ),
    wait=st.integers(0, 10 * 24 * 60),
)
def test_rapport_only_ever_loosens_limits(
    history: list[OutreachEvent], sender: str, channel: Channel, engaged: tuple[str, Kind, int], wait: int
) -> None:
    """One more engagement by the contact never tightens a limit, adds a broken rule, or delays the next touch."""
    replier, kind, engaged_at = engaged
    engagement = OutreachEvent(
        event_id="engagement",
        tenant="acme",
        source=Source.GENERIC,
        occurred_at=T0 + timedelta(minutes=engaged_at),
        received_at=T0,
        sender_id=replier,
        contact_id="c-1",
        channel=Channel.EMAIL,
        direction=Direction.INBOUND,
        kind=kind,
    )
    at = seconds(max([item.occurred_at for item in history] + [engagement.occurred_at])) + wait * MINUTE
    before, after = ContactView(state_of(history), POLICY), ContactView(state_of([*history, engagement]), POLICY)
    judged = [
        [None if situation is None else verdict(situation) for situation in view.considered(sender, at, channel, at)]
        for view in (before, after)
    ]
    for old, new in zip(*judged, strict=True):
        if old is None or new is None:
            assert new is None or not new.breaches
            continue
        assert new.rapport.score >= old.rapport.score
        assert new.score <= old.score
        old_limits = {(breach.rule, breach.window): breach.limit for breach in old.breaches}
        for breach in new.breaches:
            rule = (breach.rule, breach.window)
            assert rule in old_limits, f"{breach.rule} broken only after the contact engaged"
            if breach.rule.endswith("min_gap"):
                assert breach.limit <= old_limits[rule], "a minimum gap may only shrink"
            else:
                assert breach.limit >= old_limits[rule], f"{breach.rule} may only grow"
    later, sooner = before.next_allowed_at(sender, at, channel), after.next_allowed_at(sender, at, channel)
    assert later is not None
    assert sooner is not None
    assert sooner <= later


@st.composite
def histories_with_consent(draw: st.DrawFn) -> list[OutreachEvent]:
    """Touches on distinct minutes, with opt-outs and opt-ins (per channel or for all) half a minute off them."""
    minutes = draw(st.lists(st.integers(0, 40 * 24 * 60), min_size=1, max_size=30, unique=True))
    events = []
    for n, minute in enumerate(minutes):
        is_consent = draw(st.integers(0, 4)) == 0
        channel = draw(st.sampled_from([None, *Channel] if is_consent else list(Channel)))
        if is_consent:
            kind = draw(st.sampled_from([Kind.OPT_OUT, Kind.OPT_OUT, Kind.OPT_IN]))
            direction = Direction.INBOUND
        else:
            kind = draw(st.sampled_from([kind for kind in Kind if not kind.is_consent]))
            direction = draw(st.sampled_from([Direction.OUTBOUND] * 3 + [Direction.INBOUND]))
        events.append(
            OutreachEvent(
                event_id=f"e-{n}",
                tenant="acme",
                source=Source.GENERIC,
                occurred_at=T0 + timedelta(minutes=minute, seconds=30 if is_consent else 0),
                received_at=T0 + timedelta(days=41),
                sender_id=f"rep-{draw(st.integers(0, 2))}",
                contact_id="c-1",
                channel=channel,
                direction=direction,
                kind=kind,
                outcome=None if is_consent else draw(st.sampled_from([None, None, *Outcome])),
                category=None if is_consent else draw(st.sampled_from([None, None, None, "transactional"])),
            )
        )
    return events


def opted_out_by(consent: list[OutreachEvent], touch: OutreachEvent) -> bool:
    """The reference answer: the latest consent event before the touch that names its channel, or every channel."""
    before = [
        item
        for item in consent
        if item.occurred_at < touch.occurred_at and (item.channel is None or item.channel is touch.channel)
    ]
    return bool(before) and max(before, key=lambda item: item.occurred_at).kind is Kind.OPT_OUT


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories_with_consent(), seed=st.integers(0, 2**32))
def test_no_outbound_touch_after_an_opt_out_is_ever_below_nuisance(history: list[OutreachEvent], seed: int) -> None:
    """Whatever the order and batching of delivery, a touch scored once its channel's opt-out is known is at
    least a nuisance: rapport, exemptions elsewhere, replies or an answered call do not soften it."""
    rng = random.Random(seed)
    delivery = list(history)
    rng.shuffle(delivery)
    processor = Processor(MemoryStore(expire_after=10**9), PolicySet())
    known: list[OutreachEvent] = []
    judged: list[tuple[OutreachEvent, Level]] = []

    async def run() -> None:
        for batch in in_batches(delivery, rng):
            outputs, states = await processor.process(batch, instant(seconds(T0)))
            await processor.save(states)
            by_id = {score.event_id: score.level for score in outputs.scores}
            for item in batch:
                if item.kind.is_consent:
                    known.append(item)
                elif item.event_id in by_id and item.direction is Direction.OUTBOUND and item.category is None:
                    judged.append((item, by_id[item.event_id]))
                    if opted_out_by(known, item):
                        assert by_id[item.event_id].rank >= Level.NUISANCE.rank, item

    import asyncio

    asyncio.run(run())
    state = asyncio.run(processor.store.load_many(["acme:c-1"]))["acme:c-1"]
    view = ContactView(state, POLICY)
    for item, _ in judged:
        if opted_out_by([event for event in history if event.kind.is_consent], item):
            at = seconds(item.occurred_at)
            assert pair_level(view, item.sender_id, at).rank >= Level.NUISANCE.rank
            assert team_level(view, at).rank >= Level.NUISANCE.rank, "the team is held to the stop too"
