"""Schemathesis against the served OpenAPI document, in process with an in-memory sink: never a 5xx.

Two runs: requests exactly as schemathesis generates them (mostly refused at the signature), and the same
generated bodies signed or authenticated correctly, so that they reach every adapter's parser and mapper.
"""

import base64
import json
import time
from collections.abc import Sequence
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from schemas import OutreachEvent
from services.ingestion.app import build_app
from services.ingestion.settings import IngestionSettings
from services.runtime.standard_webhooks import signed_headers
from tests.fixtures.crm import SALESFORCE_ORG, basic_auth, hubspot_headers

pytestmark = pytest.mark.slow

KEY = b"f" * 32
HUBSPOT_SECRET = "fuzz-hubspot-secret"
PIPEDRIVE_PASSWORD = "fuzz-pass-123"
EXAMPLES = settings(
    max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
)


class Sink:
    async def publish(self, events: Sequence[OutreachEvent]) -> None:
        del events


async def ready() -> None:
    return None


APP = build_app(
    IngestionSettings(
        generic_webhook_secret="whsec_" + base64.b64encode(KEY).decode(),
        identity_hmac_key="identity-key-0123456789",
        hubspot_client_secret=HUBSPOT_SECRET,
        salesforce_organization_id=SALESFORCE_ORG,
        pipedrive_webhook_user="rg",
        pipedrive_webhook_password=PIPEDRIVE_PASSWORD,
        max_body_bytes=65_536,
    ),
    Sink(),
    ready,
)
CLIENT = TestClient(APP)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@EXAMPLES
def test_no_generated_request_gets_a_server_error(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(checks=[not_a_server_error])


def raw_body(case: schemathesis.Case[Any]) -> bytes:
    body: Any = case.body
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, bytes):
        return body
    try:
        return json.dumps(body).encode()
    except (TypeError, ValueError):
        return b""


def authenticated(path: str, body: bytes) -> dict[str, str]:
    if path.endswith("/generic"):
        return signed_headers(KEY, "fuzz-1", body, int(time.time()))
    if path.endswith("/hubspot"):
        return hubspot_headers(HUBSPOT_SECRET, f"http://testserver{path}", body, int(time.time() * 1000))
    if path.endswith("/pipedrive"):
        return basic_auth("rg", PIPEDRIVE_PASSWORD)
    return {"content-type": "text/xml; charset=utf-8"}


@schema.include(path_regex="/v1/webhooks/").parametrize()
@EXAMPLES
def test_authenticated_generated_bodies_reach_the_adapters_without_a_server_error(case: schemathesis.Case[Any]) -> None:
    body = raw_body(case)
    response = CLIENT.post(case.path, content=body, headers=authenticated(case.path, body))
    assert response.status_code < 500, response.text
    assert response.status_code != 401, response.text
