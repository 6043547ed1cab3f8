"""Hostile input: poison on the events topic, fuzzed webhooks, forged, stale and replayed requests."""

import asyncio
import json
import secrets
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from schemas import OutreachEvent
from services.devstack.topic_reader import open_reader
from services.runtime.standard_webhooks import decode_secret, signed_headers
from services.runtime.topics import create_topics
from tests.harness.events import event
from tests.harness.stack import Stack
from tests.reliability.report import ScenarioResult
from tests.reliability.traffic import event_ids_on, make_events, stack_running, topics

POISON: list[tuple[str, bytes]] = [
    ("not json", b"\x00\xffnot json at all"),
    ("empty", b""),
    ("json array", b"[1, 2, 3]"),
    ("missing fields", b'{"event_id": "x"}'),
    ("wrong types", b'{"event_id": 5, "tenant": [], "occurred_at": "yesterday"}'),
    ("naive time", b'{"event_id": "n", "source": "generic", "occurred_at": "2026-01-01T00:00:00"}'),
    ("oversized", b'{"event_id": "' + b"x" * 700_000 + b'"}'),
]


def good_event(run_id: str, n: int) -> OutreachEvent:
    return event(f"{run_id}-good-{n}", datetime.now(UTC) - timedelta(minutes=1), tenant="poison", contact=f"c{n % 7}")


async def poison_on_topic(bootstrap: str, workdir: Path, good_count: int) -> ScenarioResult:
    """Malformed and oversized messages land on the dead-letter topic with reasons; good ones flow."""
    result = ScenarioResult("poison put straight on outreach.events: dead-lettered with reasons, good ones flow")
    run_id = f"po{secrets.token_hex(3)}"
    markers = {f"{run_id}-{name}": value for name, value in POISON}
    env = topics(run_id)
    await create_topics(bootstrap, list(env.values()), 3)
    async with stack_running(bootstrap, workdir, ("scoring",), **env) as stack:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=2_000_000)
        await producer.start()
        try:
            for n in range(good_count):
                event = good_event(run_id, n)
                await producer.send_and_wait(
                    env["TOPIC_EVENTS"], event.model_dump_json().encode(), key=event.contact_key.encode()
                )
                if n % max(1, good_count // len(markers)) == 0 and markers:
                    marker, value = markers.popitem()
                    await producer.send_and_wait(env["TOPIC_EVENTS"], value, key=marker.encode())
            for marker, value in markers.items():
                await producer.send_and_wait(env["TOPIC_EVENTS"], value, key=marker.encode())
        finally:
            await producer.stop()
        good_ids = {good_event(run_id, n).event_id for n in range(good_count)}
        scored = await event_ids_on(bootstrap, env["TOPIC_SCORES"], good_ids, wait_seconds=120)
        dead = await _dead_letters(bootstrap, env["TOPIC_EVENTS_DLQ"], run_id, len(POISON), wait_seconds=60)
        async with httpx.AsyncClient(timeout=5) as client:
            scoring_ready = (await client.get(f"{stack.url('scoring')}/readyz")).status_code == 200
    with_reason = sum(1 for headers in dead.values() if headers.get("dlq_error"))
    result.figures |= {
        "good events sent": good_count,
        "good events scored": len(good_ids & scored.keys()),
        "poison messages sent": len(POISON),
        "poison messages dead-lettered": len(dead),
        "dead letters with a reason header": with_reason,
        "good events lost": len(good_ids - scored.keys()),
    }
    result.must_be_zero("good events lost")
    result.check("every poison message is on the dead-letter topic", len(dead) == len(POISON), f"{sorted(dead)}")
    result.check("every dead letter says why", with_reason == len(POISON))
    result.check("scoring is still ready", scoring_ready)
    return result


async def _dead_letters(
    bootstrap: str, topic: str, run_id: str, expected: int, wait_seconds: float
) -> dict[str, dict[str, str]]:
    consumer = await open_reader(bootstrap, topic, "beginning")
    found: dict[str, dict[str, str]] = {}
    try:
        deadline = time.monotonic() + wait_seconds
        while len(found) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for record in (r for batch in batches.values() for r in batch):
                key = (record.key or b"").decode(errors="replace")
                if key.startswith(run_id):
                    found[key] = {k: v.decode(errors="replace") for k, v in record.headers}
    finally:
        await consumer.stop()
    return found


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
FIELDS = ["event_id", "tenant", "occurred_at", "sender", "contact", "channel", "direction", "kind", "outcome"]
event_like = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=len(FIELDS)).map(
    lambda fields: make_events("fz", 1, 3, 3)[0] | fields
)
bodies = st.one_of(
    event_like.map(lambda e: json.dumps(e).encode()),
    st.lists(event_like, max_size=5).map(lambda es: json.dumps({"events": es}).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=512),
)
signings = st.sampled_from(["valid", "valid", "forged", "stale", "missing", "garbage"])


def fuzz_webhooks(stack: Stack, cases: int) -> tuple[Counter[str], list[str]]:
    """`cases` generated requests over every webhook endpoint; returns status counts and any 5xx samples."""
    key = decode_secret(stack.secret)
    base = stack.url("ingestion")
    paths = sorted(p for p in httpx.get(f"{base}/openapi.json", timeout=10).json()["paths"] if "/webhooks/" in p)
    statuses: Counter[str] = Counter()
    failures: list[str] = []

    with httpx.Client(base_url=base, timeout=30) as client:

        @settings(
            max_examples=cases,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(path=st.sampled_from(paths), body=bodies, signing=signings)
        def one_request(path: str, body: bytes, signing: str) -> None:
            now = int(time.time())
            headers: dict[str, str] = {"content-type": "application/json"}
            if signing == "valid":
                headers = signed_headers(key, f"fz-{secrets.token_hex(6)}", body, now)
            elif signing == "forged":
                headers = signed_headers(secrets.token_bytes(32), "fz", body, now)
            elif signing == "stale":
                headers = signed_headers(key, "fz", body, now - 3600)
            elif signing == "garbage":
                headers |= {"webhook-id": "%00;\\", "webhook-timestamp": "-1", "webhook-signature": "v1,,,"}
            try:
                status = str(client.post(path, content=body, headers=headers).status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            statuses[status] += 1
            if not status.isdigit() or status.startswith("5"):
                failures.append(f"{path} {signing} -> {status}: {body[:80]!r}")

        one_request()
    return statuses, failures


async def hostile_webhooks(bootstrap: str, workdir: Path, cases: int) -> ScenarioResult:
    """Fuzzed requests cause no 5xx and no crash; forged, stale and replayed requests add nothing."""
    result = ScenarioResult("fuzzed, forged, stale and replayed webhooks: no 5xx, nothing let through")
    env = topics(f"hw{secrets.token_hex(3)}")
    await create_topics(bootstrap, list(env.values()), 3)
    async with stack_running(bootstrap, workdir, ("ingestion",), **env) as stack:
        statuses, failures = await asyncio.to_thread(fuzz_webhooks, stack, cases)
        alive = stack.processes["ingestion"].process is not None and stack.processes["ingestion"].process.poll() is None
        forged, stale, replay_first, replay_again, event_id = _forged_stale_replayed(stack)
    on_topic = await event_ids_on(bootstrap, env["TOPIC_EVENTS"], {event_id}, wait_seconds=30)
    result.figures |= {
        "fuzz cases": sum(statuses.values()),
        "fuzz 5xx or connection errors": len(failures),
        "fuzz 2xx": sum(n for s, n in statuses.items() if s.startswith("2")),
        "fuzz 4xx": sum(n for s, n in statuses.items() if s.startswith("4")),
        "replayed event copies on topic": on_topic.get(event_id, 0),
    }
    result.must_be_zero("fuzz 5xx or connection errors")
    result.check("ingestion survived the fuzzing", alive)
    result.check("a forged signature is refused with 401", forged == 401, str(forged))
    result.check("a stale timestamp is refused with 401", stale == 401, str(stale))
    result.check("the original request is accepted", replay_first == 202, str(replay_first))
    result.check(
        "a replayed request publishes nothing new",
        on_topic.get(event_id, 0) == 1,
        f"replay answered {replay_again}, event on topic {on_topic.get(event_id, 0)} time(s)",
    )
    if failures:
        result.error = "; ".join(failures[:5])
    return result


def _forged_stale_replayed(stack: Stack) -> tuple[int, int, int, int, str]:
    event: dict[str, Any] = make_events(f"rp{secrets.token_hex(3)}", 1, 1, 1)[0]
    body = json.dumps(event).encode()
    url = f"{stack.url('ingestion')}/v1/webhooks/generic"
    key = decode_secret(stack.secret)
    now = int(time.time())
    forged = httpx.post(url, content=body, headers=signed_headers(secrets.token_bytes(32), "f", body, now))
    stale = httpx.post(url, content=body, headers=signed_headers(key, "s", body, now - 600))
    original = signed_headers(key, f"rp-{secrets.token_hex(4)}", body, now)
    first = httpx.post(url, content=body, headers=original)
    again = httpx.post(url, content=body, headers=original)
    return forged.status_code, stale.status_code, first.status_code, again.status_code, event["event_id"]
