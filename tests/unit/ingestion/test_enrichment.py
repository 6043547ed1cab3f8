"""Enrichment against each CRM's documented API responses, served on a real socket: what reaches the scorer."""

import asyncio
import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from schemas import Channel, Direction, Kind, Outcome, Source
from services.ingestion import hubspot, pipedrive, salesforce
from services.ingestion.enrichment.crms import build_enrichment
from services.ingestion.enrichment.service import NOT_ENRICHED_NOTE, Enrichment
from services.ingestion.intake import map_items
from services.ingestion.items import Item
from services.ingestion.metrics import ENRICHMENT, ENRICHMENT_FAILURES
from services.ingestion.settings import IngestionSettings
from tests.fixtures.crm import load, salesforce_message
from tests.harness.crm_apis import FakeCrmApi, api_fixture, running_crm_api

KEY = b"identity-key-for-enrichment-tests"
NOW = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
SALESFORCE_API = "/services/data/v60.0"


@pytest.fixture
def api() -> Iterator[FakeCrmApi]:
    with running_crm_api() as running:
        yield running


def settings(**crm: Any) -> IngestionSettings:
    return IngestionSettings(
        generic_webhook_secret="whsec_" + base64.b64encode(b"k" * 32).decode(),
        identity_hmac_key="identity-key-of-sixteen",
        enrichment_timeout_seconds=crm.pop("timeout", 2.0),
        **crm,
    )


def hubspot_enrichment(api: FakeCrmApi, **extra: Any) -> Enrichment:
    return build_enrichment(settings(hubspot_access_token="pat-test", hubspot_api_base_url=api.url, **extra))


def serve_hubspot(api: FakeCrmApi) -> None:
    api.answer("/crm/v3/objects/contacts/510001", api_fixture("hubspot/contact"))
    api.answer("/crm/v3/objects/calls/880001", api_fixture("hubspot/call"))
    api.answer("/crm/v3/objects/emails/880002", api_fixture("hubspot/email"))
    api.answer("/crm/v3/objects/meetings/880003", api_fixture("hubspot/meeting"))
    api.answer("/crm/v3/owners/61001", api_fixture("hubspot/owner"))


def hubspot_items(events: list[dict[str, Any]] | None = None) -> list[Item]:
    raw = hubspot.split_events(events or load("hubspot/engagements.json"), 100)
    return map_items(raw, hubspot.HubSpotEvent, lambda i, e, at: hubspot.to_item(i, e, KEY, at), NOW, "eventId")


def by_id(items: list[Item]) -> dict[str, Item]:
    return {item.event.event_id: item for item in items if item.event is not None}


def counted(metric: Any, **labels: str) -> float:
    return float(metric.labels(**labels)._value.get())


async def test_hubspot_call_to_the_contacts_mobilephone_is_a_cell_phone_call_by_the_owners_user(
    api: FakeCrmApi,
) -> None:
    serve_hubspot(api)
    items = by_id(await hubspot_enrichment(api).apply(Source.HUBSPOT, hubspot_items()))
    call = items["assoc-880001-510001"].event
    assert call is not None
    assert (call.channel, call.sender_id, call.outcome) == (Channel.PHONE_MOBILE, "4711", Outcome.VOICEMAIL)
    assert call.contact_timezone == "Europe/Berlin"
    meeting = items["assoc-880003-510001"].event
    assert meeting is not None
    assert (meeting.sender_id, meeting.category, meeting.outcome) == ("4711", "contact_booked", Outcome.ANSWERED)
    assert api.seen[0].headers["authorization"] == "Bearer pat-test"


async def test_hubspot_reply_goes_to_the_rep_who_last_wrote_not_unattributed(api: FakeCrmApi) -> None:
    serve_hubspot(api)
    api.answer("/crm/v3/owners/61001", api_fixture("hubspot/owner", userId=9001))
    items = by_id(await hubspot_enrichment(api).apply(Source.HUBSPOT, hubspot_items()))
    reply = items["reply-510001-1793864940000"].event
    assert reply is not None
    assert (reply.direction, reply.sender_id) == (Direction.INBOUND, "9001")


async def test_hubspot_reply_with_no_outreach_seen_goes_to_the_contacts_owner(api: FakeCrmApi) -> None:
    serve_hubspot(api)
    api.answer("/crm/v3/owners/61001", api_fixture("hubspot/owner", userId=5150))
    [reply] = await hubspot_enrichment(api).apply(Source.HUBSPOT, hubspot_items([load("hubspot/engagements.json")[4]]))
    assert reply.event is not None
    assert reply.event.sender_id == "5150"


async def test_hubspot_incoming_email_engagement_is_a_reply_to_the_engagements_owner(api: FakeCrmApi) -> None:
    serve_hubspot(api)
    incoming = api_fixture("hubspot/email")
    incoming["properties"] = incoming["properties"] | {"hs_email_direction": "INCOMING_EMAIL"}
    api.answer("/crm/v3/objects/emails/880002", incoming)
    items = by_id(await hubspot_enrichment(api).apply(Source.HUBSPOT, hubspot_items()))
    email = items["assoc-880002-510001"].event
    assert email is not None
    assert (email.direction, email.kind, email.sender_id) == (Direction.INBOUND, Kind.REPLY, "4711")


async def test_a_storm_of_webhooks_about_one_contact_makes_one_call_per_record(api: FakeCrmApi) -> None:
    serve_hubspot(api)
    enrichment = hubspot_enrichment(api)
    await asyncio.gather(*(enrichment.apply(Source.HUBSPOT, hubspot_items()) for _ in range(20)))
    assert api.calls("/crm/v3/objects/contacts/510001") == 1
    assert api.calls("/crm/v3/objects/calls/880001") == 1
    assert api.calls("/crm/v3/owners/61001") == 1


async def test_a_crm_api_that_is_down_costs_no_event_and_is_counted(api: FakeCrmApi) -> None:
    serve_hubspot(api)
    api.fail(503)
    before = counted(ENRICHMENT, source="hubspot", result="not_enriched")
    failures = counted(ENRICHMENT_FAILURES, source="hubspot", reason="error")
    items = await hubspot_enrichment(api).apply(Source.HUBSPOT, hubspot_items())
    call = by_id(items)["assoc-880001-510001"]
    assert call.event is not None
    assert (call.event.channel, call.event.sender_id) == (Channel.PHONE_WORK, "4711")  # as the webhook said
    assert call.result()["reason"] == NOT_ENRICHED_NOTE
    assert counted(ENRICHMENT, source="hubspot", result="not_enriched") - before == 5
    assert counted(ENRICHMENT_FAILURES, source="hubspot", reason="error") > failures


async def test_a_slow_crm_api_is_given_up_on_within_the_time_budget(api: FakeCrmApi) -> None:
    serve_hubspot(api)
    api.delay_seconds = 1.0
    started = asyncio.get_running_loop().time()
    items = await hubspot_enrichment(api, timeout=0.3).apply(Source.HUBSPOT, hubspot_items())
    assert asyncio.get_running_loop().time() - started < 0.9
    assert all(item.note == NOT_ENRICHED_NOTE for item in items if item.event is not None)


async def test_a_429_stops_calls_for_retry_after_and_publishes_unenriched(api: FakeCrmApi) -> None:
    serve_hubspot(api)
    api.fail(429, {"retry-after": "30"}, times=1)
    enrichment = hubspot_enrichment(api)
    first = await enrichment.apply(Source.HUBSPOT, hubspot_items()[:1])
    calls = len(api.seen)
    second = await enrichment.apply(Source.HUBSPOT, hubspot_items()[:1])
    assert [item.note for item in first + second] == [NOT_ENRICHED_NOTE, NOT_ENRICHED_NOTE]
    assert len(api.seen) == calls, "no call may go out while Retry-After runs"


async def test_a_short_retry_after_is_waited_for_and_the_call_repeated(api: FakeCrmApi) -> None:
    serve_hubspot(api)
    api.fail(429, {"retry-after": "0.2"}, times=1)
    items = by_id(await hubspot_enrichment(api).apply(Source.HUBSPOT, hubspot_items()[:1]))
    call = items["assoc-880001-510001"]
    assert call.note is None
    assert call.event is not None
    assert call.event.channel == Channel.PHONE_MOBILE


async def test_hubspots_per_10_second_limit_is_kept_by_the_client(api: FakeCrmApi) -> None:
    serve_hubspot(api)
    enrichment = hubspot_enrichment(api, hubspot_requests_per_10_seconds=2)
    items = await enrichment.apply(Source.HUBSPOT, hubspot_items())
    assert api.calls() == 2
    assert any(item.note == NOT_ENRICHED_NOTE for item in items if item.event is not None)


def salesforce_items(fields: dict[str, dict[str, str]] | None = None) -> list[Item]:
    message = salesforce.parse(salesforce_message(), 100)
    context = salesforce.Context(message.organization_id, KEY, NOW)
    notes = [
        salesforce.Notification(n.notification_id, n.sobject_type, n.fields | (fields or {}).get(n.fields["Id"], {}))
        for n in message.notifications
    ]
    return [salesforce.to_item(index, note, context) for index, note in enumerate(notes)]


def serve_salesforce(api: FakeCrmApi) -> Enrichment:
    api.answer("/services/oauth2/token", api_fixture("salesforce/token"))
    api.answer(f"{SALESFORCE_API}/sobjects/Contact/0035e00000QrStUAAV", api_fixture("salesforce/contact"))
    api.answer(f"{SALESFORCE_API}/query", api_fixture("salesforce/contact_query"))
    api.answer(f"{SALESFORCE_API}/sobjects/EmailMessage/02s5e00000OuTgNAAV", api_fixture("salesforce/email_message"))
    return build_enrichment(
        settings(
            salesforce_instance_url="https://acme.my.salesforce.com",
            salesforce_api_base_url=api.url,
            salesforce_client_id="3MVG9-client",
            salesforce_client_secret="client-secret",
        )
    )


async def test_salesforce_call_to_the_mobile_number_and_a_reply_that_meets_the_tasks_contact(
    api: FakeCrmApi,
) -> None:
    enrichment = serve_salesforce(api)
    items = salesforce_items(
        {
            "00T5e00000AbCdEAAZ": {"Subject": "Call +1 (415) 555-0142", "WhatId": "5005e00000CaSeAAAA"},
            "02s5e00000EmAiLAAA": {"ReplyToEmailMessageId": "02s5e00000OuTgNAAV", "CreatedById": "0055e000009AuToAAA"},
        }
    )
    found = by_id(await enrichment.apply(Source.SALESFORCE, items))
    call, reply = found["00T5e00000AbCdEAAZ"].event, found["02s5e00000EmAiLAAA"].event
    assert call is not None
    assert reply is not None
    assert (call.channel, call.category, call.contact_timezone) == (Channel.PHONE_MOBILE, "support", "Europe/Berlin")
    assert (reply.contact_id, reply.sender_id) == ("0035e00000QrStUAAV", "0055e000003XyZ1AAK")
    token_calls = [seen for seen in api.seen if seen.path == "/services/oauth2/token"]
    assert len(token_calls) == 1
    api_calls = [seen for seen in api.seen if seen.path.startswith(SALESFORCE_API)]
    assert {seen.headers["authorization"] for seen in api_calls} == {"Bearer 00D5e000000KQ2e!AQ4AQ.test-access-token"}


async def test_salesforce_token_is_fetched_again_after_a_401(api: FakeCrmApi) -> None:
    enrichment = serve_salesforce(api)
    await enrichment.apply(Source.SALESFORCE, salesforce_items()[:1])
    api.answer(
        f"{SALESFORCE_API}/sobjects/Contact/0035e00000QrStUAAV",
        api_fixture("salesforce/contact", Id="0035e00000QrStUAAV"),
    )
    api.fail(401, times=1)
    enrichment.enrichers[Source.SALESFORCE].records._values.clear()  # type: ignore[attr-defined]
    items = await enrichment.apply(Source.SALESFORCE, salesforce_items()[:1])
    assert items[0].note is None
    assert sum(1 for seen in api.seen if seen.path == "/services/oauth2/token") == 2


async def test_salesforce_do_not_call_and_email_opt_out_are_seen_as_consent_flags(api: FakeCrmApi) -> None:
    enrichment = serve_salesforce(api)
    api.answer(
        f"{SALESFORCE_API}/sobjects/Contact/0035e00000QrStUAAV",
        api_fixture("salesforce/contact", DoNotCall=True, HasOptedOutOfEmail=True),
    )
    facts = await enrichment.enrichers[Source.SALESFORCE].look_up(salesforce_items()[0].lookup)
    assert facts is not None
    assert sorted((flag.channel, flag.opted_out) for flag in facts.consent) == [
        (Channel.EMAIL, True),
        (Channel.PHONE_MOBILE, True),
        (Channel.PHONE_WORK, True),
        (Channel.SMS, True),
    ]


def pipedrive_item(name: str, **data: Any) -> Item:
    body = load(f"pipedrive/{name}.json")
    body["data"] = body["data"] | data
    return pipedrive.to_item(pipedrive.parse(body), KEY, NOW)


def pipedrive_enrichment(api: FakeCrmApi) -> Enrichment:
    api.answer("/api/v2/persons/301", api_fixture("pipedrive/person"))
    return build_enrichment(settings(pipedrive_api_token="pd-token", pipedrive_api_base_url=api.url))


async def test_pipedrive_call_to_the_persons_mobile_label_is_a_cell_phone_call(api: FakeCrmApi) -> None:
    enrichment = pipedrive_enrichment(api)
    [call] = await enrichment.apply(
        Source.PIPEDRIVE, [pipedrive_item("activity_call_done", subject="Call +1 (415) 555-0142")]
    )
    assert call.event is not None
    assert (call.event.channel, call.event.contact_timezone) == (Channel.PHONE_MOBILE, "Europe/Berlin")
    assert api.seen[0].headers["x-api-token"] == "pd-token"
    assert "api_token" not in api.seen[0].query


async def test_pipedrive_incoming_mail_on_a_person_is_a_reply_to_the_rep_who_last_called(api: FakeCrmApi) -> None:
    enrichment = pipedrive_enrichment(api)
    await enrichment.apply(Source.PIPEDRIVE, [pipedrive_item("activity_call_done", owner_id=777)])
    body = load("pipedrive/person_changed.json")
    body["data"] |= {"last_incoming_mail_time": "2026-11-05 10:00:00"}
    body["previous"] = {"last_incoming_mail_time": None}
    [reply] = await enrichment.apply(Source.PIPEDRIVE, [pipedrive.to_item(pipedrive.parse(body), KEY, NOW)])
    assert reply.event is not None
    assert (reply.event.direction, reply.event.kind, reply.event.sender_id) == (Direction.INBOUND, Kind.REPLY, "777")
    assert reply.event.event_id == "reply-301-1793872800"


def test_without_credentials_nothing_is_asked_and_the_blind_spots_are_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("WARNING", "rapport_guard.ingestion.enrichment")
    enrichment = build_enrichment(settings(hubspot_client_secret="hubspot-app-secret"))
    assert enrichment.enrichers == {}
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1
    assert "HUBSPOT_ACCESS_TOKEN is unset" in warnings[0]


async def test_without_credentials_events_are_exactly_what_the_webhook_said() -> None:
    enrichment = build_enrichment(settings())
    items = hubspot_items()
    before = [item.event for item in items]
    assert [item.event for item in await enrichment.apply(Source.HUBSPOT, items)] == before


def test_salesforce_client_credentials_need_an_instance_url() -> None:
    with pytest.raises(ValueError, match="SALESFORCE_INSTANCE_URL"):
        settings(salesforce_client_id="id", salesforce_client_secret="secret")


async def test_unreachable_api_is_counted_as_unreachable() -> None:
    enrichment = build_enrichment(settings(pipedrive_api_token="t", pipedrive_api_base_url="http://127.0.0.1:9"))
    before = counted(ENRICHMENT_FAILURES, source="pipedrive", reason="unreachable")
    [item] = await enrichment.apply(Source.PIPEDRIVE, [pipedrive_item("activity_call_done")])
    assert item.note == NOT_ENRICHED_NOTE
    assert counted(ENRICHMENT_FAILURES, source="pipedrive", reason="unreachable") == before + 1
    await enrichment.close()


def hubspot_opt_out_change(value: str, at_ms: int) -> dict[str, Any]:
    return {
        "eventId": 4242,
        "subscriptionId": 9,
        "portalId": 62515,
        "occurredAt": at_ms,
        "subscriptionType": "contact.propertyChange",
        "objectId": 510001,
        "propertyName": "hs_email_optout",
        "propertyValue": value,
    }


def test_hubspot_email_opt_out_set_and_cleared_become_opt_out_and_opt_in_for_email() -> None:
    set_, cleared = hubspot_items(
        [hubspot_opt_out_change("true", 1793605800000), hubspot_opt_out_change("false", 1793692200000)]
    )
    assert set_.event is not None
    assert cleared.event is not None
    assert (set_.event.kind, set_.event.channel, set_.event.direction) == (
        Kind.OPT_OUT,
        Channel.EMAIL,
        Direction.INBOUND,
    )
    assert (cleared.event.kind, cleared.event.channel) == (Kind.OPT_IN, Channel.EMAIL)
    assert set_.event.event_id == "consent-hubspot-contact-510001-hs_email_optout-email-opt_out-1793605800000"
    assert hubspot_items([hubspot_opt_out_change("true", 1793605800000)])[0].event_id == set_.event.event_id


async def test_salesforce_do_not_call_seen_on_a_touch_is_one_opt_out_per_phone_channel(api: FakeCrmApi) -> None:
    enrichment = serve_salesforce(api)
    api.answer(
        f"{SALESFORCE_API}/sobjects/Contact/0035e00000QrStUAAV", api_fixture("salesforce/contact", DoNotCall=True)
    )
    items = await enrichment.apply(Source.SALESFORCE, salesforce_items())
    opt_outs = [item.event for item in items if item.event is not None and item.event.kind == Kind.OPT_OUT]
    assert sorted(event.channel for event in opt_outs if event.channel) == [
        Channel.PHONE_MOBILE,
        Channel.PHONE_WORK,
        Channel.SMS,
    ]
    assert {event.contact_id for event in opt_outs} == {"0035e00000QrStUAAV"}
    assert {event.event_id for event in opt_outs} == {
        f"consent-salesforce-0035e00000QrStUAAV-DoNotCall-{channel}-opt_out"
        for channel in ("phone_work", "phone_mobile", "sms")
    }


def test_pipedrive_unsubscribing_is_an_email_opt_out_and_resubscribing_an_opt_in() -> None:
    body = load("pipedrive/person_changed.json")
    body["data"] |= {"marketing_status": "unsubscribed", "update_time": "2026-11-06T09:00:00Z"}
    body["previous"] = {"marketing_status": "subscribed"}
    out = pipedrive.to_item(pipedrive.parse(body), KEY, NOW).event
    body["data"] |= {"marketing_status": "subscribed", "update_time": "2026-11-07T09:00:00Z"}
    body["previous"] = {"marketing_status": "unsubscribed"}
    back_in = pipedrive.to_item(pipedrive.parse(body), KEY, NOW).event
    assert out is not None
    assert back_in is not None
    assert (out.kind, out.channel, out.contact_id, out.sender_id) == (Kind.OPT_OUT, Channel.EMAIL, "301", "18487521")
    assert (back_in.kind, back_in.occurred_at) == (Kind.OPT_IN, datetime(2026, 11, 7, 9, 0, tzinfo=UTC))
