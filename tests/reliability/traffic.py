"""Generated outreach traffic, posted through the signed webhook, and what came out on the topics."""

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from services.devstack.topic_reader import open_reader
from services.runtime.standard_webhooks import decode_secret, signed_headers
from tests.harness.stack import Stack, running_stack

UNTHROTTLED = {"TENANT_RATE_LIMIT_PER_SECOND": "1000000", "TENANT_RATE_LIMIT_BURST": "1000000"}
"""The scenarios push one tenant far past a CRM's rate on purpose; the per-tenant limit is not what they test."""

NO_SWEEP = {"SCORING_SWEEP_SECONDS": "0"}
"""Scenarios compare a run's state and alerts with a clean run's. The events are weeks old, so the wall-clock sweep
resolves pairs at moments no two runs share; it is off here. Its own guarantees (each fall once, across replicas
and restarts) are tested in tests/integration/test_scoring_sweep.py and tests/unit/scoring/test_sweep.py."""


def topics(name: str) -> dict[str, str]:
    """Topic settings of a scenario's own (`rel.<name>.*`): scenarios must not read each other's traffic."""
    prefix = f"rel.{name}"
    return {
        "TOPIC_EVENTS": f"{prefix}.events",
        "TOPIC_EVENTS_DLQ": f"{prefix}.events.dlq",
        "TOPIC_SCORES": f"{prefix}.scores",
        "TOPIC_ALERTS": f"{prefix}.alerts",
        "TOPIC_NOTIFICATIONS": f"{prefix}.notifications",
        "TOPIC_ALERTS_DLQ": f"{prefix}.alerts.dlq",
    }


CHANNELS = ["email", "email", "email", "phone_work", "phone_mobile", "sms", "linkedin"]


def make_events(run_id: str, count: int, contacts: int, senders: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` touches spread over 30 days between `senders` senders and `contacts` contacts, some answered."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=30)
    events = []
    for n in range(count):
        inbound = rng.random() < 0.1
        channel = rng.choice(CHANNELS)
        events.append(
            {
                "event_id": f"{run_id}-{n}",
                "tenant": "rel",
                "occurred_at": (start + timedelta(seconds=rng.randrange(30 * 86400))).isoformat(),
                "sender": {"id": f"s{rng.randrange(senders)}"},
                "contact": {"id": f"c{rng.randrange(contacts)}", "timezone": "Europe/Berlin"},
                "channel": channel,
                "direction": "inbound" if inbound else "outbound",
                "kind": "reply" if inbound else ("call" if channel.startswith("phone") else "message"),
            }
        )
    return events


@dataclass
class Delivery:
    """The outcome of posting traffic: which events got a 202 'accepted', and what else happened."""

    accepted: set[str] = field(default_factory=set)
    duplicates: set[str] = field(default_factory=set)
    statuses: Counter[str] = field(default_factory=Counter)
    timeline: list[tuple[float, float, str]] = field(default_factory=list)
    """(sent, answered, status) per request, on the monotonic clock."""

    def statuses_between(self, start: float, end: float) -> Counter[str]:
        """Statuses of requests sent and answered entirely inside [start, end]."""
        return Counter(status for sent, answered, status in self.timeline if sent >= start and answered <= end)

    @property
    def five_xx(self) -> int:
        return sum(count for status, count in self.statuses.items() if status.startswith("5"))


async def post_events(
    url: str,
    secret: str,
    events: list[dict[str, Any]],
    delivery: Delivery,
    *,
    batch_size: int = 250,
    concurrency: int = 4,
    retry_until_accepted: bool = False,
    pause: Callable[[], float] = lambda: 0.0,
) -> None:
    """Post `events` in signed batches; a batch that is not answered 202 is retried when asked to."""
    key = decode_secret(secret.split(maxsplit=1)[0])
    batches = [events[i : i + batch_size] for i in range(0, len(events), batch_size)]
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            batch = queue.get_nowait()
            body = json.dumps({"events": batch}).encode()
            headers = signed_headers(key, f"msg-{batch[0]['event_id']}-{time.monotonic_ns()}", body, int(time.time()))
            sent = time.monotonic()
            try:
                response = await client.post("/v1/webhooks/generic", content=body, headers=headers)
                status = str(response.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
                response = None
            delivery.statuses[status] += 1
            delivery.timeline.append((sent, time.monotonic(), status))
            if response is not None and response.status_code == 202:
                for result in response.json()["results"]:
                    if result["status"] == "accepted":
                        delivery.accepted.add(result["event_id"])
                    elif result["status"] == "duplicate":
                        delivery.duplicates.add(result["event_id"])
            elif retry_until_accepted:
                queue.put_nowait(batch)
                await asyncio.sleep(0.2)
            await asyncio.sleep(pause())

    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))


async def event_ids_on(bootstrap: str, topic: str, expected: set[str], wait_seconds: float) -> Counter[str]:
    """How often each event id appears on `topic`, reading until all of `expected` are seen or time is up."""
    seen: Counter[str] = Counter()
    consumer = await open_reader(bootstrap, topic, "beginning")
    try:
        deadline = time.monotonic() + wait_seconds
        idle_rounds = 0
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            records = [record for batch in batches.values() for record in batch]
            for record in records:
                try:
                    seen[json.loads(record.value)["event_id"]] += 1
                except (ValueError, KeyError, TypeError):
                    continue
            if expected <= seen.keys():
                idle_rounds += 1
                if idle_rounds >= 2 and not records:
                    break
        return seen
    finally:
        await consumer.stop()


@asynccontextmanager
async def stack_running(bootstrap: str, workdir: Path, names: tuple[str, ...], **env: str) -> AsyncIterator[Stack]:
    """`running_stack` for async scenarios: its blocking start and stop run in a worker thread."""
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    manager = running_stack(bootstrap, workdir, names, **(UNTHROTTLED | NO_SWEEP | env))
    stack = await asyncio.to_thread(manager.__enter__)
    try:
        yield stack
    finally:
        await asyncio.to_thread(manager.__exit__, None, None, None)


async def readyz_becomes(url: str, status: int, wait_seconds: float) -> bool:
    """Whether `/readyz` answers `status` within `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url)).status_code == status:
                    return True
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    return False


def posting(stack: Stack, events: list[dict[str, Any]], delivery: Delivery, **options: Any) -> asyncio.Task[None]:
    """Events posted to the stack's ingestion in the background while a scenario does its damage; every batch
    is retried until it is answered 202, as a CRM would."""
    return asyncio.create_task(
        post_events(stack.url("ingestion"), stack.secret, events, delivery, retry_until_accepted=True, **options)
    )


STEADY = {"batch_size": 100, "concurrency": 2}
"""Small batches from two senders: traffic that is still flowing when an outage starts and ends."""


@dataclass
class Outage:
    started: float
    ended: float
    went_unready: bool
    """`/readyz` answered 503 while the dependency was down."""
    recovered: bool
    """`/readyz` answered 200 again after it came back."""

    @property
    def seconds(self) -> float:
        return round(self.ended - self.started, 1)


async def outage(
    stop: Callable[[], None], start: Callable[[], None], ready_url: str, seconds: float, recovery_seconds: float = 60
) -> Outage:
    """Take a dependency away for `seconds` (blocking `stop`/`start` run in a thread) and watch `/readyz`."""
    await asyncio.to_thread(stop)
    started = time.monotonic()
    went_unready = await readyz_becomes(ready_url, 503, wait_seconds=30)
    await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))
    ended = time.monotonic()
    await asyncio.to_thread(start)
    recovered = await readyz_becomes(ready_url, 200, wait_seconds=recovery_seconds)
    return Outage(started, ended, went_unready, recovered)
