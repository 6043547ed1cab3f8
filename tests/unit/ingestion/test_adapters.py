"""Each CRM's documented payloads, mapped to touches without any I/O."""

from datetime import UTC, datetime

import pytest

from schemas import OutreachEvent
from services.identity.pseudonyms import email_pseudonym
from services.ingestion import hubspot, pipedrive, salesforce
from services.ingestion.intake import BodyError, map_items
from services.ingestion.items import Item
from tests.fixtures.crm import SALESFORCE_ORG, load, raw, salesforce_message

KEY = b"identity-key-for-adapter-tests"
NOW = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)


def hubspot_items() -> list[Item]:
    events = hubspot.split_events(load("hubspot/engagements.json"), 100)
    return map_items(events, hubspot.HubSpotEvent, lambda i, e, at: hubspot.to_item(i, e, KEY, at), NOW, "eventId")


def touches(items: list[Item]) -> list[OutreachEvent]:
    return [item.event for item in items if item.event is not None]


def shape(event: OutreachEvent) -> tuple[str, str, str, str | None, str, str]:
    return (event.tenant, event.sender_id, event.contact_id, event.channel, event.direction, event.kind)


def test_hubspot_engagement_associations_become_outbound_touches_and_replies_inbound() -> None:
    events = touches(hubspot_items())
    assert [shape(event) for event in events] == [
        ("62515", "4711", "510001", "phone_work", "outbound", "call"),
        ("62515", "4711", "510001", "phone_work", "outbound", "call"),
        ("62515", "4711", "510001", "email", "outbound", "message"),
        ("62515", "unattributed", "510001", "meeting", "outbound", "meeting"),
        ("62515", "unattributed", "510001", "email", "inbound", "reply"),
    ]
    call, reverse = events[0], events[1]
    assert call.event_id == reverse.event_id == "assoc-880001-510001"
    assert call.occurred_at == datetime(2026, 11, 2, 7, 50, tzinfo=UTC)
    assert events[4].occurred_at == datetime(2026, 11, 5, 7, 49, tzinfo=UTC)


def test_hubspot_events_that_are_not_touches_are_ignored_with_a_reason() -> None:
    ignored = {item.index: item.ignored for item in hubspot_items() if item.ignored}
    assert set(ignored) == {5, 6, 7, 8}
    assert ignored[5] == "object.creation is not a touch of a contact"
    assert ignored[8] == "association removed"


def test_hubspot_item_without_required_fields_is_rejected_naming_them() -> None:
    [item] = map_items(
        [{"eventId": 7, "subscriptionType": "object.creation"}],
        hubspot.HubSpotEvent,
        lambda i, e, at: hubspot.to_item(i, e, KEY, at),
        NOW,
        "eventId",
    )
    assert item.event_id == "7"
    assert item.rejected is not None
    assert "subscriptionId" in item.rejected
    assert "portalId" in item.rejected


def test_hubspot_body_must_be_an_array() -> None:
    with pytest.raises(BodyError, match="JSON array"):
        hubspot.split_events({"eventId": 1}, 100)


def salesforce_items(body: bytes | None = None) -> list[Item]:
    message = salesforce.parse(body or salesforce_message(), 100)
    context = salesforce.Context(message.organization_id, KEY, NOW)
    return [salesforce.to_item(index, note, context) for index, note in enumerate(message.notifications)]


def test_salesforce_tasks_events_and_email_messages_become_touches() -> None:
    items = salesforce_items()
    events = touches(items)
    assert [(e.event_id, e.channel, e.direction, e.kind, e.outcome) for e in events] == [
        ("00T5e00000AbCdEAAZ", "phone_work", "outbound", "call", "no_answer"),
        ("00T5e00000AbCdFAAZ", "email", "outbound", "message", None),
        ("00U5e00000EvEnTAAA", "meeting", "outbound", "meeting", "answered"),  # it has ended: it was held
        ("02s5e00000EmAiLAAA", "email", "inbound", "reply", None),
    ]
    assert {e.tenant for e in events} == {SALESFORCE_ORG}
    assert events[0].contact_id == "0035e00000QrStUAAV"
    assert events[0].sender_id == "0055e000003XyZ1AAK"
    assert events[0].occurred_at == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    assert events[2].occurred_at == datetime(2026, 11, 6, 15, 0, tzinfo=UTC)
    assert events[3].contact_id == email_pseudonym(KEY, "lee.prospect@example.net")
    assert [item.ignored for item in items[4:]] == [
        "task status 'Not Started' is not a touch yet",
        "sObject type Lead is not an activity",
    ]


@pytest.mark.parametrize(
    ("configured", "offered", "same"),
    [
        (SALESFORCE_ORG, SALESFORCE_ORG, True),
        (SALESFORCE_ORG[:15], SALESFORCE_ORG, True),
        (SALESFORCE_ORG, SALESFORCE_ORG[:15], True),
        (SALESFORCE_ORG, "00D5e000000KQ2fEAG", False),
        (SALESFORCE_ORG, SALESFORCE_ORG[:14], False),
    ],
)
def test_salesforce_organisation_ids_compare_in_either_length(configured: str, offered: str, same: bool) -> None:
    assert salesforce.same_organization(configured, offered) is same


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<not xml", "not a SOAP envelope"),
        (b"<Envelope/>", "expected soapenv:Envelope"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            b'<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>&e;</OrganizationId>'
            b"</notifications></soapenv:Body></soapenv:Envelope>",
            "not a SOAP envelope",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b"<l>&b;</l>",
            "not a SOAP envelope",
        ),
    ],
)
def test_salesforce_refuses_non_soap_bodies_and_any_dtd(body: bytes, problem: str) -> None:
    with pytest.raises(BodyError, match=problem):
        salesforce.parse(body, 100)


def test_salesforce_message_over_the_batch_limit_is_refused() -> None:
    with pytest.raises(BodyError, match="at most 3 notifications"):
        salesforce.parse(raw("salesforce/activities.xml"), 3)


def pipedrive_item(name: str) -> Item:
    return pipedrive.to_item(pipedrive.parse(load(name)), KEY, NOW)


def test_pipedrive_done_call_is_an_outbound_call_on_the_person() -> None:
    event = pipedrive_item("pipedrive/activity_call_done.json").event
    assert event is not None
    assert shape(event) == ("12882925", "18487521", "301", "phone_work", "outbound", "call")
    assert event.event_id == "activity-4401"
    assert event.occurred_at == datetime(2026, 11, 3, 14, 20, tzinfo=UTC)


def test_pipedrive_meeting_marked_done_names_the_attendee_by_pseudonym_not_the_organizer() -> None:
    event = pipedrive_item("pipedrive/activity_meeting_marked_done.json").event
    assert event is not None
    assert event.contact_id == email_pseudonym(KEY, "dana.privacy@example.org")
    assert (event.channel, event.kind) == ("meeting", "meeting")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("pipedrive/activity_planned.json", "planned activity: it becomes a touch when marked done"),
        ("pipedrive/person_changed.json", "person change without a new incoming e-mail is not a touch"),
    ],
)
def test_pipedrive_changes_that_are_not_touches_are_ignored(name: str, reason: str) -> None:
    assert pipedrive_item(name).ignored == reason


def test_pipedrive_v1_bodies_are_refused_with_what_to_change() -> None:
    body = load("pipedrive/activity_call_done.json")
    body["meta"]["version"] = "1.0"
    with pytest.raises(BodyError, match="create the webhook as v2"):
        pipedrive.parse(body)
