"""The generic JSON webhook format, mapped to `OutreachEvent`."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from schemas import Channel, Direction, Kind, Outcome, OutreachEvent, Source
from schemas.common import Identifier, UtcDatetime
from services.ingestion.identity import email_pseudonym, phone_pseudonym


class GenericSender(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Identifier | None = None
    email: EmailStr | None = None
    name: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _identified(self) -> "GenericSender":
        if self.id is None and self.email is None:
            raise ValueError("sender needs an id or an email")
        return self


class GenericContact(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Identifier | None = None
    email: EmailStr | None = None
    phone: str | None = Field(default=None, min_length=3, max_length=40, pattern=r"^[+0-9 ().\-x#exta]+$")
    timezone: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _identified(self) -> "GenericContact":
        if self.id is None and self.email is None and self.phone is None:
            raise ValueError("contact needs an id, an email or a phone")
        return self


class GenericEvent(BaseModel):
    """One touch as an integrator posts it; `event_id` is the idempotency key."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(min_length=1, max_length=200)
    tenant: Identifier = "default"
    occurred_at: UtcDatetime
    sender: GenericSender
    contact: GenericContact
    channel: Channel
    direction: Direction
    kind: Kind
    outcome: Outcome | None = None
    category: str | None = Field(default=None, max_length=64)


def sender_id(sender: GenericSender, key: bytes) -> str:
    if sender.id is not None:
        return sender.id
    assert sender.email is not None  # guaranteed by GenericSender's validator
    return email_pseudonym(key, sender.email)


def contact_id(contact: GenericContact, key: bytes) -> str:
    """A CRM id wins; else the e-mail, else the phone, each pseudonymised."""
    if contact.id is not None:
        return contact.id
    if contact.email is not None:
        return email_pseudonym(key, contact.email)
    assert contact.phone is not None  # guaranteed by GenericContact's validator
    return phone_pseudonym(key, contact.phone)


def to_outreach_event(item: GenericEvent, key: bytes, received_at: datetime) -> OutreachEvent:
    return OutreachEvent(
        event_id=item.event_id,
        tenant=item.tenant,
        source=Source.GENERIC,
        occurred_at=item.occurred_at,
        received_at=received_at,
        sender_id=sender_id(item.sender, key),
        contact_id=contact_id(item.contact, key),
        contact_timezone=item.contact.timezone,
        channel=item.channel,
        direction=item.direction,
        kind=item.kind,
        outcome=item.outcome,
        category=item.category,
    )
