"""The ingestion HTTP service: verify, validate, publish, and only then answer `202`."""

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.ingestion.generic import GenericEvent, to_outreach_event
from services.ingestion.intake import BodyError, split_items, validate_items
from services.ingestion.metrics import EVENTS_PUBLISHED, WEBHOOKS_RECEIVED, WEBHOOKS_REJECTED
from services.ingestion.publisher import BrokerUnavailable, EventSink, KafkaEventSink
from services.ingestion.results import BatchResult, Problem
from services.ingestion.settings import IngestionSettings
from services.runtime.broker import build_broker
from services.runtime.http_metrics import install_http_metrics
from services.runtime.lifecycle import BrokerConnection
from services.runtime.probes import ReadinessCheck, probes_router
from services.runtime.standard_webhooks import SignatureError, verify

log = logging.getLogger("rapport_guard.ingestion")

RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": Problem, "description": "Bad, missing or stale signature"},
    400: {"model": Problem, "description": "Body is not JSON of the expected shape"},
    413: {"model": Problem, "description": "Body over the size limit"},
    422: {"model": BatchResult, "description": "Every item was invalid"},
    503: {"model": Problem, "description": "Kafka did not take the events; nothing was accepted"},
}


def problem(status: int, error: str, detail: str, source: str) -> JSONResponse:
    WEBHOOKS_REJECTED.labels(source=source, reason=error).inc()
    return JSONResponse(Problem(error=error, detail=detail).model_dump(), status_code=status)


def build_app(
    settings: IngestionSettings,
    sink: EventSink,
    readiness: ReadinessCheck,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """The app without Kafka wiring, so tests can hand it any sink."""
    app = FastAPI(
        title="Rapport Guard ingestion",
        version="1",
        summary="CRM webhooks in, outreach events out.",
        lifespan=lifespan,
    )
    app.include_router(probes_router(readiness))
    install_http_metrics(app, "ingestion")
    keys = settings.generic_webhook_keys()
    identity_key = settings.identity_key()

    @app.post(
        "/v1/webhooks/generic",
        status_code=202,
        response_model=BatchResult,
        responses=RESPONSES,
        summary='One event, or {"events": [...]}, signed with Standard Webhooks',
    )
    async def generic_webhook(request: Request) -> JSONResponse:
        source = "generic"
        WEBHOOKS_RECEIVED.labels(source=source).inc()
        body = await read_limited(request, settings.max_body_bytes)
        if body is None:
            return problem(
                413,
                "body_too_large",
                f"the body is over {settings.max_body_bytes} bytes; send fewer events per request",
                source,
            )
        now = datetime.now(UTC)
        try:
            verify(keys, request.headers, body, now)
        except SignatureError as exc:
            return problem(401, "bad_signature", str(exc), source)
        try:
            items = split_items(json.loads(body), settings.max_batch_events)
        except (ValueError, BodyError) as exc:
            return problem(400, "bad_body", str(exc), source)
        events, results = validate_items(
            items, GenericEvent, lambda item, at: to_outreach_event(item, identity_key, at), now
        )
        outcome = BatchResult.of(results)
        if not events:
            WEBHOOKS_REJECTED.labels(source=source, reason="all_invalid").inc()
            return JSONResponse(outcome.model_dump(exclude_none=True), status_code=422)
        try:
            await sink.publish(events)
        except BrokerUnavailable as exc:
            log.warning("publish failed, answering 503: %s", exc)
            return problem(
                503,
                "broker_unavailable",
                "Kafka did not acknowledge the events; nothing was accepted, retry later",
                source,
            )
        EVENTS_PUBLISHED.labels(source=source).inc(len(events))
        return JSONResponse(outcome.model_dump(exclude_none=True), status_code=202)

    return app


async def read_limited(request: Request, limit: int) -> bytes | None:
    """The raw body, or None once it passes `limit` (without reading the rest into memory)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks = bytearray()
    async for chunk in request.stream():
        chunks.extend(chunk)
        if len(chunks) > limit:
            return None
    return bytes(chunks)


def create_app(settings: IngestionSettings) -> FastAPI:
    broker = build_broker(settings, "ingestion")
    connection = BrokerConnection(broker)
    sink = KafkaEventSink(broker, settings.topic_events, settings.publish_timeout_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await connection.open()
        yield
        await connection.close()

    return build_app(settings, sink, connection.problem, lifespan)
