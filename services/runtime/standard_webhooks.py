"""Standard Webhooks signatures (https://www.standardwebhooks.com): sign and verify.

Verification runs on the raw body, before parsing, and compares in constant time. Several secrets may be
configured at once, and a request may carry several signatures, so a secret can be rotated without downtime.
"""

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime

TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret


class SignatureError(Exception):
    """The request is not provably from the holder of the secret (or is too old to trust)."""


def decode_secret(secret: str) -> bytes:
    """`whsec_<base64>` → key bytes; raises ValueError with what to fix."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise ValueError("must be 'whsec_' followed by base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError(f"must decode to 24-64 bytes, got {len(key)}")
    return key


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one key."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    keys: Sequence[bytes],
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    tolerance_seconds: int = TOLERANCE_SECONDS,
) -> str:
    """Return the webhook id when one signature matches one key; raise SignatureError otherwise."""
    msg_id = headers.get("webhook-id")
    raw_timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not raw_timestamp or not signatures:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise SignatureError("webhook-timestamp must be unix seconds") from None
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise SignatureError(f"webhook-timestamp is more than {tolerance_seconds} s away from the server's clock")
    offered = [part for part in signatures.split(" ") if part.startswith("v1,")]
    for key in keys:
        expected = sign(key, msg_id, timestamp, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return msg_id
    raise SignatureError("no v1 signature matches a configured secret")


def signed_headers(key: bytes, msg_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    """Headers a sender attaches to one request (used by the demo, the tests and the benchmarks)."""
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(key, msg_id, timestamp, body),
    }
