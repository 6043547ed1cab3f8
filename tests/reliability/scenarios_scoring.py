"""Scoring under fire: killed mid-stream, scaled out with a rebalance, and its Redis store gone mid-stream.

Each scenario writes to topics of its own (`rel.<name>.*`), so a clean single scorer can replay exactly the same
events afterwards and the two final states can be compared pair by pair.
"""

import asyncio
import json
import random
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from services.devstack.ports import free_port
from services.devstack.processes import ServiceProcess
from services.devstack.topic_reader import open_reader
from services.runtime.topics import create_topics
from tests.harness.redis_server import running_redis
from tests.harness.stack import Stack
from tests.reliability.report import ScenarioResult
from tests.reliability.traffic import (
    STEADY,
    Delivery,
    event_ids_on,
    make_events,
    outage,
    posting,
    stack_running,
    topics,
)

SAMPLE_CONTACTS = 300
ALERTS_SEEN: dict[str, tuple[Any, ...]] = {}


def sample_pairs(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Every (tenant, sender, contact) of a fixed sample of contacts: what the final states are compared on."""
    contacts = sorted({e["contact"]["id"] for e in events})
    chosen = set(random.Random(3).sample(contacts, min(SAMPLE_CONTACTS, len(contacts))))
    return sorted({pair_of(e) for e in events if e["contact"]["id"] in chosen})


def pair_of(event: dict[str, Any]) -> tuple[str, str, str]:
    return event["tenant"], event["sender"]["id"], event["contact"]["id"]


async def pair_states(
    url: str, pairs: list[tuple[str, str, str]], auth: dict[str, str]
) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    """Touches remembered, level now and level announced, per pair, as the scorer's API tells them."""
    states: dict[tuple[str, str, str], tuple[Any, ...]] = {}
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=auth) as client:
        for tenant, sender, contact in pairs:
            answer = await client.get(f"/v1/pairs/{tenant}/{sender}/{contact}")
            if answer.status_code != 200:
                states[(tenant, sender, contact)] = ("missing", answer.status_code)
                continue
            body = answer.json()
            states[(tenant, sender, contact)] = (body["touches"], body["level"], body["alerted_level"], body["tier"])
    return states


async def alert_ids(bootstrap: str, topic: str) -> Counter[str]:
    """Every alert id on `topic`, counted (read to the end); `ALERTS_SEEN` keeps what each one said."""
    seen: Counter[str] = Counter()
    consumer = await open_reader(bootstrap, topic, "beginning")
    try:
        idle = 0
        while idle < 3:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            records = [r for batch in batches.values() for r in batch]
            idle = 0 if records else idle + 1
            for record in records:
                alert = json.loads(record.value)
                seen[alert["alert_id"]] += 1
                ALERTS_SEEN[alert["alert_id"]] = (
                    alert["contact_id"],
                    alert["sender_id"],
                    alert["scope"],
                    alert["previous_level"],
                    alert["level"],
                    alert["event_id"],
                    alert["occurred_at"],
                )
    finally:
        await consumer.stop()
    return seen


async def clean_run(
    bootstrap: str, workdir: Path, name: str, expected: set[str], pairs: list[tuple[str, str, str]]
) -> tuple[dict[tuple[str, str, str], tuple[Any, ...]], Counter[str]]:
    """One untroubled scorer (memory store, its own group and output topics) over the scenario's events."""
    clean = topics(name) | {
        "TOPIC_SCORES": f"rel.{name}.clean.scores",
        "TOPIC_ALERTS": f"rel.{name}.clean.alerts",
        "TOPIC_EVENTS_DLQ": f"rel.{name}.clean.dlq",
    }
    await create_topics(bootstrap, [clean["TOPIC_SCORES"], clean["TOPIC_ALERTS"], clean["TOPIC_EVENTS_DLQ"]], 3)
    env = clean | {"STATE_STORE_URL": "memory://", "SCORING_GROUP_ID": f"clean-{name}"}
    async with stack_running(bootstrap, workdir / "clean", ("scoring",), **env) as stack:
        await event_ids_on(bootstrap, clean["TOPIC_SCORES"], expected, wait_seconds=600)
        states = await pair_states(stack.url("scoring"), pairs, stack.auth)
    return states, await alert_ids(bootstrap, clean["TOPIC_ALERTS"])


@dataclass
class ScoringRun:
    """One scoring scenario: its own topics and events, a stack on them, and the events being posted."""

    bootstrap: str
    workdir: Path
    name: str
    events: list[dict[str, Any]]
    delivery: Delivery
    stack: Stack
    sending: "asyncio.Task[None]"


@asynccontextmanager
async def scoring_under_traffic(
    bootstrap: str,
    workdir: Path,
    prefix: str,
    *,
    events_count: int,
    contacts: int,
    store_url: str,
    **post_options: Any,
) -> AsyncIterator[ScoringRun]:
    name = f"{prefix}{secrets.token_hex(3)}"
    await create_topics(bootstrap, list(topics(name).values()), 6)
    events = make_events(name, events_count, contacts=contacts, senders=10)
    delivery = Delivery()
    env = topics(name) | {"STATE_STORE_URL": store_url, "SCORING_GROUP_ID": f"scoring-{name}"}
    async with stack_running(bootstrap, workdir, ("ingestion", "scoring"), **env) as stack:
        sending = posting(stack, events, delivery, **post_options)
        yield ScoringRun(bootstrap, workdir, name, events, delivery, stack, sending)


async def compare_with_clean_run(result: ScenarioResult, run: ScoringRun, scorer_url: str) -> None:
    """Once every event is posted, the figures and checks shared by every scoring scenario: nothing lost,
    nothing doubled, same as a clean run."""
    await run.sending
    bootstrap, workdir, name, events, accepted = run.bootstrap, run.workdir, run.name, run.events, run.delivery.accepted
    env = topics(name)
    scored = await event_ids_on(bootstrap, env["TOPIC_SCORES"], accepted, wait_seconds=600)
    pairs = sample_pairs([e for e in events if e["event_id"] in accepted])
    final = await pair_states(scorer_url, pairs, run.stack.auth)
    expected_touches = Counter(pair_of(e) for e in events if e["event_id"] in accepted)
    alerts = await alert_ids(bootstrap, env["TOPIC_ALERTS"])
    clean, clean_alerts = await clean_run(bootstrap, workdir, name, accepted, pairs)
    miscounted = [p for p in pairs if final[p][0] != expected_touches[p]]
    differing = [p for p in pairs if final[p] != clean[p]]
    result.figures |= {
        "events accepted (202)": len(accepted),
        "accepted events scored": len(accepted & scored.keys()),
        "lost (accepted, never scored)": len(accepted - scored.keys()),
        "events scored more than once": sum(1 for n in scored.values() if n > 1),
        "pairs compared with a clean run": len(pairs),
        "pairs whose touch count is not exact": len(miscounted),
        "pairs whose final state differs": len(differing),
        "alert ids": len(alerts),
        "alert ids appearing twice": sum(1 for n in alerts.values() if n > 1),
        "alert ids unlike the clean run's": len(set(alerts) ^ set(clean_alerts)),
    }
    for figure in (
        "lost (accepted, never scored)",
        "events scored more than once",
        "pairs whose touch count is not exact",
        "pairs whose final state differs",
        "alert ids appearing twice",
        "alert ids unlike the clean run's",
    ):
        result.must_be_zero(figure)
    unlike = sorted(set(alerts) ^ set(clean_alerts))
    if unlike:
        examples = sorted(((ALERTS_SEEN[i], "clean" if i in clean_alerts else "run") for i in unlike), key=str)[:6]
        result.check("alerts unlike the clean run's (examples)", False, "; ".join(map(str, examples)))
    if differing:
        result.check(
            "first differing pair", False, f"{differing[0]}: {final[differing[0]]} vs clean {clean[differing[0]]}"
        )


async def scoring_killed(bootstrap: str, workdir: Path, events_count: int, kills: int) -> ScenarioResult:
    """Every accepted event is counted once and the final levels equal a clean run's, however often scoring dies."""
    result = ScenarioResult("scoring SIGKILLed mid-stream (memory store, rebuilt on restart): same as a clean run")
    rng = random.Random(17)
    async with scoring_under_traffic(
        bootstrap, workdir, "sk", events_count=events_count, contacts=2000, store_url="memory://"
    ) as run:
        scoring = run.stack.processes["scoring"]
        survived = 0
        while survived < kills:
            await asyncio.sleep(rng.uniform(1.0, 4.0))
            scoring.kill()
            scoring.start()
            await asyncio.to_thread(scoring.wait_ready)
            survived += 1
        await compare_with_clean_run(result, run, scoring.url)
    result.figures["kills survived"] = survived
    result.check("scoring was killed while events flowed", survived >= 1, f"{survived} kills")
    return result


async def scoring_scaled_out(bootstrap: str, workdir: Path, events_count: int) -> ScenarioResult:
    """Two, then three replicas on Redis with a rebalance mid-stream: same state as one; checks agree everywhere."""
    result = ScenarioResult("scoring scaled to 2 then 3 replicas with a rebalance mid-stream (Redis): same state")
    with running_redis() as redis:
        traffic = scoring_under_traffic(
            bootstrap,
            workdir,
            "so",
            events_count=events_count,
            contacts=1500,
            store_url=redis.url,
            **STEADY,
            pause=lambda: 0.3,
        )
        async with traffic as run:
            first = run.stack.processes["scoring"]
            replicas = [first]
            for n in (2, 3):
                await asyncio.sleep(3)
                replica = ServiceProcess("scoring", free_port(), first.env, workdir / f"scoring-{n}.log")
                replica.start()
                await asyncio.to_thread(replica.wait_ready)
                replicas.append(replica)
            await asyncio.sleep(3)
            mid_stream = not run.sending.done()
            await asyncio.to_thread(first.stop)
            await compare_with_clean_run(result, run, replicas[1].url)
            answers = await _checks_on(replicas[1:], run.events, run.stack.auth)
            for replica in replicas[1:]:
                await asyncio.to_thread(replica.stop)
    result.figures["replicas at most"] = 3
    result.check("the first replica stopped while events were still arriving", mid_stream)
    result.figures["pre-send checks that differ between replicas"] = answers
    result.must_be_zero("pre-send checks that differ between replicas")
    return result


async def _checks_on(replicas: list[ServiceProcess], events: list[dict[str, Any]], auth: dict[str, str]) -> int:
    """Ask every replica the same pre-send questions; count the questions whose answers differ."""
    questions = [
        {
            "tenant": e["tenant"],
            "sender": e["sender"],
            "contact": e["contact"],
            "channel": "phone_mobile",
            "at": e["occurred_at"],
        }
        for e in random.Random(9).sample(events, 100)
    ]
    differing = 0
    async with httpx.AsyncClient(timeout=30, headers=auth) as client:
        for question in questions:
            answers = [(await client.post(f"{r.url}/v1/check", json=question)).json() for r in replicas]
            differing += any(answer != answers[0] for answer in answers)
    return differing


async def store_outage(bootstrap: str, workdir: Path, events_count: int, outage_seconds: float) -> ScenarioResult:
    """Redis stopped mid-stream: scoring stops committing and is not ready; afterwards nothing is lost."""
    result = ScenarioResult("Redis stopped mid-stream: scoring holds its commits and resumes without loss")
    with running_redis() as redis:
        traffic = scoring_under_traffic(
            bootstrap,
            workdir,
            "ro",
            events_count=events_count,
            contacts=1000,
            store_url=redis.url,
            **STEADY,
            pause=lambda: 0.15,
        )
        async with traffic as run:
            await asyncio.sleep(3)
            mid_stream = not run.sending.done()
            down = await outage(redis.stop, redis.start, f"{run.stack.url('scoring')}/readyz", outage_seconds)
            await compare_with_clean_run(result, run, run.stack.url("scoring"))
    result.figures["store outage seconds"] = down.seconds
    result.check("Redis stopped while events were still arriving", mid_stream)
    result.check("scoring's /readyz answered 503 while Redis was down", down.went_unready)
    result.check("scoring's /readyz answered 200 after Redis came back", down.recovered)
    return result
