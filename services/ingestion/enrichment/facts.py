"""What a CRM's API told about one touch, and how it changes the event the webhook produced. No I/O here."""

from dataclasses import dataclass, field
from datetime import datetime

from schemas import Channel, Direction, Kind, Outcome, OutreachEvent
from services.ingestion.enrichment.recent import RecentSenders


@dataclass(frozen=True)
class ConsentFlag:
    """A consent flag as the CRM keeps it on the contact: `opted_out` for `channel`, seen at `at`.

    `record` names the CRM record and flag, so that the event id is the same on every retry (docs/ingestion.md).
    """

    record: str
    channel: Channel
    opted_out: bool
    at: datetime


@dataclass(frozen=True)
class Facts:
    """Each field None when the CRM did not say (or was not asked); then the webhook's value stands."""

    sender_id: str | None = None
    """Who sent or logged the engagement (its owner, as the CRM's user id)."""
    answered_sender: str | None = None
    """For an inbound touch: the rep whose message it answers, from the CRM's thread."""
    owner_sender: str | None = None
    """The contact's owner: the last guess for whom an inbound touch is meant."""
    contact_id: str | None = None
    channel: Channel | None = None
    direction: Direction | None = None
    kind: Kind | None = None
    outcome: Outcome | None = None
    contact_timezone: str | None = None
    category: str | None = None
    consent: tuple[ConsentFlag, ...] = field(default=())
    enriched: bool = True
    """False when the CRM could not be asked: only what needs no API call was applied."""


NOT_ENRICHED = Facts(enriched=False)


def enrich_event(event: OutreachEvent, facts: Facts, recent: RecentSenders) -> OutreachEvent:
    """The event with what the CRM said; inbound touches attributed, outbound ones remembered for that.

    Raises pydantic's ValidationError when a CRM value breaks the schema (an id with a space, say).
    """
    said = {
        "sender_id": facts.sender_id,
        "contact_id": facts.contact_id,
        "channel": facts.channel,
        "direction": facts.direction,
        "kind": facts.kind,
        "outcome": facts.outcome,
        "contact_timezone": facts.contact_timezone,
        "category": facts.category,
    }
    fields = event.model_dump() | {name: value for name, value in said.items() if value is not None}
    enriched = OutreachEvent.model_validate(fields) if fields != event.model_dump() else event
    if enriched.direction is Direction.OUTBOUND:
        recent.record(enriched.contact_key, enriched.sender_id, enriched.occurred_at)
        return enriched
    rep = (
        facts.answered_sender
        or recent.latest(enriched.contact_key, enriched.occurred_at)
        or facts.owner_sender
        or enriched.sender_id
    )
    return enriched if rep == enriched.sender_id else OutreachEvent.model_validate(fields | {"sender_id": rep})
