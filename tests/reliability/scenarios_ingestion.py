"""Ingestion under fire: killed mid-stream, and the broker gone mid-stream."""

import asyncio
import secrets
from pathlib import Path

from services.devstack.apache_kafka import ApacheKafka
from services.runtime.topics import create_topics
from tests.reliability.report import ScenarioResult
from tests.reliability.traffic import (
    Delivery,
    event_ids_on,
    make_events,
    outage,
    posting,
    stack_running,
    topics,
)


async def ingestion_killed(bootstrap: str, workdir: Path, events_count: int, kills: int) -> ScenarioResult:
    """Every event answered 202 is on outreach.events, however often ingestion dies."""
    result = ScenarioResult("ingestion SIGKILLed while taking webhooks: every 202 is on the topic")
    name = f"ik{secrets.token_hex(3)}"
    events = make_events(name, events_count, contacts=2000, senders=50)
    delivery = Delivery()
    env = topics(name)
    await create_topics(bootstrap, list(env.values()), 6)
    async with stack_running(bootstrap, workdir, ("ingestion",), **env) as stack:
        ingestion = stack.processes["ingestion"]
        sending = posting(stack, events, delivery, pause=lambda: 0.01)
        survived = 0
        marks = [len(events) * (n + 1) // (kills + 1) for n in range(kills)]
        while not sending.done() and survived < kills:
            if len(delivery.accepted) >= marks[survived]:
                ingestion.kill()
                ingestion.start()
                await asyncio.to_thread(ingestion.wait_ready)
                survived += 1
            await asyncio.sleep(0.02)
        await sending
    on_topic = await event_ids_on(bootstrap, env["TOPIC_EVENTS"], delivery.accepted, wait_seconds=120)
    lost = delivery.accepted - on_topic.keys()
    result.figures |= {
        "events sent": len(events),
        "events answered 202": len(delivery.accepted | delivery.duplicates),
        "events on outreach.events": len(on_topic.keys() & {e["event_id"] for e in events}),
        "kills survived": survived,
        "requests cut by a kill": sum(n for s, n in delivery.statuses.items() if not s.isdigit()),
        "lost (202 but not on topic)": len(lost),
    }
    result.must_be_zero("lost (202 but not on topic)")
    result.check("ingestion was killed at least once", survived >= 1, f"{survived} kills")
    return result


async def broker_outage(workdir: Path, events_count: int, outage_seconds: float) -> ScenarioResult:
    """While Kafka is down ingestion answers 503, never 202; afterwards every 202 is scored."""
    result = ScenarioResult("Kafka stopped during ingestion: 503 while down, nothing acknowledged is lost")
    kafka = ApacheKafka()
    kafka.start()
    try:
        events = make_events(f"bo{secrets.token_hex(3)}", events_count, contacts=500, senders=20)
        delivery = Delivery()
        async with stack_running(
            kafka.bootstrap, workdir, ("ingestion", "scoring"), PUBLISH_TIMEOUT_SECONDS="2"
        ) as stack:
            sending = posting(stack, events, delivery, batch_size=20, concurrency=2, pause=lambda: 0.05)
            await asyncio.sleep(3)
            down = await outage(kafka.stop, kafka.start, f"{stack.url('ingestion')}/readyz", outage_seconds)
            await sending
            while_down = delivery.statuses_between(down.started, down.ended)
            # the scorer must still run while it catches up after the outage: stopping it with the last webhook
            # would count events it had not reached yet as lost
            scored = await event_ids_on(kafka.bootstrap, "outreach.scores", delivery.accepted, wait_seconds=180)
        lost = delivery.accepted - scored.keys()
        result.figures |= {
            "events sent": len(events),
            "events accepted (202)": len(delivery.accepted),
            "outage seconds": down.seconds,
            "requests answered while down": sum(while_down.values()),
            "503 while down": while_down.get("503", 0),
            "202 while down": while_down.get("202", 0),
            "accepted events scored": len(delivery.accepted & scored.keys()),
            "lost (202 but never scored)": len(lost),
        }
        result.must_be_zero("202 while down")
        result.must_be_zero("lost (202 but never scored)")
        result.check("some requests were answered 503 while down", while_down.get("503", 0) > 0)
        result.check("/readyz answered 503 while Kafka was down", down.went_unready)
        result.check("/readyz answered 200 again after Kafka came back", down.recovered)
    finally:
        kafka.destroy()
    return result
