"""Every webhook endpoint's answers, with an in-memory sink standing in for Kafka."""

import base64
import json
import time
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from schemas import OutreachEvent
from services.ingestion.app import build_app
from services.ingestion.publisher import BrokerUnavailable
from services.ingestion.settings import IngestionSettings
from services.runtime.standard_webhooks import signed_headers
from tests.fixtures.crm import SALESFORCE_ORG, basic_auth, hubspot_headers, load, raw, salesforce_message

KEY = b"s" * 32
HUBSPOT_SECRET = "hubspot-client-secret-0000"
PUBLIC = "https://hooks.example.com/rg"
PIPEDRIVE_PASSWORD = "s3cret-pass"


class Sink:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.published: list[OutreachEvent] = []

    async def publish(self, events: Sequence[OutreachEvent]) -> None:
        if self.failures:
            self.failures -= 1
            raise BrokerUnavailable("KafkaTimeoutError")
        self.published.extend(events)


async def ready() -> None:
    return None


def client(sink: Sink, **overrides: Any) -> TestClient:
    fields: dict[str, Any] = {
        "generic_webhook_secret": "whsec_" + base64.b64encode(KEY).decode(),
        "identity_hmac_key": "identity-key-0123456789",
        "hubspot_client_secret": HUBSPOT_SECRET,
        "public_base_url": PUBLIC,
        "salesforce_organization_id": SALESFORCE_ORG,
        "pipedrive_webhook_user": "rg",
        "pipedrive_webhook_password": PIPEDRIVE_PASSWORD,
    }
    settings = IngestionSettings(**(fields | overrides))
    return TestClient(build_app(settings, sink, ready))


def post_hubspot(http: TestClient, body: bytes, secret: str = HUBSPOT_SECRET, age_ms: int = 0) -> Any:
    headers = hubspot_headers(secret, PUBLIC + "/v1/webhooks/hubspot", body, int(time.time() * 1000) - age_ms)
    return http.post("/v1/webhooks/hubspot", content=body, headers=headers)


def post_generic(http: TestClient, payload: Any) -> Any:
    body = json.dumps(payload).encode()
    return http.post("/v1/webhooks/generic", content=body, headers=signed_headers(KEY, "m1", body, int(time.time())))


def post_salesforce(http: TestClient, body: bytes) -> Any:
    return http.post("/v1/webhooks/salesforce", content=body, headers={"content-type": "text/xml; charset=utf-8"})


def post_pipedrive(http: TestClient, name: str, password: str = PIPEDRIVE_PASSWORD) -> Any:
    return http.post("/v1/webhooks/pipedrive", content=raw(name), headers=basic_auth("rg", password))


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_hubspot_batch_gets_a_result_per_event_and_publishes_only_touches() -> None:
    sink = Sink()
    ignored_before = sample("rapport_ingestion_events_total", source="hubspot", result="ignored")
    response = post_hubspot(client(sink), raw("hubspot/engagements.json"))
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["accepted"], body["duplicate"], body["ignored"], body["rejected"]) == (4, 1, 4, 0)
    assert body["results"][1] == {"index": 1, "event_id": "assoc-880001-510001", "status": "duplicate"}
    assert [e.kind for e in sink.published] == ["call", "message", "meeting", "reply"]
    assert sample("rapport_ingestion_events_total", source="hubspot", result="ignored") == ignored_before + 4


def test_hubspot_retry_of_the_same_batch_is_all_duplicates_and_publishes_nothing() -> None:
    sink = Sink()
    http = client(sink)
    body = raw("hubspot/engagements.json")
    assert post_hubspot(http, body).status_code == 202
    retry = post_hubspot(http, body).json()
    assert (retry["accepted"], retry["duplicate"]) == (0, 5)
    assert len(sink.published) == 4


@pytest.mark.parametrize(("secret", "age_ms"), [("forged-secret", 0), (HUBSPOT_SECRET, 10 * 60 * 1000)])
def test_hubspot_forged_or_stale_requests_are_401_and_publish_nothing(secret: str, age_ms: int) -> None:
    sink = Sink()
    response = post_hubspot(client(sink), raw("hubspot/engagements.json"), secret, age_ms)
    assert response.status_code == 401
    assert response.json()["error"] == "bad_signature"
    assert sink.published == []


def test_hubspot_signed_for_the_url_it_arrived_on_is_refused_when_a_public_url_is_set() -> None:
    body = raw("hubspot/engagements.json")
    headers = hubspot_headers(HUBSPOT_SECRET, "http://testserver/v1/webhooks/hubspot", body, int(time.time() * 1000))
    response = client(Sink()).post("/v1/webhooks/hubspot", content=body, headers=headers)
    assert response.status_code == 401
    assert PUBLIC in response.json()["detail"]


def test_an_unconfigured_crm_is_401_saying_which_setting_enables_it() -> None:
    response = post_hubspot(client(Sink(), hubspot_client_secret=None), raw("hubspot/engagements.json"))
    assert response.status_code == 401
    assert "HUBSPOT_CLIENT_SECRET" in response.json()["detail"]


def test_salesforce_message_is_acknowledged_in_soap_after_publishing() -> None:
    sink = Sink()
    response = post_salesforce(client(sink), salesforce_message())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert "<Ack>true</Ack>" in response.text
    assert len(sink.published) == 4


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (salesforce_message("00D5e000000ZZZZEAG"), 401, "OrganizationId is not the configured"),
        (b"<soap>", 400, "not a SOAP envelope"),
    ],
)
def test_salesforce_refusals_are_soap_faults_that_say_why(body: bytes, status: int, words: str) -> None:
    sink = Sink()
    response = post_salesforce(client(sink), body)
    assert response.status_code == status
    assert "<faultcode>soapenv:Client</faultcode>" in response.text
    assert words in response.text
    assert sink.published == []


def test_salesforce_broker_outage_is_a_server_fault_and_the_retry_is_accepted() -> None:
    sink = Sink(failures=1)
    http = client(sink)
    failed = post_salesforce(http, salesforce_message())
    assert failed.status_code == 503
    assert "<faultcode>soapenv:Server</faultcode>" in failed.text
    assert post_salesforce(http, salesforce_message()).status_code == 200
    assert len(sink.published) == 4


def test_pipedrive_done_call_is_accepted_and_a_person_change_is_ignored() -> None:
    sink = Sink()
    http = client(sink)
    accepted = post_pipedrive(http, "pipedrive/activity_call_done.json")
    assert accepted.status_code == 202
    assert accepted.json()["results"] == [{"index": 0, "event_id": "activity-4401", "status": "accepted"}]
    ignored = post_pipedrive(http, "pipedrive/person_changed.json").json()
    assert ignored["results"][0]["status"] == "ignored"
    assert [e.event_id for e in sink.published] == ["activity-4401"]


def test_pipedrive_wrong_password_is_401() -> None:
    response = post_pipedrive(client(Sink()), "pipedrive/activity_call_done.json", password="guessed-pass")
    assert response.status_code == 401
    assert response.json()["error"] == "bad_credentials"


def test_503_marks_nothing_seen_so_the_crm_retry_is_accepted_not_duplicate() -> None:
    sink = Sink(failures=1)
    http = client(sink)
    payload = load("generic/touches.json")
    assert post_generic(http, payload).status_code == 503
    retry = post_generic(http, payload).json()
    assert (retry["accepted"], retry["duplicate"]) == (3, 0)


def test_tenant_over_its_rate_gets_429_with_retry_after_and_nothing_is_published() -> None:
    sink = Sink()
    http = client(sink, tenant_rate_limit_per_second=0.5, tenant_rate_limit_burst=3)
    assert post_generic(http, load("generic/touches.json")).status_code == 202
    payload = load("generic/touches.json")
    payload["events"][0]["event_id"] = "another-one"
    limited = post_generic(http, {"events": payload["events"][:1]})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert "retry after" in limited.json()["detail"]
    assert len(sink.published) == 3


def test_a_batch_of_only_ignored_items_is_still_202() -> None:
    body = json.dumps([load("hubspot/engagements.json")[5]]).encode()
    response = post_hubspot(client(Sink()), body)
    assert response.status_code == 202
    assert response.json()["ignored"] == 1


def test_openapi_describes_every_webhook_with_its_body_and_answers() -> None:
    spec = client(Sink()).get("/openapi.json").json()
    for source in ("generic", "hubspot", "pipedrive", "salesforce"):
        operation = spec["paths"][f"/v1/webhooks/{source}"]["post"]
        assert operation["requestBody"]["required"] is True
        assert {"400", "401", "413", "429", "503"} <= set(operation["responses"])
    assert "HubSpotEvent" in spec["components"]["schemas"]
    assert spec["components"]["schemas"]["HubSpotEvent"]["properties"]["eventId"]["type"] == "integer"
