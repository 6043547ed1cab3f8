"""The generic webhook endpoint's answers, with an in-memory sink standing in for Kafka."""

import base64
import json
import time
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemas import OutreachEvent
from services.ingestion.app import build_app
from services.ingestion.publisher import BrokerUnavailable
from services.ingestion.settings import IngestionSettings
from services.runtime.standard_webhooks import signed_headers

KEY = b"s" * 32
SECRET = "whsec_" + base64.b64encode(KEY).decode()


class RecordingSink:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.published: list[OutreachEvent] = []

    async def publish(self, events: Sequence[OutreachEvent]) -> None:
        if self.fail:
            raise BrokerUnavailable("KafkaTimeoutError")
        self.published.extend(events)


async def ready() -> None:
    return None


def client(sink: RecordingSink, **overrides: Any) -> TestClient:
    settings = IngestionSettings(
        generic_webhook_secret=SECRET, identity_hmac_key="identity-key-0123456789", **overrides
    )
    return TestClient(build_app(settings, sink, ready))


def event(**fields: Any) -> dict[str, Any]:
    return {
        "event_id": "evt-1",
        "tenant": "acme",
        "occurred_at": "2026-11-02T09:30:00+01:00",
        "sender": {"id": "rep-1"},
        "contact": {"email": "Dana@Example.org", "timezone": "Europe/Berlin"},
        "channel": "email",
        "direction": "outbound",
        "kind": "message",
    } | fields


def post(http: TestClient, payload: Any, raw: bytes | None = None) -> Any:
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = signed_headers(KEY, "msg-1", body, int(time.time()))
    return http.post("/v1/webhooks/generic", content=body, headers=headers)


def test_one_valid_event_is_published_before_202() -> None:
    sink = RecordingSink()
    response = post(client(sink), event())
    assert response.status_code == 202
    assert response.json() == {
        "accepted": 1,
        "duplicate": 0,
        "rejected": 0,
        "ignored": 0,
        "results": [{"index": 0, "event_id": "evt-1", "status": "accepted"}],
    }
    [published] = sink.published
    assert published.contact_key == published.tenant + ":" + published.contact_id
    assert published.occurred_at.isoformat() == "2026-11-02T08:30:00+00:00"
    assert "dana" not in published.model_dump_json().lower()


def test_a_batch_with_one_bad_item_accepts_the_rest_and_names_the_field() -> None:
    sink = RecordingSink()
    response = post(client(sink), {"events": [event(), event(event_id="evt-2", channel="pigeon")]})
    assert response.status_code == 202
    rejected = response.json()["results"][1]
    assert rejected["status"] == "rejected"
    assert rejected["index"] == 1
    assert "channel" in rejected["reason"]
    assert [e.event_id for e in sink.published] == ["evt-1"]


def test_naive_times_are_rejected_rather_than_guessed() -> None:
    response = post(client(RecordingSink()), event(occurred_at="2026-11-02T09:30:00"))
    assert response.status_code == 422
    assert "timezone" in response.json()["results"][0]["reason"]


@pytest.mark.parametrize("batched", [False, True], ids=["one event", "a batch"])
def test_what_the_scorer_could_not_take_is_rejected_naming_the_field(batched: bool) -> None:
    """An unknown time zone or a touch dated after tomorrow would be dead-lettered by the scorer after a `202`."""
    sink = RecordingSink()
    tomorrow_and_more = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2 * 86400))
    bad = [
        event(event_id="evt-2", contact={"id": "c-2", "timezone": "Berlin"}),
        event(event_id="evt-3", occurred_at=tomorrow_and_more),
        event(event_id="evt-4", occurred_at="1900-01-01T00:00:00Z"),
    ]
    results = []
    for item in bad:
        response = post(client(sink), {"events": [event(), item]} if batched else item)
        assert response.status_code == (202 if batched else 422)
        results.append(response.json()["results"][-1])
    assert [(result["event_id"], result["status"]) for result in results] == [
        ("evt-2", "rejected"),
        ("evt-3", "rejected"),
        ("evt-4", "rejected"),
    ]
    assert results[0]["reason"] == "contact.timezone: must be an IANA time zone like 'Europe/Berlin', got 'Berlin'"
    assert results[1]["reason"] == "occurred_at: more than a day after the event was received"
    assert results[2]["reason"] == "occurred_at: outside the years 1952-2088"
    assert {published.event_id for published in sink.published} == ({"evt-1"} if batched else set())


def test_all_invalid_is_422() -> None:
    response = post(client(RecordingSink()), {"events": [{"event_id": "x"}]})
    assert response.status_code == 422
    assert response.json()["rejected"] == 1


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"events": "nope"}', b'{"events": []}'])
def test_unparseable_or_misshapen_bodies_are_400(raw: bytes) -> None:
    response = post(client(RecordingSink()), None, raw=raw)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_body"


def test_bad_signature_is_401_and_nothing_is_published() -> None:
    sink = RecordingSink()
    body = json.dumps(event()).encode()
    headers = signed_headers(b"x" * 32, "msg-1", body, int(time.time()))
    response = client(sink).post("/v1/webhooks/generic", content=body, headers=headers)
    assert response.status_code == 401
    assert sink.published == []


def test_oversized_body_is_413() -> None:
    response = post(client(RecordingSink(), max_body_bytes=2048), {"events": [event()] * 20})
    assert response.status_code == 413
    assert "2048" in response.json()["detail"]


def test_too_many_events_is_400_naming_the_limit() -> None:
    response = post(client(RecordingSink(), max_batch_events=2), {"events": [event()] * 3})
    assert response.status_code == 400
    assert "at most 2" in response.json()["detail"]


def test_broker_failure_is_503_and_says_nothing_was_accepted() -> None:
    response = post(client(RecordingSink(fail=True)), event())
    assert response.status_code == 503
    assert "nothing was accepted" in response.json()["detail"]


def test_openapi_documents_the_webhook() -> None:
    spec = client(RecordingSink()).get("/openapi.json").json()
    assert set(spec["paths"]["/v1/webhooks/generic"]["post"]["responses"]) >= {"202", "401", "413", "503"}


def test_an_opt_out_without_a_channel_covers_every_channel_and_is_published() -> None:
    sink = RecordingSink()
    payload = event(kind="opt_out", direction="inbound")
    del payload["channel"]
    response = post(client(sink), payload)
    assert response.json()["results"][0]["status"] == "accepted"
    [published] = sink.published
    assert (published.kind, published.channel, published.direction) == ("opt_out", None, "inbound")


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"kind": "opt_out", "direction": "inbound", "channel": "carrier_pigeon"}, "channel"),
        ({"kind": "opt_in", "direction": "outbound"}, "direction"),
        ({"kind": "message", "channel": None}, "channel"),
    ],
)
def test_consent_and_touches_that_do_not_fit_together_are_rejected_naming_the_field(
    fields: dict[str, Any], named: str
) -> None:
    sink = RecordingSink()
    response = post(client(sink), {"events": [event(), event(event_id="evt-2", **fields)]})
    assert response.status_code == 202
    rejected = response.json()["results"][1]
    assert rejected["status"] == "rejected"
    assert rejected["reason"].startswith(f"{named}:")
    assert [e.event_id for e in sink.published] == ["evt-1"]
