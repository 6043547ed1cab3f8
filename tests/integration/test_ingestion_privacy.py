"""No raw or normalised e-mail address or phone number in any topic, log line or metric, after every adapter ran.

The whole system runs (ingestion, scoring, notification) so that scores, alerts and receipts are searched too.
Enrichment runs too: each CRM's API (a local server) answers with the fixtures' numbers and addresses, the
owner's address, a Salesforce query by address, and consent flags, so the paths that read them are covered.
"""

import asyncio
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.devstack.processes import SERVICES
from services.identity.pseudonyms import normalise_email, normalise_phone
from services.runtime.standard_webhooks import decode_secret
from tests.fixtures.crm import ADDRESSES, CRM_ENV, NUMBERS, CrmSender, load, raw, salesforce_message
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker
from tests.harness.crm_apis import api_fixture, running_crm_api
from tests.harness.stack import Stack, own_topics, read_topic, running_stack


def forbidden_forms() -> set[bytes]:
    forms = set()
    for address in ADDRESSES:
        forms |= {address.encode(), normalise_email(address).encode()}
    for number in NUMBERS:
        digits = normalise_phone(number)
        forms |= {number.encode(), digits.encode(), digits.lstrip("+").encode()}
    return forms


async def every_record(bootstrap: str, wait_seconds: float = 60) -> bytes:
    """Keys, values and headers of every record in every non-internal topic, read up to the current end."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = [topic for topic in await admin.list_topics() if not topic.startswith("__")]
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in consumer.partitions_for_topic(topic) or await _partitions(consumer, topic)
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        seen = bytearray()
        deadline = time.monotonic() + wait_seconds
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            assert time.monotonic() < deadline, "topics were not read to their end in time"
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for record in batch:
                    seen += (record.key or b"") + (record.value or b"")
                    for name, value in record.headers:
                        seen += name.encode() + value
        return bytes(seen)
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or set()


def post_everything(stack: Stack, tag: str) -> None:
    crm = CrmSender(stack.url("ingestion"), decode_secret(stack.secret))
    assert crm.hubspot(raw("hubspot/engagements.json")).status_code == 202
    assert crm.salesforce(salesforce_message()).status_code == 200
    for name in ("activity_call_done", "activity_meeting_marked_done", "activity_planned", "person_changed"):
        assert crm.pipedrive(raw(f"pipedrive/{name}.json")).status_code == 202
    assert crm.generic(raw("generic/touches.json")).status_code == 202
    invalid = load("generic/touches.json")["events"][0] | {"event_id": f"invalid-{tag}", "channel": "pigeon"}
    rejected = crm.generic(json.dumps(invalid).encode())
    assert rejected.status_code == 422
    assert ADDRESSES[0] not in rejected.text
    canary = load("generic/touches.json")["events"][0] | {"event_id": f"privacy-{tag}", "tenant": f"privacy-{tag}"}
    assert crm.generic(json.dumps(canary).encode()).status_code == 202


@contextmanager
def crm_apis() -> Iterator[dict[str, str]]:
    """The three CRMs' APIs answering every record the fixtures name; the settings that point ingestion at them."""
    sf = "/services/data/v60.0"
    flagged = {"DoNotCall": True, "HasOptedOutOfEmail": True}
    with ExitStack() as stack:
        hubspot, salesforce, pipedrive = (stack.enter_context(running_crm_api()) for _ in range(3))
        for path, name in (
            ("/crm/v3/objects/contacts/510001", "contact"),
            ("/crm/v3/objects/calls/880001", "call"),
            ("/crm/v3/objects/emails/880002", "email"),
            ("/crm/v3/objects/meetings/880003", "meeting"),
            ("/crm/v3/owners/61001", "owner"),
        ):
            hubspot.answer(path, api_fixture(f"hubspot/{name}"))
        salesforce.answer("/services/oauth2/token", api_fixture("salesforce/token"))
        salesforce.answer(f"{sf}/sobjects/Contact/0035e00000QrStUAAV", api_fixture("salesforce/contact", **flagged))
        query = api_fixture("salesforce/contact_query")
        salesforce.answer(f"{sf}/query", query | {"records": [record | flagged for record in query["records"]]})
        pipedrive.answer("/api/v2/persons/301", api_fixture("pipedrive/person"))
        yield {
            "HUBSPOT_ACCESS_TOKEN": "pat-privacy",
            "HUBSPOT_API_BASE_URL": hubspot.url,
            "SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com",
            "SALESFORCE_API_BASE_URL": salesforce.url,
            "SALESFORCE_CLIENT_ID": "3MVG9-privacy",
            "SALESFORCE_CLIENT_SECRET": "privacy-client-secret",
            "PIPEDRIVE_API_TOKEN": "pd-privacy",
            "PIPEDRIVE_API_BASE_URL": pipedrive.url,
        }


def test_no_address_or_number_reaches_a_topic_a_log_or_a_metric(
    kafka: ApacheTestBroker | EmbeddedTestBroker, tmp_path: Path
) -> None:
    tag = secrets.token_hex(4)
    with (
        crm_apis() as api_env,
        running_stack(
            kafka.bootstrap,
            tmp_path,
            tuple(SERVICES),
            LOG_LEVEL="DEBUG",
            **CRM_ENV,
            **api_env,
            **own_topics(f"privacy-{tag}"),
        ) as stack,
    ):
        post_everything(stack, tag)
        scored = asyncio.run(
            read_topic(
                stack.bootstrap,
                stack.settings.topic_scores,
                lambda rs: any(f"privacy-{tag}".encode() in v for _, v, _ in rs),
            )
        )
        assert any(f"privacy-{tag}".encode() in value for _, value, _ in scored), "the canary was never scored"
        metrics = b"".join(httpx.get(f"{stack.url(name)}/metrics", timeout=10).content for name in stack.processes)
        everything_on_kafka = asyncio.run(every_record(stack.bootstrap))
    logs = b"".join(path.read_bytes() for path in tmp_path.glob("*.log"))

    assert f"privacy-{tag}".encode() in everything_on_kafka
    assert b"rapport_ingestion_events_total" in metrics
    for source in (b"hubspot", b"salesforce", b"pipedrive"):
        assert b'rapport_ingestion_enrichment_total{result="enriched",source="' + source + b'"}' in metrics
    assert b'"kind":"opt_out"' in everything_on_kafka
    assert b"DEBUG" in logs or b"INFO" in logs
    for form in forbidden_forms():
        assert form.lower() not in everything_on_kafka.lower(), f"{form!r} found on Kafka"
        assert form.lower() not in logs.lower(), f"{form!r} found in a log"
        assert form.lower() not in metrics.lower(), f"{form!r} found in /metrics"
