"""One JSON POST, with the answer sorted into delivered, worth retrying, or not worth retrying.

Follows Standard Webhooks' advice: 2xx is success, anything else a failure; 408, 429 and 5xx are retried
(429 after its Retry-After), other 4xx (a wrong URL, a refused secret, 410 Gone) go to the dead-letter topic
at once, where an operator can fix the cause and replay. Reasons never contain the URL, which may hold a token.
"""

import httpx

from services.notification.channels.base import DeliveryFailed

_RETRYABLE_STATUS = {408, 425, 429}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


async def post_json(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> None:
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        raise DeliveryFailed("receiver did not answer in time", retryable=True) from None
    except httpx.ConnectError:
        raise DeliveryFailed("cannot connect to receiver", retryable=True) from None
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"request failed ({type(exc).__name__})", retryable=True) from None
    if response.is_success:
        return
    status = response.status_code
    retryable = status >= 500 or status in _RETRYABLE_STATUS
    raise DeliveryFailed(f"receiver answered HTTP {status}", retryable=retryable, retry_after=_retry_after(response))
