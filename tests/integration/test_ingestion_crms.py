"""Each CRM's fixtures posted to a running ingestion service, read back from Apache Kafka's outreach.events."""

import asyncio
import json
import secrets
from collections.abc import Iterator

import pytest

from schemas import OutreachEvent
from services.runtime.standard_webhooks import decode_secret
from tests.fixtures.crm import CRM_ENV, SALESFORCE_ORG, CrmSender, load, raw, salesforce_message
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker
from tests.harness.stack import Stack, read_topic, running_stack

Records = list[tuple[bytes | None, bytes, dict[str, bytes]]]


@pytest.fixture(scope="module")
def ingestion(
    kafka: ApacheTestBroker | EmbeddedTestBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("ingestion-crms")
    with running_stack(kafka.bootstrap, logs, names=("ingestion",), **CRM_ENV) as stack:
        yield stack


def sender(stack: Stack) -> CrmSender:
    return CrmSender(stack.url("ingestion"), decode_secret(stack.secret))


def events_with_ids(stack: Stack, ids: set[str]) -> dict[str, tuple[bytes | None, OutreachEvent]]:
    def complete(records: Records) -> bool:
        return ids <= {json.loads(value).get("event_id") for _, value, _ in records}

    records = asyncio.run(read_topic(stack.bootstrap, "outreach.events", complete))
    found = {}
    for key, value, _ in records:
        event = OutreachEvent.model_validate_json(value)
        if event.event_id in ids:
            found[event.event_id] = (key, event)
    return found


def summary(event: OutreachEvent) -> tuple[str, str, str, str, str | None, str, str]:
    return (event.source, event.tenant, event.sender_id, event.contact_id, event.channel, event.direction, event.kind)


def test_every_crm_fixture_ends_as_the_right_events_on_outreach_events(ingestion: Stack) -> None:
    crm = sender(ingestion)
    hubspot = crm.hubspot(raw("hubspot/engagements.json"))
    assert hubspot.status_code == 202, hubspot.text
    assert (hubspot.json()["accepted"], hubspot.json()["ignored"]) == (4, 4)
    salesforce = crm.salesforce(salesforce_message())
    assert salesforce.status_code == 200, salesforce.text
    assert "<Ack>true</Ack>" in salesforce.text
    for name in ("activity_call_done", "activity_meeting_marked_done", "activity_planned", "person_changed"):
        assert crm.pipedrive(raw(f"pipedrive/{name}.json")).status_code == 202
    generic = crm.generic(raw("generic/touches.json"))
    assert generic.status_code == 202, generic.text

    expected = {
        "assoc-880001-510001": ("hubspot", "62515", "4711", "510001", "phone_work", "outbound", "call"),
        "assoc-880002-510001": ("hubspot", "62515", "4711", "510001", "email", "outbound", "message"),
        "assoc-880003-510001": ("hubspot", "62515", "unattributed", "510001", "meeting", "outbound", "meeting"),
        "reply-510001-1793864940000": ("hubspot", "62515", "unattributed", "510001", "email", "inbound", "reply"),
        "00T5e00000AbCdEAAZ": (
            "salesforce",
            SALESFORCE_ORG,
            "0055e000003XyZ1AAK",
            "0035e00000QrStUAAV",
            "phone_work",
            "outbound",
            "call",
        ),
        "00T5e00000AbCdFAAZ": (
            "salesforce",
            SALESFORCE_ORG,
            "0055e000003XyZ1AAK",
            "0035e00000QrStUAAV",
            "email",
            "outbound",
            "message",
        ),
        "00U5e00000EvEnTAAA": (
            "salesforce",
            SALESFORCE_ORG,
            "0055e000003XyZ1AAK",
            "0035e00000QrStUAAV",
            "meeting",
            "outbound",
            "meeting",
        ),
        "activity-4401": ("pipedrive", "12882925", "18487521", "301", "phone_work", "outbound", "call"),
    }
    pseudonymous = {"02s5e00000EmAiLAAA", "activity-4402", "gen-privacy-1", "gen-privacy-2", "gen-privacy-3"}
    found = events_with_ids(ingestion, set(expected) | pseudonymous)
    assert {event_id: summary(event) for event_id, (_, event) in found.items() if event_id in expected} == expected
    for key, event in found.values():
        assert key == event.contact_key.encode()
    for event_id in pseudonymous:
        contact = found[event_id][1].contact_id
        assert contact.startswith(("em_", "ph_")), (event_id, contact)
    assert found["02s5e00000EmAiLAAA"][1].kind == "reply"
    assert "activity-4403" not in found


def test_forged_stale_and_misaddressed_requests_are_refused_and_publish_nothing(ingestion: Stack) -> None:
    crm = sender(ingestion)
    tag = secrets.token_hex(4)
    generic_event = load("generic/touches.json")["events"][1] | {"event_id": f"forged-{tag}"}
    body = json.dumps(generic_event).encode()
    hubspot_body = json.dumps(
        [load("hubspot/engagements.json")[0] | {"fromObjectId": 990000 + secrets.randbelow(9999)}]
    ).encode()
    refusals = {
        "generic forged": crm.generic(body, key=secrets.token_bytes(32)),
        "generic stale": crm.generic(body, age_s=600),
        "hubspot forged": crm.hubspot(hubspot_body, secret="not-the-client-secret"),
        "hubspot stale": crm.hubspot(hubspot_body, age_ms=600_000),
        "pipedrive wrong password": crm.pipedrive(raw("pipedrive/activity_call_done.json"), password="guess-1234"),
        "salesforce other org": crm.salesforce(salesforce_message("00D5e000000ZZZZEAG")),
    }
    assert {name: response.status_code for name, response in refusals.items()} == dict.fromkeys(refusals, 401)
    assert "<faultstring>" in refusals["salesforce other org"].text
    for name, response in refusals.items():
        if name != "salesforce other org":
            assert response.json()["detail"], name

    canary = load("generic/touches.json")["events"][1] | {"event_id": f"canary-{tag}"}
    assert crm.generic(json.dumps(canary).encode()).status_code == 202
    records = asyncio.run(
        read_topic(
            ingestion.bootstrap, "outreach.events", lambda rs: any(f"canary-{tag}".encode() in v for _, v, _ in rs)
        )
    )
    published = b"".join(value for _, value, _ in records)
    assert f"canary-{tag}".encode() in published
    assert f"forged-{tag}".encode() not in published
    assert f"assoc-{json.loads(hubspot_body)[0]['fromObjectId']}".encode() not in published


def test_replayed_deliveries_are_duplicates_and_reach_kafka_once(ingestion: Stack) -> None:
    crm = sender(ingestion)
    tag = secrets.token_hex(4)
    event = load("generic/touches.json")["events"][0] | {"event_id": f"replayed-{tag}"}
    body = json.dumps(event).encode()
    first = crm.generic(body, msg_id=f"msg-{tag}")
    replay = crm.generic(body, msg_id=f"msg-{tag}")
    assert first.json()["accepted"] == 1
    assert (replay.status_code, replay.json()["duplicate"]) == (202, 1)
    hubspot_event = load("hubspot/engagements.json")[2] | {"fromObjectId": 770000 + secrets.randbelow(9999)}
    hubspot_body = json.dumps([hubspot_event]).encode()
    assert crm.hubspot(hubspot_body).json()["accepted"] == 1
    assert crm.hubspot(hubspot_body).json()["duplicate"] == 1
    assert crm.pipedrive(raw("pipedrive/activity_call_done.json")).json()["results"][0]["status"] in {
        "accepted",
        "duplicate",
    }
    assert crm.pipedrive(raw("pipedrive/activity_call_done.json")).json()["results"][0]["status"] == "duplicate"

    canary = event | {"event_id": f"after-replay-{tag}"}
    assert crm.generic(json.dumps(canary).encode()).status_code == 202
    records = asyncio.run(
        read_topic(
            ingestion.bootstrap,
            "outreach.events",
            lambda rs: any(f"after-replay-{tag}".encode() in v for _, v, _ in rs),
        )
    )
    assert sum(f"replayed-{tag}".encode() in value for _, value, _ in records) == 1
    hubspot_id = f"assoc-{hubspot_event['fromObjectId']}-510001".encode()
    assert sum(hubspot_id in value for _, value, _ in records) == 1
