"""Bearer API keys on HTTP routes: 401 for no or an unknown key, 403 for a key without the scope or the tenant.

Errors follow RFC 6750 so that clients and proxies know what to do: a 401 always carries `WWW-Authenticate`.
Logs name the key's `name`, never the key.
"""

import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from services.runtime.api_keys import ApiKey, KeyRing, Scope
from services.runtime.rate_limit import TokenBuckets

log = logging.getLogger(__name__)

REALM = 'Bearer realm="rapport-guard"'

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key listed (as its sha256) in the service's API_KEYS_FILE.",
)


class Refusal(BaseModel):
    detail: str


def auth_responses(*, rate_limited: bool = False) -> dict[int | str, dict[str, Any]]:
    """The answers every protected route may give, for its OpenAPI description."""
    responses: dict[int | str, dict[str, Any]] = {
        401: {"model": Refusal, "description": "No API key, or one that is not in API_KEYS_FILE"},
        403: {"model": Refusal, "description": "The key lacks the scope, or is for another tenant"},
    }
    if rate_limited:
        responses[429] = {"model": Refusal, "description": "Too many requests with this key; see Retry-After"}
    return responses


def refuse_tenant(key: ApiKey, tenant: str) -> None:
    """403 unless `key` may act for `tenant`; for routes whose tenant is in the body rather than the path."""
    if not key.may_act_for(tenant):
        log.info("api request refused: key %s is for another tenant", key.name)
        raise HTTPException(403, "this API key is for another tenant")


class ApiAuth:
    """Builds the dependency each route declares with the scope it needs; `keys` gives the keys in force."""

    def __init__(
        self,
        keys: Callable[[], KeyRing],
        limiter: TokenBuckets | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keys = keys
        self.limiter = limiter
        self.clock = clock

    def require(self, scope: Scope, *, rate_limited: bool = False) -> Callable[..., Awaitable[ApiKey]]:
        """A dependency: the caller's key, once it has `scope` and the path's `{tenant}` (when there is one)."""

        async def authorised(
            request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
        ) -> ApiKey:
            tenant = request.path_params.get("tenant")
            key = self.authenticated(credentials)
            return self.permitted(key, scope, tenant if isinstance(tenant, str) else None, rate_limited=rate_limited)

        return authorised

    def permitted(self, key: ApiKey, scope: Scope, tenant: str | None, *, rate_limited: bool) -> ApiKey:
        """`key`, once it has `scope` and may act for `tenant` (when given); 403, or 429 with `Retry-After`."""
        if scope not in key.scopes:
            log.info("api request refused: key %s lacks scope %s", key.name, scope.value)
            raise HTTPException(
                403,
                f"this API key lacks the scope {scope.value!r}",
                headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope.value}"'},
            )
        if tenant is not None:
            refuse_tenant(key, tenant)
        if rate_limited and self.limiter is not None:
            wait = self.limiter.take({key.name: 1}, self.clock())
            if wait is not None:
                raise HTTPException(429, "too many requests with this API key", headers={"Retry-After": str(wait)})
        return key

    def key_first_route(self) -> type[APIRoute]:
        """A route class that looks at the key before the body is read or validated: without a valid key no
        request reaches the JSON parser, and every such request gets the same 401 whatever its body."""
        auth = self

        class KeyFirstRoute(APIRoute):
            def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
                handler = super().get_route_handler()

                async def key_first(request: Request) -> Response:
                    auth.authenticated(await bearer(request))
                    return await handler(request)

                return key_first

        return KeyFirstRoute

    def authenticated(self, credentials: HTTPAuthorizationCredentials | None) -> ApiKey:
        if credentials is None:
            raise HTTPException(401, "an API key is required: Authorization: Bearer <key>", {"WWW-Authenticate": REALM})
        key = self.keys().find(credentials.credentials)
        if key is None:
            log.info("api request refused: a key that is not in the keys file")
            raise HTTPException(
                401, "this API key is not valid", {"WWW-Authenticate": f'{REALM}, error="invalid_token"'}
            )
        return key
