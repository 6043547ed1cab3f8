"""The product's story told through each CRM, enriched from the CRM's API, scored on Apache Kafka.

One interview, then e-mails, work calls and cell calls for four weeks without a reply: through HubSpot, Salesforce
and Pipedrive the pursuit reaches `stalking` with the channel-escalation reason naming the cell phone, because
enrichment tells the cell phone from the work phone. A reply through each CRM reaches the rep and clears the
streak. The CRM APIs are local HTTP servers answering their documented bodies; one of them fails on purpose.
"""

import asyncio
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from schemas import Alert, OutreachEvent, PairScore
from services.runtime.standard_webhooks import decode_secret
from tests.fixtures.crm import CRM_ENV, SALESFORCE_ORG, CrmSender, load
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker
from tests.harness.crm_apis import FakeCrmApi, api_fixture, running_crm_api
from tests.harness.stack import Stack, own_topics, read_topic, running_stack

WORK = "+49 30 1234 5678"
CELL = "+1 (415) 555-0142"
START = (datetime.now(UTC) - timedelta(days=28)).replace(minute=0, second=0, microsecond=0)
SF = "/services/data/v60.0"


@dataclass(frozen=True)
class Beat:
    day: float
    hour: int
    what: str  # interview | email | work | cell | sms

    @property
    def at(self) -> datetime:
        return START.replace(hour=self.hour) + timedelta(days=self.day)


PURSUIT = [
    Beat(0, 14, "interview"),
    Beat(1, 9, "email"),
    Beat(4, 9, "email"),
    Beat(6, 15, "work"),
    Beat(8, 10, "email"),
    Beat(9, 16, "cell"),
    Beat(11, 9, "work"),
    Beat(12, 18, "cell"),
    Beat(14, 9, "email"),
    Beat(16, 12, "sms"),
    Beat(19, 9, "email"),
    Beat(21, 17, "cell"),
    Beat(25, 9, "email"),
]


@dataclass
class Crms:
    hubspot: FakeCrmApi
    salesforce: FakeCrmApi
    pipedrive: FakeCrmApi


@pytest.fixture(scope="module")
def crms() -> Iterator[Crms]:
    with running_crm_api() as hubspot, running_crm_api() as salesforce, running_crm_api() as pipedrive:
        hubspot.answer("/crm/v3/owners/61001", api_fixture("hubspot/owner"))
        salesforce.answer("/services/oauth2/token", api_fixture("salesforce/token"))
        yield Crms(hubspot, salesforce, pipedrive)


@pytest.fixture(scope="module")
def stack(
    kafka: ApacheTestBroker | EmbeddedTestBroker, crms: Crms, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    env = CRM_ENV | {
        "HUBSPOT_ACCESS_TOKEN": "pat-it-token",
        "HUBSPOT_API_BASE_URL": crms.hubspot.url,
        "SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com",
        "SALESFORCE_API_BASE_URL": crms.salesforce.url,
        "SALESFORCE_CLIENT_ID": "3MVG9-it-client",
        "SALESFORCE_CLIENT_SECRET": "it-client-secret",
        "PIPEDRIVE_API_TOKEN": "pd-it-token",
        "PIPEDRIVE_API_BASE_URL": crms.pipedrive.url,
    }
    logs = tmp_path_factory.mktemp("crm-enrichment")
    with running_stack(kafka.bootstrap, logs, ("ingestion", "scoring"), **env, **own_topics(logs.name)) as running:
        yield running


def sender(stack: Stack) -> CrmSender:
    return CrmSender(stack.url("ingestion"), decode_secret(stack.secret))


def stalking_alert(stack: Stack, tenant: str, contact: str) -> Alert:
    key = f"{tenant}:{contact}".encode()

    def found(records: list[tuple[bytes | None, bytes, dict[str, bytes]]]) -> bool:
        return any(k == key and b'"stalking"' in v for k, v, _ in records)

    records = asyncio.run(read_topic(stack.bootstrap, stack.settings.topic_alerts, found))
    alerts = [Alert.model_validate_json(v) for k, v, _ in records if k == key]
    return next(alert for alert in alerts if alert.level == "stalking")


def scored(stack: Stack, tenant: str, contact: str, event_id: str) -> PairScore:
    key = f"{tenant}:{contact}".encode()
    records = asyncio.run(
        read_topic(
            stack.bootstrap, stack.settings.topic_scores, lambda rs: any(event_id.encode() in v for _, v, _ in rs)
        )
    )
    return next(PairScore.model_validate_json(v) for k, v, _ in records if k == key and event_id.encode() in v)


def published(stack: Stack, event_id: str) -> OutreachEvent:
    records = asyncio.run(
        read_topic(
            stack.bootstrap, stack.settings.topic_events, lambda rs: any(event_id.encode() in v for _, v, _ in rs)
        )
    )
    return next(OutreachEvent.model_validate_json(v) for _, v, _ in records if json.loads(v)["event_id"] == event_id)


def assert_the_story_reached_stalking_naming_the_cell_phone(alert: Alert, rep: str) -> None:
    assert alert.sender_id == rep
    reasons = {reason.rule: reason for reason in alert.reasons}
    assert "unanswered_streak" in reasons
    assert "cell phone" in reasons["channel_escalation"].message
    assert "work phone" in reasons["channel_escalation"].message


def assert_the_reply_cleared_the_streak(stack: Stack, tenant: str, rep: str, contact: str, reply_id: str) -> None:
    score = scored(stack, tenant, contact, reply_id)
    assert score.sender_id == rep, "the reply must reach the rep who pursued, not 'unattributed'"
    response = httpx.get(f"{stack.url('scoring')}/v1/pairs/{tenant}/{rep}/{contact}", headers=stack.auth, timeout=10)
    assert response.status_code == 200, response.text
    summary = response.json()
    assert "unanswered_streak" not in {reason["rule"] for reason in summary["reasons"]}
    assert summary["level"] == "ok"


# --- HubSpot -------------------------------------------------------------------------------------------------


def hubspot_story(api: FakeCrmApi, contact: int) -> list[dict[str, Any]]:
    api.answer(f"/crm/v3/objects/contacts/{contact}", api_fixture("hubspot/contact", id=str(contact)))
    events = []
    for n, beat in enumerate(PURSUIT):
        engagement = contact * 100 + n
        type_id, path, properties = {
            "interview": ("0-47", "meetings", {"hs_meeting_outcome": "COMPLETED", "hs_meeting_source": "CRM_UI"}),
            "email": ("0-49", "emails", {"hs_email_direction": "EMAIL"}),
            "work": ("0-48", "calls", {"hs_call_direction": "OUTBOUND", "hs_call_to_number": WORK}),
            "cell": ("0-48", "calls", {"hs_call_direction": "OUTBOUND", "hs_call_to_number": CELL}),
            "sms": ("0-18", "communications", {"hs_communication_channel_type": "SMS"}),
        }[beat.what]
        fixture = {"meetings": "meeting", "emails": "email", "calls": "call", "communications": "email"}[path]
        record = api_fixture(f"hubspot/{fixture}", id=str(engagement))
        record["properties"] = {"hubspot_owner_id": "61001", "hs_timestamp": beat.at.isoformat()} | properties
        api.answer(f"/crm/v3/objects/{path}/{engagement}", record)
        events.append(
            {
                "eventId": engagement,
                "subscriptionId": 1,
                "portalId": 0,
                "occurredAt": int(beat.at.timestamp() * 1000),
                "subscriptionType": "object.associationChange",
                "associationType": "X_TO_CONTACT",
                "fromObjectTypeId": type_id,
                "toObjectTypeId": "0-1",
                "fromObjectId": engagement,
                "toObjectId": contact,
                "associationRemoved": False,
            }
        )
    return events


def test_hubspot_story_reaches_stalking_and_a_reply_reaches_the_rep(stack: Stack, crms: Crms) -> None:
    portal, contact = secrets.randbelow(10**8) + 10**8, secrets.randbelow(10**6) + 10**6
    events = [event | {"portalId": portal} for event in hubspot_story(crms.hubspot, contact)]
    answer = sender(stack).hubspot(json.dumps(events).encode())
    assert answer.status_code == 202, answer.text
    assert answer.json()["accepted"] == len(PURSUIT)
    assert_the_story_reached_stalking_naming_the_cell_phone(stalking_alert(stack, str(portal), str(contact)), "4711")

    replied = int((START + timedelta(days=27)).timestamp() * 1000)
    reply = load("hubspot/engagements.json")[4] | {
        "portalId": portal,
        "objectId": contact,
        "propertyValue": str(replied),
        "occurredAt": replied,
    }
    assert sender(stack).hubspot(json.dumps([reply]).encode()).status_code == 202
    assert_the_reply_cleared_the_streak(stack, str(portal), "4711", str(contact), f"reply-{contact}-{replied}")


# --- Salesforce ----------------------------------------------------------------------------------------------


def outbound_message(records: list[tuple[str, dict[str, str]]]) -> bytes:
    notifications = "".join(
        f"<Notification><Id>04l{secrets.token_hex(6)}</Id>"
        f'<sObject xsi:type="sf:{kind}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        + "".join(f"<sf:{name}>{value}</sf:{name}>" for name, value in fields.items())
        + "</sObject></Notification>"
        for kind, fields in records
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        f'<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>{SALESFORCE_ORG}</OrganizationId>'
        f"{notifications}</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def salesforce_id(prefix: str) -> str:
    return prefix + secrets.token_hex(6).upper()[:12] + "AAA"


def test_salesforce_story_reaches_stalking_and_an_email_reply_meets_the_tasks_contact(stack: Stack, crms: Crms) -> None:
    api, rep, contact = crms.salesforce, "0055e000003XyZ1AAK", salesforce_id("003")
    person = api_fixture("salesforce/contact", Id=contact)
    api.answer(f"{SF}/sobjects/Contact/{contact}", person)
    records = []
    for beat in PURSUIT:
        time = beat.at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        common = {"Id": salesforce_id("00T"), "OwnerId": rep, "WhoId": contact, "Status": "Completed"}
        if beat.what == "interview":
            records.append(
                ("Event", {"Id": salesforce_id("00U"), "OwnerId": rep, "WhoId": contact, "StartDateTime": time})
            )
        elif beat.what in {"work", "cell"}:
            number = WORK if beat.what == "work" else CELL
            records.append(
                ("Task", common | {"TaskSubtype": "Call", "CompletedDateTime": time, "Subject": f"Call {number}"})
            )
        elif beat.what == "email":
            records.append(("Task", common | {"TaskSubtype": "Email", "CompletedDateTime": time}))
    answer = sender(stack).salesforce(outbound_message(records))
    assert answer.status_code == 200, answer.text
    assert_the_story_reached_stalking_naming_the_cell_phone(stalking_alert(stack, SALESFORCE_ORG, contact), rep)

    sent, reply_id = salesforce_id("02s"), salesforce_id("02s")
    api.answer(f"{SF}/sobjects/EmailMessage/{sent}", api_fixture("salesforce/email_message", Id=sent, CreatedById=rep))
    api.answer(f"{SF}/query", api_fixture("salesforce/contact_query", records=[person]))
    reply = {
        "Id": reply_id,
        "Incoming": "true",
        "FromAddress": "dana.privacy@example.org",
        "ToAddress": "Sam.Rep@Example.com",
        "MessageDate": (START + timedelta(days=27)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "ReplyToEmailMessageId": sent,
        "CreatedById": "0055e000009AuToAAA",
    }
    assert sender(stack).salesforce(outbound_message([("EmailMessage", reply)])).status_code == 200
    assert_the_reply_cleared_the_streak(stack, SALESFORCE_ORG, rep, contact, reply_id)


# --- Pipedrive -----------------------------------------------------------------------------------------------


def pipedrive_activity(company: int, person: int, activity: int, beat: Beat, owner: int) -> dict[str, Any]:
    body: dict[str, Any] = load("pipedrive/activity_call_done.json")
    kind = {"interview": "meeting", "email": "email", "work": "call", "cell": "call"}[beat.what]
    number = {"work": WORK, "cell": CELL}.get(beat.what, "")
    body["meta"] |= {"company_id": str(company), "id": secrets.token_hex(8), "entity_id": str(activity)}
    body["data"] |= {
        "id": activity,
        "type": kind,
        "person_id": person,
        "owner_id": owner,
        "participants": [{"person_id": person, "primary": True}],
        "subject": f"Call {number}" if number else "Follow-up",
        "note": None,
        "marked_as_done_time": beat.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return body


def test_pipedrive_story_reaches_stalking_and_an_incoming_mail_reaches_the_rep(stack: Stack, crms: Crms) -> None:
    company, person, owner = secrets.randbelow(10**8) + 10**8, secrets.randbelow(10**6) + 10**6, 18487521
    crms.pipedrive.answer(
        f"/api/v2/persons/{person}", {"success": True, "data": api_fixture("pipedrive/person")["data"] | {"id": person}}
    )
    crm = sender(stack)
    for n, beat in enumerate(beat for beat in PURSUIT if beat.what != "sms"):
        body = pipedrive_activity(company, person, person * 100 + n, beat, owner)
        assert crm.pipedrive(json.dumps(body).encode()).status_code == 202
    assert_the_story_reached_stalking_naming_the_cell_phone(
        stalking_alert(stack, str(company), str(person)), str(owner)
    )

    replied = START + timedelta(days=27)
    change = load("pipedrive/person_changed.json")
    change["meta"] |= {"company_id": str(company), "id": secrets.token_hex(8), "user_id": None}
    change["data"] |= {"id": person, "owner_id": 999, "last_incoming_mail_time": replied.strftime("%Y-%m-%d %H:%M:%S")}
    change["previous"] = {"last_incoming_mail_time": None}
    assert crm.pipedrive(json.dumps(change).encode()).status_code == 202
    reply_id = f"reply-{person}-{int(replied.timestamp())}"
    assert_the_reply_cleared_the_streak(stack, str(company), str(owner), str(person), reply_id)


# --- A CRM API that is down or rate-limited --------------------------------------------------------------------


def metric(stack: Stack, name: str, **labels: str) -> float:
    text = httpx.get(f"{stack.url('ingestion')}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_hubspot_api_down_publishes_the_touch_unenriched_and_counts_it(stack: Stack, crms: Crms) -> None:
    portal, contact = secrets.randbelow(10**8) + 10**8, secrets.randbelow(10**6) + 10**6
    [event] = [e | {"portalId": portal} for e in hubspot_story(crms.hubspot, contact)[5:6]]  # a cell call
    before = metric(stack, "rapport_ingestion_enrichment_total", source="hubspot", result="not_enriched")
    crms.hubspot.fail(503)
    try:
        answer = sender(stack).hubspot(json.dumps([event | {"sourceId": "userId:4711"}]).encode())
    finally:
        crms.hubspot.heal()
    assert answer.status_code == 202, answer.text
    assert answer.json()["results"][0]["reason"].startswith("published without enrichment")
    touch = published(stack, f"assoc-{event['fromObjectId']}-{contact}")
    assert (touch.channel, touch.sender_id, touch.contact_timezone) == ("phone_work", "4711", None)
    after = metric(stack, "rapport_ingestion_enrichment_total", source="hubspot", result="not_enriched")
    assert after == before + 1


def test_pipedrive_429_publishes_unenriched_and_no_call_goes_out_until_retry_after(stack: Stack, crms: Crms) -> None:
    company, person = secrets.randbelow(10**8) + 10**8, secrets.randbelow(10**6) + 10**6
    crms.pipedrive.answer(f"/api/v2/persons/{person}", api_fixture("pipedrive/person"))
    crms.pipedrive.fail(429, {"retry-after": "30"}, times=1)
    crm = sender(stack)
    first = crm.pipedrive(json.dumps(pipedrive_activity(company, person, person * 100, PURSUIT[5], 1)).encode())
    calls = crms.pipedrive.calls()
    second = crm.pipedrive(json.dumps(pipedrive_activity(company, person, person * 100 + 1, PURSUIT[7], 1)).encode())
    assert [first.status_code, second.status_code] == [202, 202]
    assert crms.pipedrive.calls() == calls, "Retry-After must hold every call back"
    for answer in (first, second):
        assert answer.json()["results"][0]["reason"].startswith("published without enrichment")
    assert published(stack, f"activity-{person * 100 + 1}").channel == "phone_work"
    assert metric(stack, "rapport_ingestion_enrichment_failures_total", source="pipedrive", reason="rate_limited") >= 2
