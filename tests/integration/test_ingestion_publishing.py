"""Many requests at once share Kafka record batches: still one record per event, keyed and placed as Kafka would."""

import asyncio
import json
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas import OutreachEvent
from services.devstack.topic_reader import open_reader
from services.runtime.partitioning import partition_for
from services.runtime.standard_webhooks import decode_secret, signed_headers
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker, new_broker
from tests.harness.stack import Stack, running_stack

REQUESTS = 12
EVENTS_PER_REQUEST = 60
PARTITIONS = 3  # running_stack creates outreach.events with 3


@pytest.fixture(scope="module")
def ingestion(
    kafka: ApacheTestBroker | EmbeddedTestBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("ingestion-publishing")
    with running_stack(kafka.bootstrap, logs, names=("ingestion",), TENANT_RATE_LIMIT_BURST="100000") as stack:
        yield stack


def batch(tag: str, request: int) -> list[dict[str, Any]]:
    """Each request touches the same 20 contacts three times each, in order."""
    start = datetime(2026, 11, 2, tzinfo=UTC)
    return [
        {
            "event_id": f"{tag}-{request}-{n}",
            "tenant": f"t{n % 2}",
            "occurred_at": (start + timedelta(minutes=n)).isoformat(),
            "sender": {"id": f"rep-{request}"},
            "contact": {"email": f"person{n % 20}@example.org"} if n % 3 else {"id": f"contact-{n % 20}"},
            "channel": "email",
            "direction": "outbound",
            "kind": "message",
        }
        for n in range(EVENTS_PER_REQUEST)
    ]


async def post_all(stack: Stack, tag: str) -> list[httpx.Response]:
    key = decode_secret(stack.secret)
    async with httpx.AsyncClient(timeout=30) as client:

        async def post(request: int) -> httpx.Response:
            body = json.dumps({"events": batch(tag, request)}).encode()
            headers = signed_headers(key, f"msg-{tag}-{request}", body, int(time.time()))
            return await client.post(f"{stack.url('ingestion')}/v1/webhooks/generic", content=body, headers=headers)

        return list(await asyncio.gather(*(post(request) for request in range(REQUESTS))))


async def records_tagged(stack: Stack, tag: str, count: int) -> list[tuple[int, int, bytes | None, OutreachEvent]]:
    """(partition, offset, key, event) of every record of this test's run, read until `count` arrived."""
    consumer = await open_reader(stack.bootstrap, "outreach.events", "beginning")
    found: list[tuple[int, int, bytes | None, OutreachEvent]] = []
    try:
        deadline = time.monotonic() + 60
        while len(found) < count and time.monotonic() < deadline:
            for partition, records in (await consumer.getmany(timeout_ms=500)).items():
                for record in records:
                    event = OutreachEvent.model_validate_json(record.value or b"")
                    if event.event_id.startswith(f"{tag}-"):
                        found.append((partition.partition, record.offset, record.key, event))
    finally:
        await consumer.stop()
    return found


def test_concurrent_requests_each_event_once_keyed_on_its_partition_in_order(ingestion: Stack) -> None:
    tag = f"pub{secrets.token_hex(4)}"
    responses = asyncio.run(post_all(ingestion, tag))
    assert [response.status_code for response in responses] == [202] * REQUESTS
    assert {response.json()["accepted"] for response in responses} == {EVENTS_PER_REQUEST}

    records = asyncio.run(records_tagged(ingestion, tag, REQUESTS * EVENTS_PER_REQUEST))
    event_ids = sorted(event.event_id for _, _, _, event in records)
    assert event_ids == sorted(f"{tag}-{r}-{n}" for r in range(REQUESTS) for n in range(EVENTS_PER_REQUEST))
    for partition, _, key, event in records:
        assert key == event.contact_key.encode()
        assert partition == partition_for(key, PARTITIONS)
    for request in range(REQUESTS):
        one_request = sorted(
            (partition, offset, int(event.event_id.rsplit("-", 1)[1]), event.contact_key)
            for partition, offset, _, event in records
            if event.event_id.startswith(f"{tag}-{request}-")
        )
        by_contact: dict[str, list[int]] = {}
        for _, _, n, contact in one_request:
            by_contact.setdefault(contact, []).append(n)
        assert all(numbers == sorted(numbers) for numbers in by_contact.values()), "a contact's touches reordered"


@pytest.mark.slow
def test_after_a_503_the_retry_is_accepted_once_kafka_is_back(tmp_path: Path) -> None:
    broker: ApacheTestBroker | EmbeddedTestBroker = new_broker()
    broker.start()
    try:
        with running_stack(broker.bootstrap, tmp_path, names=("ingestion",), PUBLISH_TIMEOUT_SECONDS="2") as stack:
            tag = f"back{secrets.token_hex(4)}"
            assert stack.post_generic({"events": batch(f"{tag}-up", 0)}).status_code == 202
            broker.stop()
            retried = {"events": batch(tag, 0)}
            assert stack.post_generic(retried).status_code == 503
            broker.start()
            answer = stack.post_generic(retried)
            for _ in range(60):  # the producer reconnects in the background
                if answer.status_code != 503:
                    break
                time.sleep(1)
                answer = stack.post_generic(retried)
            assert answer.status_code == 202, answer.text
            assert answer.json()["accepted"] == EVENTS_PER_REQUEST, "a 503 marked events as seen"
            assert stack.post_generic(retried).json()["duplicate"] == EVENTS_PER_REQUEST
    finally:
        broker.destroy()
