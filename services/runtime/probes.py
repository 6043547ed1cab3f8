"""`/healthz`, `/readyz` and `/metrics`, the same on every service."""

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from services.runtime.consumer_lag import CONSUMER_LAG

ReadinessCheck = Callable[[], Awaitable[str | None]]
"""Returns None when ready, or a short reason why not."""

ScrapeHook = Callable[[], Awaitable[None]]
"""Brings gauges that are read from elsewhere (consumer lag) up to date just before a scrape."""


def probes_router(
    readiness: ReadinessCheck,
    registry: CollectorRegistry = REGISTRY,
    before_scrape: ScrapeHook = CONSUMER_LAG.refresh,
) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/readyz", summary="Connected and serving", response_model=None)
    async def readyz() -> JSONResponse:
        problem = await readiness()
        if problem is None:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "not ready", "reason": problem}, status_code=503)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        await before_scrape()
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
