import base64
from datetime import UTC, datetime

import pytest

from services.runtime.standard_webhooks import SignatureError, decode_secret, sign, signed_headers, verify

KEY = b"k" * 32
OTHER = b"o" * 32
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
TS = int(NOW.timestamp())


def test_a_signed_request_verifies_and_yields_its_id() -> None:
    headers = signed_headers(KEY, "msg_1", b'{"a":1}', TS)
    assert verify([KEY], headers, b'{"a":1}', NOW) == "msg_1"


def test_known_vector_from_the_specification() -> None:
    # Standard Webhooks reference test vector.
    key = decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    signature = sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize(
    ("headers", "body", "problem"),
    [
        (signed_headers(KEY, "m", b"{}", TS), b'{"tampered":1}', "no v1 signature"),
        (signed_headers(OTHER, "m", b"{}", TS), b"{}", "no v1 signature"),
        (signed_headers(KEY, "m", b"{}", TS - 301), b"{}", "server's clock"),
        (signed_headers(KEY, "m", b"{}", TS + 301), b"{}", "server's clock"),
        ({"webhook-id": "m"}, b"{}", "missing"),
        ({**signed_headers(KEY, "m", b"{}", TS), "webhook-timestamp": "soon"}, b"{}", "unix seconds"),
    ],
)
def test_forged_tampered_or_stale_requests_are_refused(headers: dict[str, str], body: bytes, problem: str) -> None:
    with pytest.raises(SignatureError, match=problem):
        verify([KEY], headers, body, NOW)


def test_rotation_accepts_either_secret_and_any_of_several_signatures() -> None:
    headers = signed_headers(OTHER, "m", b"{}", TS)
    headers["webhook-signature"] = "v1,bm90LWl0 " + headers["webhook-signature"]
    assert verify([KEY, OTHER], headers, b"{}", NOW) == "m"


@pytest.mark.parametrize(
    ("secret", "problem"),
    [("whsec_not base64!", "base64"), ("whsec_" + base64.b64encode(b"short").decode(), "24-64 bytes")],
)
def test_bad_secrets_say_what_to_fix(secret: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        decode_secret(secret)
