"""Salesforce's OAuth 2.0 client-credentials flow: one token, shared, renewed after a 401 or an hour."""

import asyncio
import time
from collections.abc import Callable

import httpx
from pydantic import SecretStr

from services.ingestion.enrichment.unavailable import CrmUnavailable

TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - a path, not a secret
MAX_TOKEN_AGE_SECONDS = 3600.0
"""The response names no expiry (sessions last as the org's policy says, two hours by default): renew early."""


class SalesforceToken:
    def __init__(self, client_id: str, client_secret: SecretStr, clock: Callable[[], float] = time.monotonic) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.clock = clock
        self._token: str | None = None
        self._issued = float("-inf")
        self._lock = asyncio.Lock()

    async def headers(self, client: httpx.AsyncClient) -> dict[str, str]:
        async with self._lock:
            if self._token is None or self.clock() - self._issued > MAX_TOKEN_AGE_SECONDS:
                self._token = await self._fetch(client)
                self._issued = self.clock()
            return {"authorization": f"Bearer {self._token}"}

    def forget(self) -> None:
        self._token = None

    async def _fetch(self, client: httpx.AsyncClient) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret.get_secret_value(),
        }
        try:
            response = await client.post(TOKEN_PATH, data=form)
        except httpx.TimeoutException:
            raise CrmUnavailable("timeout", "Salesforce token endpoint did not answer in time") from None
        except httpx.HTTPError as exc:
            raise CrmUnavailable("unreachable", f"Salesforce token endpoint: {type(exc).__name__}") from None
        if response.status_code in {400, 401, 403}:
            raise CrmUnavailable(
                "unauthorized", "Salesforce refused the client credentials: check SALESFORCE_CLIENT_ID/SECRET"
            )
        try:
            token = response.json().get("access_token") if response.is_success else None
        except ValueError:
            token = None
        if not isinstance(token, str) or not token:
            raise CrmUnavailable("error", f"Salesforce token endpoint answered {response.status_code} without a token")
        return token
