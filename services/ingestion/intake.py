"""From a parsed webhook body to validated events and per-item results; no I/O here."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from schemas import OutreachEvent
from services.ingestion.results import ItemResult, ItemStatus

Item = TypeVar("Item", bound=BaseModel)


class BodyError(ValueError):
    """The body is JSON but not of the shape the endpoint takes."""


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
    if not items:
        raise BodyError("'events' is empty")
    if len(items) > max_items:
        raise BodyError(f"at most {max_items} events per request, got {len(items)}")
    return items


def describe(error: ValidationError) -> str:
    """The first few field errors, as `field: problem`."""
    parts = []
    for detail in error.errors()[:5]:
        field = ".".join(str(part) for part in detail["loc"]) or "(item)"
        parts.append(f"{field}: {detail['msg']}")
    return "; ".join(parts)


def validate_items(
    items: list[Any],
    model: type[Item],
    convert: Callable[[Item, datetime], OutreachEvent],
    received_at: datetime,
) -> tuple[list[OutreachEvent], list[ItemResult]]:
    """Valid items become events; each item gets a result, in the order they came."""
    events: list[OutreachEvent] = []
    results: list[ItemResult] = []
    for index, raw in enumerate(items):
        event_id = raw.get("event_id") if isinstance(raw, dict) else None
        try:
            event = convert(model.model_validate(raw), received_at)
        except ValidationError as exc:
            results.append(
                ItemResult(
                    index=index,
                    event_id=event_id if isinstance(event_id, str) else None,
                    status=ItemStatus.REJECTED,
                    reason=describe(exc),
                )
            )
            continue
        events.append(event)
        results.append(ItemResult(index=index, event_id=event.event_id, status=ItemStatus.ACCEPTED))
    return events, results
