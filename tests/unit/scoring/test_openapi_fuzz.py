"""Schemathesis against scoring's served OpenAPI document, in process over the memory store.

Without credentials (none, or the made-up ones schemathesis sends) every generated request to a protected
operation is refused with 401, whatever its body or path; with an operator's key the generated requests reach
the handlers, and none gets a server error.
"""

import asyncio
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from requests.structures import CaseInsensitiveDict

from services.runtime.http_auth import ApiAuth
from services.scoring.http.api import scoring_router
from services.scoring.policy.file import PolicySet
from services.scoring.state.memory_store import MemoryStore
from tests.unit.scoring.test_api import KEY, NOW, OPERATOR, OPERATOR_ONLY

pytestmark = pytest.mark.slow

EXAMPLES = settings(
    max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
)

APP = FastAPI()
APP.include_router(
    scoring_router(
        MemoryStore(expire_after=10**9),
        PolicySet(),
        KEY,
        lambda: NOW,
        asyncio.Lock(),
        auth=ApiAuth(lambda: OPERATOR_ONLY),
    )
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@EXAMPLES
def test_without_a_key_every_operation_answers_401(case: schemathesis.Case[Any]) -> None:
    response = case.call()
    if case.method.upper() != case.operation.method.upper():
        assert response.status_code == 405, "a method the path does not serve"
        return
    assert response.status_code == 401, response.text
    (challenge,) = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="rapport-guard"'), "schemathesis sends no key or a made-up one"


@schema.parametrize()
@EXAMPLES
def test_with_an_operators_key_no_generated_request_gets_a_server_error(case: schemathesis.Case[Any]) -> None:
    case.headers = CaseInsensitiveDict({**dict(case.headers or {}), **OPERATOR.headers})
    response = case.call()
    assert response.status_code < 500, response.text
    assert response.status_code != 401, response.text
