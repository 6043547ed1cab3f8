"""The one HTTP client per CRM: its rate limits honoured, its failures turned into one exception.

Every call fails fast rather than wait long: a webhook must be answered within the CRM's timeout (HubSpot 5 s,
Pipedrive 10 s), and an event is published without enrichment rather than lost (docs/ingestion.md).
"""

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from services.ingestion.enrichment.unavailable import CrmUnavailable

log = logging.getLogger("rapport_guard.ingestion.enrichment")

DEFAULT_BLOCK_SECONDS = 10.0
"""How long to leave a CRM alone after a 429 that names no Retry-After (HubSpot's window is 10 s)."""
MAX_WAIT_SECONDS = 1.0
"""The longest a call waits for a rate-limit slot; longer and the event goes out without enrichment."""

# httpx logs every request's URL at INFO; Salesforce queries carry addresses in theirs.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)


class Authorizer(Protocol):
    async def headers(self, client: httpx.AsyncClient) -> dict[str, str]: ...

    def forget(self) -> None:
        """The CRM answered 401: the next call authenticates afresh."""


class StaticToken:
    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)

    async def headers(self, client: httpx.AsyncClient) -> dict[str, str]:
        del client
        return self._headers

    def forget(self) -> None:
        """A static token cannot be renewed; the 401 is reported as `unauthorized`."""


class CallWindow:
    """At most `limit` calls in any `window_seconds` (HubSpot's private apps: 100 or 190 per 10 s)."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._calls: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until a call may go out (0: now)."""
        while self._calls and now - self._calls[0] >= self.window_seconds:
            self._calls.popleft()
        if len(self._calls) < self.limit:
            return 0.0
        return self._calls[0] + self.window_seconds - now

    def take(self, now: float) -> None:
        self._calls.append(now)


def retry_after_seconds(headers: httpx.Headers, now: float) -> float:
    """`Retry-After` (seconds or an HTTP date), else Pipedrive's `x-ratelimit-reset`, else 10 s."""
    for name in ("retry-after", "x-ratelimit-reset"):
        value = headers.get(name, "").strip()
        if value.replace(".", "", 1).isdigit():
            return float(value)
        if value:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError):
                continue
    return DEFAULT_BLOCK_SECONDS


class CrmApi:
    def __init__(
        self,
        crm: str,
        client: httpx.AsyncClient,
        authorizer: Authorizer,
        window: CallWindow | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.crm = crm
        self.client = client
        self.authorizer = authorizer
        self.window = window
        self.clock = clock
        self.wall_clock = wall_clock
        self.sleep = sleep
        self.blocked_until = float("-inf")

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """The JSON body, None for 404; CrmUnavailable for anything else that is not 2xx."""
        for attempt in range(2):
            await self._slot()
            try:
                response = await self.client.get(
                    path, params=params, headers=await self.authorizer.headers(self.client)
                )
            except httpx.TimeoutException:
                raise CrmUnavailable("timeout", f"{self.crm} API did not answer in time") from None
            except httpx.HTTPError as exc:
                raise CrmUnavailable("unreachable", f"{self.crm} API unreachable: {type(exc).__name__}") from None
            if response.status_code == httpx.codes.TOO_MANY_REQUESTS:
                wait = retry_after_seconds(response.headers, self.wall_clock())
                self.blocked_until = self.clock() + wait
                log.warning("%s API answered 429; no calls for %.1f s", self.crm, wait)
                if attempt == 0 and wait <= MAX_WAIT_SECONDS:
                    continue
                raise CrmUnavailable("rate_limited", f"{self.crm} API rate limit reached")
            if response.status_code == httpx.codes.UNAUTHORIZED:
                self.authorizer.forget()
                if attempt == 0:
                    continue
                raise CrmUnavailable("unauthorized", f"{self.crm} API refused the credentials")
            if response.status_code == httpx.codes.NOT_FOUND:
                return None
            if not response.is_success:
                raise CrmUnavailable("error", f"{self.crm} API answered {response.status_code}")
            try:
                return response.json()
            except ValueError:
                raise CrmUnavailable("error", f"{self.crm} API answered with a body that is not JSON") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _slot(self) -> None:
        """Wait for the CRM's limits, or give up at once when the wait would be long."""
        now = self.clock()
        wait = max(self.blocked_until - now, self.window.wait(now) if self.window else 0.0)
        if wait > MAX_WAIT_SECONDS:
            raise CrmUnavailable("rate_limited", f"{self.crm} API rate limit: next call in {wait:.1f} s")
        if wait > 0:
            await self.sleep(wait)
        if self.window is not None:
            self.window.take(self.clock())
