"""From a parsed JSON webhook body to items; no I/O here."""

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from schemas import OutreachEvent
from services.ingestion.items import Item

Model = TypeVar("Model", bound=BaseModel)


class BodyError(ValueError):
    """The body is not of the shape the endpoint takes; the message says what to fix."""


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise BodyError("the body is not valid UTF-8 JSON") from None


def split_items(payload: Any, max_items: int) -> list[Any]:
    """One event object, or `{"events": [...]}`."""
    if isinstance(payload, dict) and "events" in payload:
        items = payload["events"]
        if not isinstance(items, list):
            raise BodyError("'events' must be a list of event objects")
    elif isinstance(payload, dict):
        items = [payload]
    else:
        raise BodyError('body must be one event object or {"events": [...]}')
    return check_count(items, max_items)


def check_count(items: list[Any], max_items: int) -> list[Any]:
    if not items:
        raise BodyError("the body holds no events")
    if len(items) > max_items:
        raise BodyError(f"at most {max_items} events per request, got {len(items)}")
    return items


def describe(error: ValidationError) -> str:
    """The first few field errors as `field: problem`; never the offending value, which may be an address.

    A rule over several fields (a consent event's direction and channel) names its field in its own message."""
    parts = []
    for detail in error.errors(include_input=False, include_url=False)[:5]:
        if not detail["loc"] and detail["type"] == "value_error":
            parts.append(str(detail.get("ctx", {}).get("error", detail["msg"])))
            continue
        field = ".".join(str(part) for part in detail["loc"]) or "(item)"
        parts.append(f"{field}: {detail['msg']}")
    return "; ".join(parts)


def raw_id(raw: Any, field: str) -> str | None:
    value = raw.get(field) if isinstance(raw, dict) else None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def map_items(
    items: list[Any],
    model: type[Model],
    convert: Callable[[int, Model, datetime], Item],
    received_at: datetime,
    id_field: str,
) -> list[Item]:
    """Validate each raw item against `model` and let `convert` decide what it becomes, in order."""
    mapped: list[Item] = []
    for index, raw in enumerate(items):
        try:
            mapped.append(convert(index, model.model_validate(raw), received_at))
        except ValidationError as exc:
            mapped.append(Item.reject(index, raw_id(raw, id_field), describe(exc)))
    return mapped


def touch_or_reject(index: int, event_id: str, build: Callable[[], OutreachEvent]) -> Item:
    """An event built from validated fields can still break a schema rule (an id with a space, say)."""
    try:
        return Item.touch(index, build())
    except ValidationError as exc:
        return Item.reject(index, event_id, describe(exc))
