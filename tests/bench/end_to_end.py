"""`make bench`, end-to-end part: a signed webhook to its score on `outreach.scores`, at a steady rate.

Ingestion and scoring run as real processes on one broker started here. Events are sent one per signed webhook,
on a fixed schedule (open loop: a slow answer does not slow the sender), for a fixed time; a reader on
`outreach.scores` notes when each event's score arrives. The baseline, measured in the same run at the same rate:
a record produced straight to a topic and read back, i.e. what the broker alone costs. Printed: the achieved
rate, p50/p99 of both, and the goal (200 events/s with p99 ≤ 100 ms from webhook to score).

    python -m tests.bench.end_to_end            (make bench)
"""

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaProducer

from services.devstack.topic_reader import open_reader
from services.runtime.standard_webhooks import decode_secret, signed_headers
from services.runtime.topics import create_topics
from tests.bench.posting import PostPool
from tests.harness.brokers import new_broker
from tests.harness.stack import Stack, running_stack

RATE = 200
TARGET_P99_MS = 100.0
RAW_TOPIC = "bench.e2e.raw"
CONNECTIONS = 32
"""Keep-alive connections to ingestion: a CRM's webhook deliveries arrive over many at once."""

Send = Callable[[int, str], Awaitable[None]]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


@dataclass
class Run:
    rate: float
    """Sends per second achieved."""
    latencies: list[float]
    """Milliseconds from each send to its record on the topic read."""
    answered: list[float]
    """Milliseconds from each send to its answer (ingestion's 202, or the broker's acknowledgement)."""
    lost: int


async def paced(seconds: float, send: Send, topic: str, bootstrap: str, tag: str) -> Run:
    """Sends on schedule and reads `topic` until every event's id came back (or 30 s after the last send)."""
    reader = await open_reader(bootstrap, topic, "end")
    count = int(seconds * RATE)
    sent: dict[str, float] = {}
    answered: list[float] = []
    arrived: dict[str, float] = {}
    failed: list[str] = []

    async def read() -> None:
        while len(arrived) < count:
            for batch in (await reader.getmany(timeout_ms=100)).values():
                now = time.perf_counter()
                for record in batch:
                    event_id = json.loads(record.value or b"{}").get("event_id", "")
                    if event_id.startswith(tag) and event_id not in arrived:
                        arrived[event_id] = now

    async def one(n: int) -> None:
        event_id = f"{tag}-{n}"
        sent[event_id] = time.perf_counter()
        try:
            await send(n, event_id)
            answered.append((time.perf_counter() - sent[event_id]) * 1000)
        except (OSError, asyncio.IncompleteReadError, RuntimeError) as exc:
            failed.append(f"{type(exc).__name__}: {exc}"[:200])

    reading = asyncio.create_task(read())
    try:
        started = time.perf_counter()
        sending = []
        for n in range(count):
            delay = started + n / RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sending.append(asyncio.create_task(one(n)))
        await asyncio.gather(*sending)
        rate = count / (time.perf_counter() - started)
        await asyncio.wait_for(asyncio.shield(reading), 30)
    except TimeoutError:
        pass
    finally:
        reading.cancel()
        await reader.stop()
    if failed:
        print(f"  {tag}: {len(failed)} of {count} sends failed, the first: {failed[0]}", flush=True)
    latencies = [(arrived[event_id] - at) * 1000 for event_id, at in sent.items() if event_id in arrived]
    return Run(rate, latencies, answered, count - len(latencies))


def webhook_sender(stack: Stack, client: PostPool) -> Send:
    key = decode_secret(stack.secret)
    start = datetime.now(UTC) - timedelta(days=1)

    async def send(n: int, event_id: str) -> None:
        body = json.dumps(
            {
                "event_id": event_id,
                "tenant": "bench",
                "occurred_at": (start + timedelta(seconds=n)).isoformat(),
                "sender": {"id": f"rep-{n % 20}"},
                "contact": {"id": f"contact-{n % 2000}"},
                "channel": "email",
                "direction": "outbound",
                "kind": "message",
            }
        ).encode()
        headers = signed_headers(key, f"msg-{event_id}", body, int(time.time()))
        status, answer = await client.post(body, headers | {"Content-Type": "application/json"})
        if status != 202:
            raise RuntimeError(f"ingestion answered {status}: {answer[:300]!r}")

    return send


def raw_sender(producer: AIOKafkaProducer) -> Send:
    async def send(n: int, event_id: str) -> None:
        await producer.send_and_wait(RAW_TOPIC, json.dumps({"event_id": event_id}).encode(), key=str(n).encode())

    return send


async def measure(stack: Stack, seconds: float) -> dict[str, Run]:
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        url = f"{stack.url('ingestion')}/v1/webhooks/generic"
        async with PostPool(url, CONNECTIONS) as client:
            await paced(2, webhook_sender(stack, client), "outreach.scores", stack.bootstrap, "warm")
        raw = await paced(seconds, raw_sender(producer), RAW_TOPIC, stack.bootstrap, "raw")
        async with PostPool(url, CONNECTIONS) as client:
            webhook = await paced(seconds, webhook_sender(stack, client), "outreach.scores", stack.bootstrap, "e2e")
        return {"raw": raw, "webhook": webhook}
    finally:
        await producer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    broker = new_broker()
    workdir = Path(tempfile.mkdtemp(prefix="rg-bench-e2e-"))
    print(f"starting {broker.name} …", flush=True)
    broker.start()
    try:
        asyncio.run(create_topics(broker.bootstrap, [RAW_TOPIC], partitions=3))
        with running_stack(broker.bootstrap, workdir, ("ingestion", "scoring"), LOG_LEVEL="WARNING") as stack:
            results = asyncio.run(measure(stack, args.seconds))
        report(results, args.seconds)
    except BaseException:
        print(f"bench failed; logs kept in {workdir}", file=sys.stderr)
        raise
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    finally:
        broker.destroy()


def report(results: dict[str, Run], seconds: float) -> None:
    print(f"end to end: {RATE} events/s for {seconds:.0f} s, one event per request, open loop")
    labels = {
        "raw": ("broker alone (produce → read)", "acknowledged"),
        "webhook": ("signed webhook → score", "202 answered"),
    }
    for name, run in results.items():
        label, answer = labels[name]
        print(
            f"  {label:32} done {run.rate:6.0f}/s  p50 {percentile(run.latencies, 0.5):7.1f} ms"
            f"  p99 {percentile(run.latencies, 0.99):7.1f} ms  never arrived {run.lost}"
        )
        print(
            f"  {'':32} {answer}: p50 {percentile(run.answered, 0.5):7.1f} ms"
            f"  p99 {percentile(run.answered, 0.99):7.1f} ms"
        )
    webhook = results["webhook"]
    p99 = percentile(webhook.latencies, 0.99)
    raw_p99 = percentile(results["raw"].latencies, 0.99)
    met = webhook.rate >= 0.95 * RATE and p99 <= TARGET_P99_MS and webhook.lost == 0
    print(
        f"  ratio p99 webhook / broker alone: {p99 / raw_p99:.1f}×"
        f"  (goal {RATE} events/s with p99 ≤ {TARGET_P99_MS:.0f} ms: {'met' if met else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
