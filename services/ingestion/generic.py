"""The generic JSON webhook format, mapped to `OutreachEvent`."""

from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from schemas import Channel, Direction, Kind, Outcome, OutreachEvent, Source
from schemas.common import Identifier, UtcDatetime, consent_problem
from schemas.events import event_problem
from services.identity.parties import Contact, Sender, contact_id, sender_id
from services.ingestion.items import Item


class GenericEvent(BaseModel):
    """One touch, or the contact's opt-out / opt-in, as an integrator posts it; `event_id` is the idempotency key."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(min_length=1, max_length=200)
    tenant: Identifier = "default"
    occurred_at: UtcDatetime
    sender: Sender
    contact: Contact
    channel: Channel | None = None
    direction: Direction
    kind: Kind
    outcome: Outcome | None = None
    category: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _consent_or_touch(self) -> Self:
        problem = consent_problem(self.kind, self.direction, self.channel)
        if problem is not None:
            raise ValueError(problem)
        return self


class GenericBatch(BaseModel):
    """`{"events": [...]}`; documented in OpenAPI beside the single-event form."""

    events: list[GenericEvent]


_EVENTS = TypeAdapter(list[OutreachEvent])


def outreach_fields(item: GenericEvent, key: bytes, received_at: datetime) -> dict[str, Any]:
    """The `OutreachEvent` an item becomes, as fields for pydantic to validate."""
    return {
        "event_id": item.event_id,
        "tenant": item.tenant,
        "source": Source.GENERIC,
        "occurred_at": item.occurred_at,
        "received_at": received_at,
        "sender_id": sender_id(item.sender, key),
        "contact_id": contact_id(item.contact, key),
        "contact_timezone": item.contact.timezone,
        "channel": item.channel,
        "direction": item.direction,
        "kind": item.kind,
        "outcome": item.outcome,
        "category": item.category,
    }


def to_item(index: int, item: GenericEvent, key: bytes, received_at: datetime) -> Item:
    return _scorable(index, OutreachEvent.model_validate(outreach_fields(item, key, received_at)))


def _scorable(index: int, event: OutreachEvent) -> Item:
    """Rejected, naming the field as the integrator wrote it, when the scorer could not take the event: better
    told now, while the integrator can fix it, than dead-lettered after a `202`."""
    problem = event_problem(event)
    if problem is None:
        return Item.touch(index, event)
    return Item.reject(index, event.event_id, problem[1].replace("contact_timezone:", "contact.timezone:", 1))


def fast_batch(body: bytes, key: bytes, received_at: datetime, max_items: int) -> list[Item] | None:
    """The common case in one pass of pydantic's JSON parser: `{"events": [...]}` with every event valid.

    None when the body is anything else; the caller then takes the item-by-item path that explains each problem.
    The events are validated in one call too: a valid generic item always makes a valid `OutreachEvent`.
    """
    try:
        batch = GenericBatch.model_validate_json(body)
    except ValidationError:
        return None
    if not 0 < len(batch.events) <= max_items:
        return None
    events = _EVENTS.validate_python([outreach_fields(event, key, received_at) for event in batch.events])
    return [_scorable(index, event) for index, event in enumerate(events)]
