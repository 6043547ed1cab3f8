"""The scoring HTTP API: pre-send check, a pair's summary, erasure; identities as the webhooks name them."""

import asyncio
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from schemas import OutreachEvent, Source
from services.identity.parties import Contact, contact_id
from services.ingestion.generic import GenericEvent, outreach_fields
from services.runtime.api_keys import ApiKey, KeyRing
from services.runtime.http_auth import ApiAuth
from services.runtime.rate_limit import TokenBuckets
from services.scoring.app import create_app
from services.scoring.http.api import CheckRequest, CheckResponse, mount, scoring_router
from services.scoring.policy.file import PolicySet
from services.scoring.processing.processor import Processor
from services.scoring.settings import ScoringSettings
from services.scoring.state.memory_store import MemoryStore
from tests.harness.api_keys import CallerKey, operator_keys_file
from tests.unit.scoring.builders import DAY, T0, emails
from tests.unit.scoring.test_stream import UnreachableStore

KEY = b"identity-key-0123456789"
NOW = T0 + 5 * DAY


OPERATOR = CallerKey("operator")
OPERATOR_ONLY = KeyRing([ApiKey.model_validate(OPERATOR.entry())])


def api(store: MemoryStore, keys: KeyRing = OPERATOR_ONLY, limiter: TokenBuckets | None = None) -> TestClient:
    """The router as the service mounts it; calls carry the operator's key unless they set their own."""
    app = FastAPI()
    auth = ApiAuth(lambda: keys, limiter, clock=lambda: 0.0)
    mount(app, scoring_router(store, PolicySet(), KEY, lambda: NOW, asyncio.Lock(), auth=auth))
    return TestClient(app, headers=OPERATOR.headers)


def stored(*batches: list) -> MemoryStore:  # type: ignore[type-arg]
    store = MemoryStore(expire_after=10**9)
    processor = Processor(store, PolicySet())

    async def run() -> None:
        for batch in batches:
            _, states = await processor.process(batch, NOW)
            await processor.save(states)

    asyncio.run(run())
    return store


def checks(decision: str) -> float:
    return REGISTRY.get_sample_value("rapport_scoring_checks_total", {"decision": decision}) or 0.0


def test_a_first_email_to_a_new_contact_is_welcome_now() -> None:
    before = checks("allow")
    answer = api(stored()).post(
        "/v1/check", json={"tenant": "acme", "sender": {"id": "rep-1"}, "contact": {"id": "c-9"}, "channel": "email"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["decision"], body["level"], body["tier"], body["reasons"]) == ("allow", "ok", "stranger", [])
    assert body["next_allowed_at"] == "2026-11-07T09:00:00Z"
    assert checks("allow") == before + 1


def test_a_third_unanswered_email_gets_a_warning_with_reasons_and_a_time() -> None:
    store = stored(emails(2, 2 * DAY))
    answer = (
        api(store)
        .post(
            "/v1/check",
            json={"tenant": "acme", "sender": {"id": "rep-1"}, "contact": {"id": "c-1"}, "channel": "email"},
        )
        .json()
    )
    assert answer["decision"] == "warn"
    assert answer["level"] == "watch"
    assert [r["rule"] for r in answer["reasons"]] == ["unanswered_streak"]
    assert "without a reply" in answer["reasons"][0]["message"]
    assert answer["next_allowed_at"] == (T0 + 60 * DAY).isoformat().replace("+00:00", "Z")


def test_a_call_to_a_cell_phone_is_judged_in_the_contacts_time_zone() -> None:
    body = {
        "tenant": "acme",
        "sender": {"id": "rep-1"},
        "contact": {"id": "c-1", "timezone": "Asia/Tokyo"},
        "channel": "phone_mobile",
    }
    tokyo_morning = api(stored()).post("/v1/check", json=body | {"at": T0.replace(hour=1).isoformat()}).json()
    assert tokyo_morning["decision"] == "allow", "01:00 UTC is 10:00 in Tokyo"
    tokyo_night = api(stored()).post("/v1/check", json=body | {"at": T0.replace(hour=13).isoformat()}).json()
    assert tokyo_night["decision"] == "warn"
    assert [r["rule"] for r in tokyo_night["reasons"]] == ["quiet_hours"]
    assert "Asia/Tokyo" in tokyo_night["reasons"][0]["message"]


def test_people_named_by_email_are_the_same_people_the_webhooks_counted() -> None:
    webhook = GenericEvent.model_validate(
        {
            "event_id": "crm-1",
            "tenant": "acme",
            "occurred_at": T0.isoformat(),
            "sender": {"email": "Sam@Example.org"},
            "contact": {"email": " Dana@Example.ORG "},
            "channel": "email",
            "direction": "outbound",
            "kind": "message",
        }
    )
    event = OutreachEvent.model_validate(outreach_fields(webhook, KEY, T0))
    assert event.source is Source.GENERIC
    store = stored([event, event.model_copy(update={"event_id": "crm-2", "occurred_at": T0 + 2 * DAY})])
    body = {"tenant": "acme", "sender": {"email": "sam@example.org"}, "contact": {"email": "dana@example.org"}}
    answer = api(store).post("/v1/check", json=body | {"channel": "email"}).json()
    assert answer["contact_id"] == event.contact_id == contact_id(Contact(email="dana@example.org"), KEY)
    assert answer["decision"] == "warn", "the two e-mails sent through the webhook count"
    assert "dana" not in str(answer).lower()


def test_the_pair_summary_shows_the_relationship_as_of_now() -> None:
    client = api(stored(emails(3, 2 * DAY)))
    summary = client.get("/v1/pairs/acme/rep-1/c-1").json()
    assert summary["level"] == "watch"
    assert summary["alerted_level"] == "watch"
    assert summary["touches"] == 3
    assert summary["last_touch_at"] == (T0 + 4 * DAY).isoformat().replace("+00:00", "Z")
    assert summary["team_level"] is None
    assert client.get("/v1/pairs/acme/rep-2/c-1").status_code == 404


def test_erasing_a_contact_forgets_everything_about_them() -> None:
    store = stored(emails(3, 2 * DAY))
    client = api(store)
    assert client.delete("/v1/contacts/acme/c-1").status_code == 204
    assert client.get("/v1/pairs/acme/rep-1/c-1").status_code == 404
    assert client.delete("/v1/contacts/acme/c-1").status_code == 404
    assert len(store) == 0


def test_bad_requests_say_what_to_fix() -> None:
    client = api(stored())
    nobody = client.post("/v1/check", json={"sender": {"id": "rep-1"}, "contact": {}, "channel": "email"})
    assert nobody.status_code == 422
    assert "contact needs an id, an email or a phone" in nobody.text
    nowhere = client.post(
        "/v1/check",
        json={"sender": {"id": "rep-1"}, "contact": {"id": "c", "timezone": "Mars/Olympus"}, "channel": "email"},
    )
    assert nowhere.status_code == 422
    assert "IANA time zone" in nowhere.text


def test_an_unreachable_store_is_a_503_not_a_guess() -> None:
    client = api(UnreachableStore(expire_after=10**9))
    answer = client.post("/v1/check", json={"sender": {"id": "rep-1"}, "contact": {"id": "c"}, "channel": "email"})
    assert answer.status_code == 503
    assert client.delete("/v1/contacts/default/c").status_code == 503


def test_the_service_documents_its_api(tmp_path: Path) -> None:
    settings = ScoringSettings(
        identity_hmac_key="identity-key-0123456789",
        kafka_bootstrap_servers="127.0.0.1:1",
        api_keys_file=operator_keys_file(tmp_path)[1],
    )
    paths = TestClient(create_app(settings)).get("/openapi.json").json()["paths"]
    assert {"/v1/check", "/v1/pairs/{tenant}/{sender_id}/{contact_id}", "/v1/contacts/{tenant}/{contact_id}"} <= set(
        paths
    )


def test_openapi_declares_the_checks_body_and_answer_and_the_service_honours_them() -> None:
    client = api(stored(emails(2, 2 * DAY)))
    operation = client.get("/openapi.json").json()["paths"]["/v1/check"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CheckRequest"}
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/CheckResponse"}
    assert "422" in operation["responses"]
    request = {"tenant": "acme", "sender": {"id": "rep-1"}, "contact": {"id": "c-1"}, "channel": "email"}
    response = client.post("/v1/check", json=request)
    assert response.headers["content-type"] == "application/json"
    declared = CheckResponse.model_validate_json(response.content)
    assert response.json() == declared.model_dump(mode="json"), "the answer is exactly the declared document"
    assert CheckRequest.model_validate(request).sender.id == "rep-1"


def test_a_body_that_is_not_json_is_a_422_in_fastapis_format() -> None:
    response = api(stored()).post("/v1/check", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"][0] == "body"
    assert error["type"] == "json_invalid"


def test_a_body_that_is_not_even_text_is_a_422_not_a_server_error() -> None:
    response = api(stored()).post("/v1/check", content=b"\x80", headers={"content-type": "application/json"})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["type"], error["input"]) == ("json_invalid", "\ufffd")
