"""The OpenAPI description of the webhook endpoints.

The routes read the raw body themselves (signatures cover the exact bytes), so FastAPI cannot infer their request
bodies; they are described here from the same pydantic models the adapters validate with.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from services.ingestion.generic import GenericBatch, GenericEvent
from services.ingestion.hubspot import HubSpotEvent
from services.ingestion.pipedrive import Webhook as PipedriveWebhook
from services.ingestion.results import BatchResult, Problem

RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": BatchResult, "description": "One result per item: accepted, duplicate, ignored or rejected"},
    400: {"model": Problem, "description": "Body is not of the expected shape"},
    401: {"model": Problem, "description": "Bad, missing or stale signature or credentials"},
    413: {"model": Problem, "description": "Body over the size limit"},
    422: {"model": BatchResult, "description": "Every item was invalid"},
    429: {"model": Problem, "description": "Tenant over its rate limit; see Retry-After"},
    503: {"model": Problem, "description": "Kafka did not take the events; nothing was accepted"},
}

_SOAP = {"text/xml": {"schema": {"type": "string"}}}
SOAP_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "SOAP notificationsResponse with <Ack>true</Ack>", "content": _SOAP},
    **{
        status: {"description": f"SOAP fault: {RESPONSES[status]['description']}", "content": _SOAP}
        for status in (400, 401, 413, 422, 429, 503)
    },
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _header(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "description": description, "schema": {"type": "string"}}


_REQUESTS: dict[str, tuple[list[dict[str, Any]], str, dict[str, Any]]] = {
    "generic": (
        [
            _header("webhook-id", "Standard Webhooks message id"),
            _header("webhook-timestamp", "unix seconds; more than 5 minutes off is refused"),
            _header("webhook-signature", "v1,<base64 HMAC-SHA256 of 'id.timestamp.body'>"),
        ],
        "application/json",
        {"oneOf": [_ref(GenericEvent), _ref(GenericBatch)]},
    ),
    "hubspot": (
        [
            _header("X-HubSpot-Signature-v3", "base64 HMAC-SHA256 of method + URI + body + timestamp"),
            _header("X-HubSpot-Request-Timestamp", "unix milliseconds; more than 5 minutes off is refused"),
        ],
        "application/json",
        {"type": "array", "items": _ref(HubSpotEvent)},
    ),
    "pipedrive": (
        [_header("Authorization", "Basic <base64 user:password> as set on the Pipedrive webhook")],
        "application/json",
        _ref(PipedriveWebhook),
    ),
    "salesforce": ([], "text/xml", {"type": "string", "description": "SOAP notifications envelope"}),
}

DOCUMENTED_MODELS: tuple[type[BaseModel], ...] = (GenericEvent, GenericBatch, HubSpotEvent, PipedriveWebhook)


def request_parameters(source: str) -> dict[str, Any]:
    headers, content_type, schema = _REQUESTS[source]
    return {
        "parameters": headers,
        "requestBody": {"required": True, "content": {content_type: {"schema": schema}}},
    }


def document_bodies(app: FastAPI) -> None:
    """Add the request body models to the generated document's components."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in DOCUMENTED_MODELS:
                model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(model_schema.pop("$defs", {}))
                components[model.__name__] = model_schema
            app.openapi_schema = schema
        return app.openapi_schema

    setattr(app, "openapi", openapi)  # noqa: B010 - FastAPI's documented way to customise the document
