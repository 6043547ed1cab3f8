"""One event of an export, kept compact: a million of them must fit in memory to be put in event-time order."""

import sys
from datetime import datetime
from typing import NamedTuple

from schemas import Channel, Direction, Kind, Outcome, OutreachEvent, Source
from services.identity.pseudonyms import pseudonym


class Row(NamedTuple):
    """The fields of an `OutreachEvent`, as a tuple (about a fifth of a pydantic model's memory)."""

    occurred_at: datetime
    event_id: str
    tenant: str
    source: Source
    sender_id: str
    contact_id: str
    contact_timezone: str | None
    channel: Channel | None
    direction: Direction
    kind: Kind
    outcome: Outcome | None
    category: str | None

    def event(self) -> OutreachEvent:
        """The event as the scorer receives it, `received_at` = `occurred_at` (as if it arrived in real time).

        Built without validation: every field was validated when the row was read.
        """
        return OutreachEvent.model_construct(
            event_id=self.event_id,
            tenant=self.tenant,
            source=self.source,
            occurred_at=self.occurred_at,
            received_at=self.occurred_at,
            sender_id=self.sender_id,
            contact_id=self.contact_id,
            contact_timezone=self.contact_timezone,
            channel=self.channel,
            direction=self.direction,
            kind=self.kind,
            outcome=self.outcome,
            category=self.category,
        )

    @property
    def pair(self) -> tuple[str, str, str]:
        return (self.tenant, self.sender_id, self.contact_id)


def row_of(event: OutreachEvent) -> Row:
    """Ids are interned: the same senders and contacts come back on many rows and are then stored once."""
    return Row(
        event.occurred_at,
        event.event_id,
        sys.intern(event.tenant),
        event.source,
        sys.intern(event.sender_id),
        sys.intern(event.contact_id),
        event.contact_timezone,
        event.channel,
        event.direction,
        event.kind,
        event.outcome,
        event.category,
    )


class Labels:
    """How a report names a contact: a short pseudonym of the contact id, or, when asked, what the export said.

    The pseudonym is keyed with the identity key, so it names the same contact the same way in every report made
    with that key and cannot be turned back into the id without it.
    """

    def __init__(self, key: bytes, show_contacts: bool) -> None:
        self.key = key
        self.show_contacts = show_contacts
        self.originals: dict[str, str] = {}

    def remember(self, contact_id: str, original: str | None) -> None:
        if self.show_contacts and original is not None and contact_id not in self.originals:
            self.originals[contact_id] = original

    def contact(self, contact_id: str) -> str:
        if self.show_contacts:
            return self.originals.get(contact_id, contact_id)
        return "contact-" + pseudonym(self.key, "report", contact_id).removeprefix("report_")[:10]
