"""Notification killed mid-delivery: every alert is delivered or dead-lettered, none lost."""

import asyncio
import contextlib
import json
import random
import secrets
import time
from collections import Counter
from pathlib import Path

from aiokafka import AIOKafkaProducer

from schemas import Alert, AlertLevel, contact_key
from services.devstack.ports import free_port
from services.devstack.topic_reader import open_reader
from services.notification.notifier import delivery_id
from services.runtime.topics import create_topics
from tests.harness.alerts import make_alert
from tests.harness.receivers import delivery_ids, running, webhook_receiver
from tests.harness.stack import new_secret
from tests.reliability.report import ScenarioResult
from tests.reliability.traffic import stack_running, topics


async def notification_killed(bootstrap: str, workdir: Path, alerts_count: int, kills: int) -> ScenarioResult:
    """A receiver that drops repeats by webhook-id sees every alert once; a dead channel's alerts reach the DLQ."""
    result = ScenarioResult("notification SIGKILLed mid-delivery: every alert delivered or dead-lettered")
    rng = random.Random(5)
    tenant = f"rn{secrets.token_hex(3)}"
    secret = new_secret()
    alerts = [
        make_alert(
            AlertLevel.WATCH if n % 10 == 0 else AlertLevel.NUISANCE,
            tenant=tenant,
            contact=f"c{n}",
            alert_id=f"{tenant}-a{n}",
        )
        for n in range(alerts_count)
    ]
    to_crm = {delivery_id(a.alert_id, "crm") for a in alerts if a.level is AlertLevel.NUISANCE}
    to_nowhere = {a.alert_id for a in alerts if a.level is AlertLevel.WATCH}
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    with running(webhook_receiver(secret)) as crm:
        routing = workdir / "routing.json"
        routing.write_text(
            json.dumps(
                {
                    "channels": {
                        "crm": {"type": "webhook", "url": crm.url, "secret": secret},
                        "gone": {"type": "webhook", "url": f"http://127.0.0.1:{free_port()}/", "secret": secret},
                    },
                    "routes": {"tenants": {tenant: {"nuisance": ["crm"], "watch": ["gone"]}}},
                }
            )
        )
        env = topics(tenant) | {
            "NOTIFY_ROUTING_FILE": str(routing),
            "NOTIFY_MAX_ATTEMPTS": "2",
            "NOTIFY_BACKOFF_INITIAL_SECONDS": "0.05",
            "NOTIFY_BACKOFF_MAX_SECONDS": "0.1",
            "NOTIFY_ATTEMPT_TIMEOUT_SECONDS": "5",
            "NOTIFICATION_GROUP_ID": f"reliability-{tenant}",
        }
        await create_topics(bootstrap, list(topics(tenant).values()), 3)
        async with stack_running(bootstrap, workdir, ("notification",), **env) as stack:
            await _publish(bootstrap, env["TOPIC_ALERTS"], alerts)
            service = stack.processes["notification"]
            survived = 0
            deadline = time.monotonic() + 300
            while survived < kills and not to_crm <= set(delivery_ids(crm.accepted())):
                await asyncio.sleep(rng.uniform(0.5, 2.0))
                service.kill()
                service.start()
                await asyncio.to_thread(service.wait_ready)
                survived += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.to_thread(
                    crm.wait_for,
                    lambda r: to_crm <= set(delivery_ids(r.accepted())),
                    max(1.0, deadline - time.monotonic()),
                )
            dead = await _dead_lettered(bootstrap, env["TOPIC_ALERTS_DLQ"], to_nowhere, wait_seconds=120)
    arrivals = Counter(delivery_ids(crm.accepted()))
    delivered = to_crm & arrivals.keys()
    result.figures |= {
        "alerts sent": len(alerts),
        "alerts for the live receiver": len(to_crm),
        "delivered (distinct webhook ids)": len(delivered),
        "repeat deliveries dropped by webhook-id": sum(arrivals.values()) - len(arrivals),
        "alerts for the dead channel": len(to_nowhere),
        "dead-lettered": len(dead & to_nowhere),
        "kills survived": survived,
        "requests cut off by a kill": crm.cut_off,
        "lost": len(to_crm - delivered) + len(to_nowhere - dead),
    }
    result.must_be_zero("lost")
    result.check("no signature problem at the receiver", crm.problems() == [], str(crm.problems()[:3]))
    result.check("notification was killed at least once", survived >= 1, f"{survived} kills")
    return result


async def _publish(bootstrap: str, topic: str, alerts: list[Alert]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for alert in alerts:
            await producer.send(
                topic,
                alert.model_dump_json().encode(),
                key=contact_key(alert.tenant, alert.contact_id).encode(),
            )
        await producer.flush()
    finally:
        await producer.stop()


async def _dead_lettered(bootstrap: str, topic: str, alert_ids: set[str], wait_seconds: float) -> set[str]:
    found: set[str] = set()
    consumer = await open_reader(bootstrap, topic, "beginning")
    try:
        deadline = time.monotonic() + wait_seconds
        while not alert_ids <= found and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for record in (r for batch in batches.values() for r in batch):
                try:
                    found.add(json.loads(record.value)["alert_id"])
                except (ValueError, KeyError, TypeError):
                    continue
    finally:
        await consumer.stop()
    return found
