"""Senders and contacts in the shape integrators send them (generic webhook, pre-send check)."""

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from schemas.common import Identifier
from services.identity.pseudonyms import email_pseudonym, phone_pseudonym

_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _address(value: str) -> str:
    value = value.strip()
    if not _ADDRESS.fullmatch(value):
        raise ValueError("must be an e-mail address like dana@example.org")
    return value


EmailAddress = Annotated[str, Field(max_length=320), AfterValidator(_address)]
"""An address only has to be one person's stable handle before it is hashed; full RFC 5322/IDNA validation
(pydantic's EmailStr) cost ~90 µs per address, most of ingestion's time per event."""


class Sender(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Identifier | None = None
    email: EmailAddress | None = None
    name: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _identified(self) -> "Sender":
        if self.id is None and self.email is None:
            raise ValueError("sender needs an id or an email")
        return self


class Contact(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Identifier | None = None
    email: EmailAddress | None = None
    phone: str | None = Field(default=None, min_length=3, max_length=40, pattern=r"^[+0-9 ().\-x#exta]+$")
    timezone: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _identified(self) -> "Contact":
        if self.id is None and self.email is None and self.phone is None:
            raise ValueError("contact needs an id, an email or a phone")
        return self


def sender_id(sender: Sender, key: bytes) -> str:
    if sender.id is not None:
        return sender.id
    assert sender.email is not None  # guaranteed by Sender's validator
    return email_pseudonym(key, sender.email)


def contact_id(contact: Contact, key: bytes) -> str:
    """A CRM id wins; else the e-mail, else the phone, each pseudonymised."""
    if contact.id is not None:
        return contact.id
    if contact.email is not None:
        return email_pseudonym(key, contact.email)
    assert contact.phone is not None  # guaranteed by Contact's validator
    return phone_pseudonym(key, contact.phone)
