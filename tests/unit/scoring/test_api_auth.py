"""Who may call the scoring API: a key for the tenant, with the route's scope; the check is rate limited per key."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.runtime.api_keys import ApiKey, ApiKeysFileError, KeyRing
from services.runtime.rate_limit import TokenBuckets
from services.scoring.app import create_app
from services.scoring.settings import ScoringSettings
from services.scoring.state.memory_store import MemoryStore
from tests.harness.api_keys import CallerKey, operator_keys_file
from tests.unit.scoring.builders import DAY, emails
from tests.unit.scoring.test_api import OPERATOR, api, stored

ACME = CallerKey("acme-app", tenant="acme")
GLOBEX = CallerKey("globex-app", tenant="globex")
ACME_READER = CallerKey("acme-dashboard", tenant="acme", scopes=("read",))
ACME_CHECKER = CallerKey("acme-sender", tenant="acme", scopes=("check",))
ALL = (OPERATOR, ACME, GLOBEX, ACME_READER, ACME_CHECKER)
RING = KeyRing([ApiKey.model_validate(key.entry()) for key in ALL])
CHECK_BODY = {"tenant": "acme", "sender": {"id": "rep-1"}, "contact": {"id": "c-1"}, "channel": "email"}
REALM = 'Bearer realm="rapport-guard"'


def acme_store() -> MemoryStore:
    return stored(emails(3, 2 * DAY))


def calls(key: CallerKey | None, tenant: str = "acme") -> dict[str, int]:
    """The status of each protected route, called with `key` (or none) for `tenant`."""
    client = api(acme_store(), RING)
    headers = {"Authorization": ""} if key is None else key.headers
    return {
        "check": client.post("/v1/check", json=CHECK_BODY | {"tenant": tenant}, headers=headers).status_code,
        "read": client.get(f"/v1/pairs/{tenant}/rep-1/c-1", headers=headers).status_code,
        "erase": client.delete(f"/v1/contacts/{tenant}/c-1", headers=headers).status_code,
    }


def test_without_a_key_every_route_answers_401_with_the_bearer_challenge() -> None:
    client = api(acme_store(), RING)
    client.headers.pop("Authorization")
    for answer in (
        client.post("/v1/check", json=CHECK_BODY),
        client.get("/v1/pairs/acme/rep-1/c-1"),
        client.delete("/v1/contacts/acme/c-1"),
        client.get("/v1/pairs/acme/rep-1/c-1", headers={"Authorization": "Basic dXNlcjpwYXNz"}),
    ):
        assert answer.status_code == 401, answer.text
        assert answer.headers["WWW-Authenticate"] == REALM
    assert len(acme_store()) == 1, "nothing was erased"


def test_a_wrong_key_answers_401_invalid_token() -> None:
    client = api(acme_store(), RING)
    stranger = CallerKey("not-listed")
    answer = client.get("/v1/pairs/acme/rep-1/c-1", headers=stranger.headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == f'{REALM}, error="invalid_token"'
    almost = {"Authorization": f"Bearer {OPERATOR.key[:-1]}"}
    assert client.post("/v1/check", json=CHECK_BODY, headers=almost).status_code == 401


def test_a_tenants_key_works_for_its_own_tenant() -> None:
    assert calls(ACME) == {"check": 200, "read": 200, "erase": 204}


def test_a_tenants_key_gets_403_on_another_tenants_paths_and_bodies() -> None:
    assert calls(GLOBEX, tenant="acme") == {"check": 403, "read": 403, "erase": 403}
    client = api(acme_store(), RING)
    no_tenant = {key: value for key, value in CHECK_BODY.items() if key != "tenant"}
    assert client.post("/v1/check", json=no_tenant, headers=ACME.headers).status_code == 403, "that is 'default'"


def test_an_operator_key_acts_for_every_tenant() -> None:
    assert calls(OPERATOR, tenant="acme") == {"check": 200, "read": 200, "erase": 204}
    assert calls(OPERATOR, tenant="globex") == {"check": 200, "read": 404, "erase": 404}


def test_each_route_needs_its_scope() -> None:
    assert calls(ACME_READER) == {"check": 403, "read": 200, "erase": 403}
    assert calls(ACME_CHECKER) == {"check": 200, "read": 403, "erase": 403}
    answer = api(acme_store(), RING).delete("/v1/contacts/acme/c-1", headers=ACME_READER.headers)
    assert answer.headers["WWW-Authenticate"] == f'{REALM}, error="insufficient_scope", scope="erase"'


def test_checks_over_a_keys_rate_answer_429_with_retry_after_and_other_keys_go_on() -> None:
    client = api(MemoryStore(expire_after=10**9), RING, TokenBuckets(rate=0.5, burst=3))
    statuses = [client.post("/v1/check", json=CHECK_BODY, headers=ACME.headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.post("/v1/check", json=CHECK_BODY, headers=ACME.headers)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "2"
    assert client.post("/v1/check", json=CHECK_BODY, headers=ACME_CHECKER.headers).status_code == 200
    assert client.get("/v1/pairs/acme/rep-1/c-1", headers=ACME.headers).status_code == 404, "reads are not limited"


def test_probes_and_metrics_need_no_key_but_the_api_does(tmp_path: Path) -> None:
    settings = ScoringSettings(
        identity_hmac_key="identity-key-0123456789",
        kafka_bootstrap_servers="127.0.0.1:1",
        api_keys_file=operator_keys_file(tmp_path)[1],
    )
    client = TestClient(create_app(settings))  # no lifespan: the broker is never started
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503, "not ready, but not refused"
    assert client.get("/metrics").status_code == 200
    assert client.get("/v1/pairs/acme/rep-1/c-1").status_code == 401


def test_the_service_will_not_start_without_a_keys_file() -> None:
    settings = ScoringSettings(identity_hmac_key="identity-key-0123456789", kafka_bootstrap_servers="127.0.0.1:1")
    with pytest.raises(ApiKeysFileError, match=r"^API_KEYS_FILE: not set"):
        create_app(settings)


def test_openapi_declares_the_bearer_scheme_on_every_protected_operation(tmp_path: Path) -> None:
    settings = ScoringSettings(
        identity_hmac_key="identity-key-0123456789", api_keys_file=operator_keys_file(tmp_path)[1]
    )
    spec = TestClient(create_app(settings)).get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key listed (as its sha256) in the service's API_KEYS_FILE.",
    }
    operations = {
        (method, path): operation for path, item in spec["paths"].items() for method, operation in item.items()
    }
    protected = {key for key in operations if key[1].startswith("/v1/")}
    assert protected == {
        ("post", "/v1/check"),
        ("get", "/v1/pairs/{tenant}/{sender_id}/{contact_id}"),
        ("delete", "/v1/contacts/{tenant}/{contact_id}"),
    }
    for key, operation in operations.items():
        assert ("security" in operation) == (key in protected), key
        if key in protected:
            assert operation["security"] == [{"apiKey": []}]
            assert {"401", "403"} <= set(operation["responses"])
    assert "429" in operations[("post", "/v1/check")]["responses"]
