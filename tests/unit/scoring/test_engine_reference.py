"""The engine judges exactly as the frozen reference engine (tests/unit/engine_reference/) does, on a large generated
corpus: many contacts with several senders, replies, calls, exempt categories, opt-outs and opt-ins, time zones,
late and redelivered events, under the default policy and under policies that stress the bounds and the team.

Made faster, the engine must not change a single judgement: level, scores, reasons, `next_allowed_at` per channel,
alerts and the state left behind. `ENGINE_REFERENCE_SCALE=10` runs a corpus ten times larger.
"""

import asyncio
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas import Channel, Direction, Kind, Outcome, OutreachEvent, Source, contact_key
from services.scoring.engine import judge
from services.scoring.engine.touches import seconds
from services.scoring.policy.file import PolicySet, parse_policy
from services.scoring.processing.processor import Processor
from services.scoring.state.codec import encode
from services.scoring.state.history import ContactState
from services.scoring.state.memory_store import MemoryStore
from tests.unit.engine_reference import judge as reference
from tests.unit.engine_reference.processor import Processor as ReferenceProcessor
from tests.unit.scoring.builders import state_of

SCALE = int(os.environ.get("ENGINE_REFERENCE_SCALE", "1"))
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "Asia/Kolkata"]
CATEGORIES = [None] * 12 + ["transactional", "Support", "newsletter"]
POLICIES: dict[str, dict[str, Any]] = {
    "default": {},
    "tight bounds": {"history": {"max_touches_per_pair": 4, "max_senders_per_contact": 2, "horizon": "70d"}},
    "team of three, gentle phone": {
        "team": {"min_senders": 3, "factor": 1.5},
        "rules": {"quiet_channels": ["sms", "email"], "default_timezone": "Asia/Tokyo"},
        "channel_weights": {"phone_work": 0.5},
    },
    "no team, harsh": {
        "team": {"enabled": False},
        "scoring": {"headroom": 0.8, "cool_down": "2d", "overshoot_cap": 5},
        "consent": {"repeat_from": 3},
    },
}


def contact_events(rng: random.Random, contact: str, tenant: str) -> list[OutreachEvent]:
    """One contact's story in event-time order: bursts and pauses, up to four senders, the contact answering or
    saying stop now and then."""
    senders = [f"rep-{n}" for n in rng.sample(range(6), k=rng.choice([1, 1, 2, 2, 3, 4]))]
    zone = rng.choice([None, *ZONES])
    at = T0 + timedelta(minutes=rng.randrange(60 * 24 * 30))
    answers, says_stop = rng.choice([0.0, 0.05, 0.2, 0.35]), rng.choice([0.0, 0.0, 0.03, 0.08])
    events = []
    for n in range(rng.choice([1, 3, 8, 15, 25, 40])):
        at += timedelta(minutes=rng.choice([1, 30, 90, 600, 1440, 2880, 5000, 12000, 40000]) * rng.random())
        roll = rng.random()
        channel: Channel | None = rng.choice(list(Channel))
        direction, outcome = Direction.OUTBOUND, rng.choice([None, None, None, *Outcome])
        if roll < says_stop * 0.6:
            kind, direction, outcome = Kind.OPT_OUT, Direction.INBOUND, None
            channel = rng.choice([None, Channel.EMAIL, Channel.PHONE_MOBILE, channel])
        elif roll < says_stop:
            kind, direction, outcome = Kind.OPT_IN, Direction.INBOUND, None
            channel = rng.choice([None, Channel.EMAIL, channel])
        elif roll < says_stop + answers:
            kind, direction = rng.choice([Kind.REPLY, Kind.MESSAGE, Kind.MEETING]), Direction.INBOUND
        else:
            kind = rng.choice([Kind.MESSAGE, Kind.MESSAGE, Kind.CALL, Kind.VOICEMAIL, Kind.MEETING])
        if channel is None and not kind.is_consent:
            channel = Channel.EMAIL
        events.append(
            OutreachEvent(
                event_id=f"{contact}-{n}",
                tenant=tenant,
                source=Source.GENERIC,
                occurred_at=at,
                received_at=at + timedelta(minutes=1),
                sender_id=rng.choice(senders),
                contact_id=contact,
                contact_timezone=zone if rng.random() < 0.8 else rng.choice([None, *ZONES]),
                channel=channel,
                direction=direction,
                kind=kind,
                outcome=None if kind.is_consent else outcome,
                category=None if kind.is_consent else rng.choice(CATEGORIES),
            )
        )
    return events


def arrival(rng: random.Random, events: list[OutreachEvent]) -> list[OutreachEvent]:
    """Mostly in order, some late, some delivered twice."""
    arrived = list(events)
    for _ in range(len(events) // 6):
        index = rng.randrange(len(arrived))
        arrived.insert(min(len(arrived), index + rng.randrange(1, 12)), arrived.pop(index))
    for _ in range(len(events) // 10):
        arrived.insert(rng.randrange(len(arrived) + 1), rng.choice(events))
    return arrived


def corpus(seed: int, contacts: int) -> list[list[OutreachEvent]]:
    """Batches of events of interleaved contacts, as a partition delivers them."""
    rng = random.Random(seed)
    streams = [arrival(rng, contact_events(rng, f"c-{seed}-{n}", "acme")) for n in range(contacts)]
    merged: list[OutreachEvent] = []
    while streams:
        stream = rng.choice(streams)
        taken = rng.randint(1, 4)
        merged += stream[:taken]
        del stream[:taken]
        streams = [stream for stream in streams if stream]
    batches = []
    while merged:
        size = rng.choice([1, 5, 50, 200])
        batches.append(merged[:size])
        merged = merged[size:]
    return batches


def policy_set(name: str) -> PolicySet:
    return parse_policy(POLICIES[name])


def run(processor: Processor | ReferenceProcessor, store: MemoryStore, batches: list[list[OutreachEvent]]) -> Any:
    """Everything the processor said and left behind, as plain data."""

    async def go() -> list[Any]:
        said = []
        for batch in batches:
            now = max(item.occurred_at for item in batch) + timedelta(hours=1)
            outputs, states = await processor.process(batch, now)
            await processor.save(states)
            said.append(
                (
                    [(item.event_id, score.model_dump()) for item, score in outputs.scored],
                    [alert.model_dump() for alert in outputs.alerts],
                    outputs.duplicates,
                    outputs.consent,
                    outputs.failed,
                )
            )
        keys = sorted({contact_key(item.tenant, item.contact_id) for batch in batches for item in batch})
        states = await store.load_many(keys)
        return [said, {key: encode(state) for key, state in states.items()}]

    return asyncio.run(go())


@pytest.mark.parametrize("policy", list(POLICIES))
def test_the_processor_says_and_keeps_what_the_reference_does(policy: str) -> None:
    batches = corpus(seed=len(policy), contacts=60 * SCALE)
    assert sum(len(batch) for batch in batches) > 800 * SCALE
    policies = policy_set(policy)
    fast = MemoryStore(expire_after=10**12)
    slow = MemoryStore(expire_after=10**12)
    said, kept = run(Processor(fast, policies), fast, batches)
    expected_said, expected_kept = run(ReferenceProcessor(slow, policies), slow, batches)
    assert kept == expected_kept
    for batch, (got, expected) in enumerate(zip(said, expected_said, strict=True)):
        assert got == expected, f"batch {batch} of policy {policy!r}"


def moments(rng: random.Random, state: ContactState) -> Iterator[int]:
    """Instants worth asking about: at and just after each touch, in the night, days later."""
    times = sorted({touch.at for pair in state.pairs.values() for touch in pair.touches}) or [seconds(T0)]
    for _ in range(6):
        base = rng.choice(times)
        yield base + rng.choice([0, 0, 1, 60, 3600, 5 * 3600, 86400, 3 * 86400, 9 * 86400, 40 * 86400])


@pytest.mark.parametrize("policy", list(POLICIES))
def test_every_judgement_and_check_is_the_reference_one(policy: str) -> None:
    """Judged directly at arbitrary instants, not only at touches: as the HTTP check and the sweep ask."""
    rng = random.Random(7 + len(policy))
    policies = policy_set(policy)
    rules = policies.default
    asked = 0
    for n in range(40 * SCALE):
        events = sorted(contact_events(rng, f"c-{n}", "acme"), key=lambda item: item.occurred_at)
        state = state_of(events, rules)
        senders = [*state.pairs, "rep-new"]
        for at in moments(rng, state):
            view, old = judge.ContactView(state, rules), reference.ContactView(state, rules)
            for sender in senders:
                assert judge.judge_pair(view, sender, at) == reference.judge_pair(old, sender, at)
                assert judge.pair_settling(view, sender, at) == reference.pair_settling(old, sender, at)
                channel = rng.choice(list(Channel))
                assert judge.check(view, sender, at, channel) == reference.check(old, sender, at, channel)
                asked += 1
            assert judge.team_level(view, at) == reference.team_level(old, at)
            if state.pairs:
                assert judge.judge_team(view, at, None) == reference.judge_team(old, at, None)
    assert asked > 200 * SCALE
