"""The pre-send check served past the router answers exactly as FastAPI's router does, and is counted alike."""

import asyncio

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from services.runtime.api_keys import ApiKey, KeyRing
from services.runtime.http_auth import ApiAuth
from services.runtime.http_metrics import install_http_metrics
from services.runtime.rate_limit import TokenBuckets
from services.scoring.http.api import mount, scoring_router
from services.scoring.policy.file import PolicySet
from services.scoring.state.memory_store import MemoryStore
from tests.harness.api_keys import CallerKey
from tests.unit.scoring.builders import DAY, emails
from tests.unit.scoring.test_api import KEY, NOW, stored
from tests.unit.scoring.test_stream import UnreachableStore

ACME = CallerKey("acme-app", tenant="acme")
READER = CallerKey("acme-dashboard", tenant="acme", scopes=("read",))
RING = KeyRing([ApiKey.model_validate(key.entry()) for key in (ACME, READER)])
BODY = b'{"tenant": "acme", "sender": {"id": "rep-1"}, "contact": {"id": "c-1"}, "channel": "email"}'
JSON = {"Content-Type": "application/json"}

CASES: dict[str, tuple[bytes, dict[str, str], int]] = {
    "a check": (BODY, ACME.headers | JSON, 200),
    "no key": (BODY, JSON, 401),
    "a wrong key": (BODY, CallerKey("not-listed").headers | JSON, 401),
    "a key without the check scope": (BODY, READER.headers | JSON, 403),
    "another tenant": (BODY.replace(b'"acme"', b'"globex"'), ACME.headers | JSON, 403),
    "not JSON": (b"{", ACME.headers | JSON, 422),
    "not even text": (b"\xff\xfe", ACME.headers | JSON, 422),
    "a field missing": (b'{"tenant": "acme", "sender": {"id": "rep-1"}}', ACME.headers | JSON, 422),
    "an unknown time zone": (
        BODY.replace(b'{"id": "c-1"}', b'{"id": "c-1", "timezone": "Mars/Base"}'),
        ACME.headers | JSON,
        422,
    ),
}


def client(
    *, fast: bool, store: MemoryStore | None = None, service: str = "unit-check", burst: int = 100
) -> TestClient:
    app = FastAPI()
    auth = ApiAuth(lambda: RING, TokenBuckets(1.0, burst), clock=lambda: 0.0)
    router = scoring_router(
        stored(emails(3, 2 * DAY)) if store is None else store, PolicySet(), KEY, lambda: NOW, asyncio.Lock(), auth=auth
    )
    if fast:
        mount(app, router)
    else:
        app.include_router(router)
    install_http_metrics(app, service)
    return TestClient(app, raise_server_exceptions=False)


def answer(test: TestClient, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
    response = test.post("/v1/check", content=body, headers=headers)
    kept = {name: value for name, value in response.headers.items() if name not in ("date", "server")}
    return response.status_code, response.content, kept


@pytest.mark.parametrize("case", CASES)
def test_the_fast_path_answers_as_the_router_does(case: str) -> None:
    body, headers, status = CASES[case]
    fast = answer(client(fast=True), body, headers)
    assert fast == answer(client(fast=False), body, headers)
    assert fast[0] == status, fast


def test_an_unreachable_store_is_the_same_503() -> None:
    fast = answer(client(fast=True, store=UnreachableStore(expire_after=10**9)), BODY, ACME.headers | JSON)
    assert fast == answer(client(fast=False, store=UnreachableStore(expire_after=10**9)), BODY, ACME.headers | JSON)
    assert fast[0] == 503


def test_a_key_over_its_rate_is_the_same_429_and_spends_one_token_per_check() -> None:
    for fast in (True, False):
        test = client(fast=fast, burst=2)
        statuses = [answer(test, BODY, ACME.headers | JSON)[0] for _ in range(3)]
        assert statuses == [200, 200, 429]


def test_other_routes_and_methods_still_go_through_the_router() -> None:
    test = client(fast=True)
    assert test.get("/v1/check").status_code == 405
    assert test.get("/v1/pairs/acme/rep-1/c-1", headers=ACME.headers).status_code == 200


def test_checks_served_past_the_router_are_counted_under_the_route_template() -> None:
    test = client(fast=True, service="unit-fast-check")
    for _ in range(3):
        test.post("/v1/check", content=BODY, headers=ACME.headers | JSON)
    test.post("/v1/check", content=b"{", headers=ACME.headers | JSON)
    labels = {"service": "unit-fast-check", "route": "/v1/check", "method": "POST"}
    assert REGISTRY.get_sample_value("rapport_http_requests_total", labels | {"status": "200"}) == 3.0
    assert REGISTRY.get_sample_value("rapport_http_requests_total", labels | {"status": "422"}) == 1.0
    timed = {"service": "unit-fast-check", "route": "/v1/check"}
    assert REGISTRY.get_sample_value("rapport_http_request_duration_seconds_count", timed) == 4.0
