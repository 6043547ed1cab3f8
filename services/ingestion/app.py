"""The ingestion HTTP service: authenticate, read, publish, and only then answer `202`.

Routes are thin: each CRM's module reads and maps its payload, `pipeline.Intake` decides and publishes, and this
module only turns the outcome into the HTTP answer each sender expects (JSON, or SOAP for Salesforce).
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from schemas import Source
from services.ingestion import generic, hubspot, pipedrive, salesforce, soap
from services.ingestion.dedupe import STORE_NAME, DedupeStore, MemoryDedupe
from services.ingestion.enrichment.crms import build_enrichment
from services.ingestion.enrichment.service import Enrichment
from services.ingestion.intake import BodyError, map_items, parse_json, split_items
from services.ingestion.items import Item
from services.ingestion.metrics import WEBHOOKS_RECEIVED, WEBHOOKS_REJECTED
from services.ingestion.openapi import RESPONSES, SOAP_RESPONSES, document_bodies, request_parameters
from services.ingestion.pipeline import Answer, Intake, Refusal
from services.ingestion.publisher import MAX_BATCH_BYTES, EventSink, KafkaEventSink
from services.ingestion.results import Problem, result_body
from services.ingestion.settings import IngestionSettings
from services.runtime.broker import build_broker
from services.runtime.http_metrics import install_http_metrics
from services.runtime.keyed_store_factory import open_keyed_store
from services.runtime.lifecycle import BrokerConnection
from services.runtime.probes import ReadinessCheck, probes_router
from services.runtime.rate_limit import TokenBuckets
from services.runtime.standard_webhooks import SignatureError, verify
from services.runtime.startup_checks import kafka_refusal

log = logging.getLogger("rapport_guard.ingestion")

Reader = Callable[[Request, bytes, datetime], list[Item]]
T = TypeVar("T")


def build_app(
    settings: IngestionSettings,
    sink: EventSink,
    readiness: ReadinessCheck,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    dedupe: DedupeStore | None = None,
    *,
    enrichment: Enrichment | None = None,
) -> FastAPI:
    """The app without Kafka wiring, so tests can hand it any sink and store."""
    app = FastAPI(
        title="Rapport Guard ingestion",
        version="1",
        summary="CRM webhooks in, outreach events out.",
        lifespan=lifespan,
    )
    app.include_router(probes_router(readiness))
    install_http_metrics(app, "ingestion")
    intake = Intake(
        sink,
        dedupe or MemoryDedupe(settings.dedupe_ttl_seconds, settings.dedupe_max_keys),
        TokenBuckets(settings.tenant_rate_limit_per_second, settings.tenant_rate_limit_burst),
    )
    readers = Readers(settings)
    enrich = enrichment or build_enrichment(settings)

    async def receive(request: Request, source: Source, read: Reader) -> Answer:
        WEBHOOKS_RECEIVED.labels(source=source).inc()
        body = await read_limited(request, settings.max_body_bytes)
        if body is None:
            limit = settings.max_body_bytes
            raise Refusal(413, "body_too_large", f"the body is over {limit} bytes; send fewer events per request")
        items = await enrich.apply(source, read(request, body, datetime.now(UTC)))
        answer = await intake.accept(source, items)
        if answer.status == 422:
            WEBHOOKS_REJECTED.labels(source=source, reason="all_invalid").inc()
        return answer

    async def answer_json(request: Request, source: Source, read: Reader) -> Response:
        try:
            answer = await receive(request, source, read)
        except Refusal as refusal:
            refused(source, refusal)
            return JSONResponse(
                Problem(error=refusal.error, detail=refusal.detail).model_dump(),
                status_code=refusal.status,
                headers=retry_after(refusal),
            )
        return Response(result_body(answer.result), status_code=answer.status, media_type="application/json")

    json_routes = (
        (Source.GENERIC, readers.generic, 'One event, or {"events": [...]}, signed with Standard Webhooks'),
        (Source.HUBSPOT, readers.hubspot, "HubSpot webhook batches, signed with X-HubSpot-Signature-v3"),
        (Source.PIPEDRIVE, readers.pipedrive, "Pipedrive webhooks v2, with HTTP Basic auth"),
    )
    for source, read, summary in json_routes:
        app.add_api_route(
            f"/v1/webhooks/{source}",
            json_endpoint(answer_json, source, read),
            methods=["POST"],
            status_code=202,
            responses=RESPONSES,
            openapi_extra=request_parameters(source),
            summary=summary,
            name=f"{source}_webhook",
        )

    @app.post(
        "/v1/webhooks/salesforce",
        status_code=200,
        responses=SOAP_RESPONSES,
        openapi_extra=request_parameters("salesforce"),
        summary="Salesforce Outbound Messages (SOAP); answered with the SOAP Ack",
    )
    async def salesforce_webhook(request: Request) -> Response:
        source = Source.SALESFORCE
        try:
            answer = await receive(request, source, readers.salesforce)
        except Refusal as refusal:
            refused(source, refusal)
            envelope = soap.fault(refusal.status >= 500, refusal.detail)
            return soap_response(refusal.status, envelope, retry_after(refusal))
        if answer.status == 422:
            reasons = "; ".join(f"{r['index']}: {r.get('reason')}" for r in answer.result["results"][:5])
            return soap_response(422, soap.fault(False, f"every notification was invalid: {reasons}"))
        return soap_response(200, soap.ACK)

    document_bodies(app)
    return app


def json_endpoint(
    answer: Callable[[Request, Source, Reader], Awaitable[Response]], source: Source, read: Reader
) -> Callable[[Request], Awaitable[Response]]:
    async def webhook(request: Request) -> Response:
        return await answer(request, source, read)

    return webhook


class Readers:
    """How each source proves where a request came from and turns its body into items."""

    def __init__(self, settings: IngestionSettings) -> None:
        self.settings = settings
        self.identity_key = settings.identity_key()
        self.generic_keys = settings.generic_webhook_keys()
        self.hubspot_secrets = settings.hubspot_secrets()

    def generic(self, request: Request, body: bytes, now: datetime) -> list[Item]:
        try:
            verify(self.generic_keys, request.headers, body, now)
        except SignatureError as exc:
            raise Refusal(401, "bad_signature", str(exc)) from None
        fast = generic.fast_batch(body, self.identity_key, now, self.settings.max_batch_events)
        if fast is not None:
            return fast
        items = bad_body(lambda: split_items(parse_json(body), self.settings.max_batch_events))
        return map_items(
            items, generic.GenericEvent, lambda i, e, at: generic.to_item(i, e, self.identity_key, at), now, "event_id"
        )

    def hubspot(self, request: Request, body: bytes, now: datetime) -> list[Item]:
        if not self.hubspot_secrets:
            raise Refusal(401, "not_configured", "HubSpot webhooks are not enabled here: set HUBSPOT_CLIENT_SECRET")
        try:
            uri = self.signed_uri(request)
            hubspot.verify(self.hubspot_secrets, request.headers, body, method=request.method, uri=uri, now=now)
        except SignatureError as exc:
            raise Refusal(401, "bad_signature", str(exc)) from None
        items = bad_body(lambda: hubspot.split_events(parse_json(body), self.settings.max_batch_events))
        return map_items(
            items, hubspot.HubSpotEvent, lambda i, e, at: hubspot.to_item(i, e, self.identity_key, at), now, "eventId"
        )

    def pipedrive(self, request: Request, body: bytes, now: datetime) -> list[Item]:
        user, password = self.settings.pipedrive_webhook_user, self.settings.pipedrive_webhook_password
        if user is None or password is None:
            raise Refusal(
                401, "not_configured", "Pipedrive webhooks are not enabled here: set PIPEDRIVE_WEBHOOK_USER/PASSWORD"
            )
        try:
            pipedrive.check_basic_auth(request.headers.get("authorization"), user, password.get_secret_value())
        except pipedrive.CredentialsError as exc:
            raise Refusal(401, "bad_credentials", str(exc)) from None
        webhook = bad_body(lambda: pipedrive.parse(parse_json(body)))
        return [pipedrive.to_item(webhook, self.identity_key, now)]

    def salesforce(self, request: Request, body: bytes, now: datetime) -> list[Item]:
        del request
        organization = self.settings.salesforce_organization_id
        if organization is None:
            raise Refusal(
                401, "not_configured", "Salesforce messages are not enabled here: set SALESFORCE_ORGANIZATION_ID"
            )
        message = bad_body(lambda: salesforce.parse(body, self.settings.max_batch_events))
        if not salesforce.same_organization(organization, message.organization_id):
            raise Refusal(401, "unknown_organization", "OrganizationId is not the configured Salesforce org")
        context = salesforce.Context(message.organization_id, self.identity_key, now)
        return [salesforce.to_item(index, note, context) for index, note in enumerate(message.notifications)]

    def signed_uri(self, request: Request) -> str:
        """The URL HubSpot called: behind a proxy that is PUBLIC_BASE_URL, not the URL the request arrived on."""
        if self.settings.public_base_url is None:
            return str(request.url)
        query = f"?{request.url.query}" if request.url.query else ""
        return self.settings.public_base_url.rstrip("/") + request.url.path + query


def bad_body(read: Callable[[], T]) -> T:
    """Run a body reader; its BodyError becomes the `400` that tells the integrator what to fix."""
    try:
        return read()
    except BodyError as exc:
        raise Refusal(400, "bad_body", str(exc)) from None


def refused(source: Source, refusal: Refusal) -> None:
    WEBHOOKS_REJECTED.labels(source=source, reason=refusal.error).inc()
    log.info("refused %s webhook: %s %s", source, refusal.status, refusal.error)


def retry_after(refusal: Refusal) -> dict[str, str] | None:
    return {"retry-after": str(refusal.retry_after)} if refusal.retry_after is not None else None


def soap_response(status: int, envelope: str, headers: dict[str, str] | None = None) -> Response:
    return Response(envelope, status_code=status, media_type=soap.CONTENT_TYPE, headers=headers)


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


def open_dedupe(settings: IngestionSettings) -> DedupeStore:
    keyed = open_keyed_store(
        settings.dedupe_store_url,
        STORE_NAME,
        timeout_seconds=1,
        ca_file=settings.redis_ssl_cafile,
        max_values=settings.dedupe_max_keys,
    )
    return DedupeStore(keyed, settings.dedupe_ttl_seconds)


def create_app(settings: IngestionSettings) -> FastAPI:
    broker = build_broker(settings, "ingestion", MAX_BATCH_BYTES)
    connection = BrokerConnection(broker, diagnose=partial(kafka_refusal, settings))
    sink = KafkaEventSink(broker, settings.topic_events, settings.publish_timeout_seconds, MAX_BATCH_BYTES)
    dedupe = open_dedupe(settings)
    enrichment = build_enrichment(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await connection.open()
        yield
        await connection.close()
        await dedupe.close()
        await enrichment.close()

    return build_app(settings, sink, connection.problem, lifespan, dedupe, enrichment=enrichment)
