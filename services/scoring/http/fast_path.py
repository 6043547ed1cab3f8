"""One hot route served straight from the ASGI call, past Starlette's router and FastAPI's request wrappers.

The pre-send check is called before every send. Matching the path against every route, the exception middleware, the
exit-stack middleware and FastAPI's request/response wrappers cost about a third of a check's CPU (`make bench`:
1,180 µs a check through them, 790 µs past them), more than judging it. This middleware sits just inside the HTTP
metrics middleware: for `POST` on the route's exact path it calls the route's own handler (`direct_route`) and
answers its exceptions with the app's own exception handlers, so status, body and headers are what the router would
have answered, and the metrics see the same route template. Every other request goes on to the app unchanged.
"""

import inspect
from collections.abc import Callable, Coroutine
from typing import Any, cast

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
ExceptionHandler = Callable[[Request, Exception], Any]


class FastPath:
    def __init__(self, app: ASGIApp, *, owner: FastAPI, route: APIRoute) -> None:
        self.app = app
        self.owner = owner
        self.route = route
        self.path = route.path
        self.handle: Handler = route.get_route_handler()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        request = Request(scope, receive, send)
        try:
            response = await self.handle(request)
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise
            answered = handler(request, exc)
            response = await answered if inspect.isawaitable(answered) else answered
        await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> ExceptionHandler | None:
        """The handler Starlette's exception middleware would pick: the first registered for a class of `exc`'s
        MRO, `Exception` itself excepted (that one is the outer server-error middleware's)."""
        handlers = cast(dict[Any, ExceptionHandler], self.owner.exception_handlers)
        for cls in type(exc).__mro__:
            if cls is not Exception and cls in handlers:
                return handlers[cls]
        return None
