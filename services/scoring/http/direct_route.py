"""The pre-send check's route: the operation FastAPI declares from the endpoint, served without its per-request
machinery.

The check is the one route callers hit before every send. FastAPI's generic path cost about half of a check's
CPU: solving the dependency tree twice (the key, then the key's scope), decoding the body to a dict and validating
that, then validating the returned model again before serialising it. This route does only what the declaration
says, in the same order as before: the key (401), its scope and rate (403, 429 with `Retry-After`), the body
validated straight from its JSON bytes (422 in FastAPI's own format), then the endpoint, whose answer is
serialised once. OpenAPI, and so the schemathesis tests, still come from the endpoint's signature.
"""

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from services.runtime.api_keys import ApiKey, Scope
from services.runtime.http_auth import ApiAuth, bearer

Endpoint = Callable[[Any, ApiKey], Awaitable[BaseModel]]


def direct_route(auth: ApiAuth, scope: Scope, body: type[BaseModel], *, rate_limited: bool = False) -> type[APIRoute]:
    """A route class for an `async (body: <body>, caller: ApiKey) -> <response model>` endpoint."""

    class DirectRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            endpoint: Endpoint = self.endpoint
            if not inspect.iscoroutinefunction(endpoint):
                raise TypeError(f"{self.path}: a direct route needs an async endpoint")

            async def handle(request: Request) -> Response:
                key = auth.permitted(auth.authenticated(await bearer(request)), scope, None, rate_limited=rate_limited)
                try:
                    parsed = body.model_validate_json(await request.body())
                except ValidationError as exc:
                    raise RequestValidationError([_located(error) for error in exc.errors(include_url=False)]) from None
                answer = await endpoint(parsed, key)
                return Response(answer.model_dump_json().encode(), media_type="application/json")

            return handle

    return DirectRoute


def _located(error: Any) -> dict[str, Any]:
    """The error as FastAPI words it, in the body; a body that is not even text is shown decoded with
    replacements, since the 422 answer is JSON."""
    located: dict[str, Any] = {**error, "loc": ("body", *error["loc"])}
    if isinstance(located.get("input"), bytes):
        located["input"] = located["input"].decode("utf-8", "replace")
    return located
