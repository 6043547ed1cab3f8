"""Request counts and latency per route template, the same on every service.

The route label is the path *template* (`/v1/pairs/{tenant}/{sender_id}/{contact_id}`), never the path itself,
so ids in URLs cannot blow up the number of series; requests that match no route share one label value.
"""

import time

from fastapi import FastAPI
from prometheus_client import Counter, Histogram
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter(
    "rapport_http_requests_total",
    "HTTP requests answered, by route template, method and status code",
    ["service", "route", "method", "status"],
)
DURATION = Histogram(
    "rapport_http_request_duration_seconds",
    "Time from request to the end of the response, by route template",
    ["service", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

UNMATCHED_ROUTE = "unmatched"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_label(scope: Scope) -> str:
    route: BaseRoute | None = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class HttpMetricsMiddleware:
    """Plain ASGI middleware: it reads the matched route after the router has run, and the status as it is sent.

    The labelled series are looked up once per (route, method, status) and kept: prometheus_client's `labels()`
    takes a lock and builds a key per call, a tenth of a cheap request's time. Routes and statuses are few.
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self._counted: dict[tuple[str, str, int], Counter] = {}
        self._timed: dict[str, Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            elapsed = time.perf_counter() - started
            route = route_label(scope)
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
            counted = self._counted.get((route, method, status))
            if counted is None:
                counted = self._counted[route, method, status] = REQUESTS.labels(
                    service=self.service, route=route, method=method, status=str(status)
                )
            timed = self._timed.get(route)
            if timed is None:
                timed = self._timed[route] = DURATION.labels(service=self.service, route=route)
            counted.inc()
            timed.observe(elapsed)


def install_http_metrics(app: FastAPI, service: str) -> None:
    """Count and time every request the app answers, under `service`."""
    app.add_middleware(HttpMetricsMiddleware, service=service)
