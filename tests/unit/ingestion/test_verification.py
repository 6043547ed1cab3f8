"""Proof of origin per CRM: HubSpot v3 signatures and Pipedrive Basic auth."""

import base64
from datetime import UTC, datetime

import pytest

from services.ingestion import hubspot, pipedrive
from services.runtime.standard_webhooks import SignatureError
from tests.fixtures.crm import hubspot_headers

SECRET = "hubspot-client-secret-0000"
URL = "https://hooks.example.com/v1/webhooks/hubspot"
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
BODY = b'[{"eventId":1}]'


def check(headers: dict[str, str], body: bytes = BODY, uri: str = URL, method: str = "POST") -> None:
    hubspot.verify([SECRET.encode()], headers, body, method=method, uri=uri, now=NOW)


def test_hubspot_request_signed_with_the_client_secret_verifies() -> None:
    check(hubspot_headers(SECRET, URL, BODY, NOW_MS))


def test_hubspot_rotation_accepts_either_configured_secret() -> None:
    headers = hubspot_headers("the-new-secret-0000", URL, BODY, NOW_MS)
    hubspot.verify([SECRET.encode(), b"the-new-secret-0000"], headers, BODY, method="POST", uri=URL, now=NOW)


@pytest.mark.parametrize(
    ("headers", "body", "uri", "problem"),
    [
        (hubspot_headers("forged-secret", URL, BODY, NOW_MS), BODY, URL, "does not match"),
        (hubspot_headers(SECRET, URL, BODY, NOW_MS), b'[{"eventId":2}]', URL, "does not match"),
        (hubspot_headers(SECRET, URL, BODY, NOW_MS), BODY, "http://proxy:8080/v1/webhooks/hubspot", "PUBLIC_BASE_URL"),
        (hubspot_headers(SECRET, URL, BODY, NOW_MS - 301_000), BODY, URL, "5 minutes"),
        (hubspot_headers(SECRET, URL, BODY, NOW_MS + 301_000), BODY, URL, "5 minutes"),
        ({"x-hubspot-signature-v3": "abc"}, BODY, URL, "missing"),
        ({**hubspot_headers(SECRET, URL, BODY, NOW_MS), "x-hubspot-request-timestamp": "soon"}, BODY, URL, "millis"),
    ],
)
def test_hubspot_forged_tampered_misaddressed_or_stale_requests_are_refused(
    headers: dict[str, str], body: bytes, uri: str, problem: str
) -> None:
    with pytest.raises(SignatureError, match=problem):
        check(headers, body, uri)


def test_hubspot_uri_escapes_are_decoded_before_checking() -> None:
    decoded = URL + "?portal=a:b@c"
    check(hubspot_headers(SECRET, decoded, BODY, NOW_MS), uri=URL + "?portal=a%3Ab%40c")


def basic(value: str) -> str:
    return "Basic " + base64.b64encode(value.encode()).decode()


def test_pipedrive_basic_auth_with_the_configured_pair_passes() -> None:
    pipedrive.check_basic_auth(basic("rg:s3cret-pass"), "rg", "s3cret-pass")


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (None, "missing"),
        ("Bearer abc", "missing"),
        ("Basic !!!", "not valid"),
        (basic("rg:wrong-pass"), "does not match"),
        (basic("other:s3cret-pass"), "does not match"),
        (basic("rg:s3cret-pass:extra"), "does not match"),
    ],
)
def test_pipedrive_wrong_or_missing_credentials_are_refused(header: str | None, problem: str) -> None:
    with pytest.raises(pipedrive.CredentialsError, match=problem):
        pipedrive.check_basic_auth(header, "rg", "s3cret-pass")
