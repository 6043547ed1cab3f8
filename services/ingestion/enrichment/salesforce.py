"""Salesforce's REST API: the Contact (or Lead) behind an activity, and the e-mail a reply answers.

Calls (API version `API_VERSION`): `GET /sobjects/{Contact|Lead}/{WhoId}`, `GET /query?q=SELECT … FROM Contact
WHERE Email = …` for an EmailMessage (so that its contact id is the Contact's id, the one Tasks use), and
`GET /sobjects/EmailMessage/{ReplyToEmailMessageId}` for the rep a reply answers. Each is cached per record.
"""

from datetime import datetime
from typing import Any

from schemas import Channel
from services.ingestion.enrichment.cache import LookupCache
from services.ingestion.enrichment.crm_api import CrmApi
from services.ingestion.enrichment.facts import ConsentFlag, Facts
from services.ingestion.enrichment.lookups import SalesforceLookup
from services.ingestion.enrichment.phones import LabelledNumber, number_timezone, numbers_in, phone_channel

API_VERSION = "v60.0"
PERSON_FIELDS = "Id,OwnerId,Phone,MobilePhone,HomePhone,HasOptedOutOfEmail,DoNotCall,LastModifiedDate"
LEAD_FIELDS = "Id,OwnerId,Phone,MobilePhone,HasOptedOutOfEmail,DoNotCall,LastModifiedDate"
CASE_PREFIX = "500"
"""A `WhatId` starting so is a Case: the touch is support, which the policy exempts."""
LEAD_PREFIX = "00Q"
PHONE_FIELDS = (
    ("Phone", Channel.PHONE_WORK),
    ("MobilePhone", Channel.PHONE_MOBILE),
    ("HomePhone", Channel.PHONE_MOBILE),
)
"""HomePhone reaches the person off work as a cell phone does, so it counts as `phone_mobile`."""
CALL_CHANNELS = (Channel.PHONE_WORK, Channel.PHONE_MOBILE, Channel.SMS)
"""What `DoNotCall` covers: every phone channel, one opt-out event each."""


class SalesforceEnricher:
    def __init__(self, api: CrmApi, records: LookupCache[str, Any]) -> None:
        self.api = api
        self.records = records

    async def look_up(self, lookup: object) -> Facts | None:
        if not isinstance(lookup, SalesforceLookup):
            return None
        person = await self._person(lookup)
        answered = lookup.answered_by or await self._thread_sender(lookup.reply_to_id)
        category = "support" if lookup.what_id and lookup.what_id.startswith(CASE_PREFIX) else None
        if not isinstance(person, dict):
            return Facts(answered_sender=answered, category=category)
        labelled = [LabelledNumber(str(person[name]), channel) for name, channel in PHONE_FIELDS if person.get(name)]
        dialled = next(iter(numbers_in(lookup.call_text)), None) if lookup.call else None
        return Facts(
            contact_id=str(person["Id"]) if lookup.contact_address and person.get("Id") else None,
            channel=phone_channel(dialled, labelled) if lookup.call else None,
            answered_sender=answered,
            owner_sender=_id(person.get("OwnerId")),
            contact_timezone=number_timezone(n.number for n in labelled),
            category=category,
            consent=_consent(person),
        )

    async def _person(self, lookup: SalesforceLookup) -> Any:
        if lookup.contact_address:
            address = _soql(lookup.contact_address)
            query = f"SELECT {PERSON_FIELDS} FROM Contact WHERE Email = '{address}' LIMIT 2"  # noqa: S608 - escaped
            found = await self._get(f"/services/data/{API_VERSION}/query", {"q": query})
            records = found.get("records") if isinstance(found, dict) else None
            return records[0] if isinstance(records, list) and len(records) == 1 else None
        if not lookup.who_id:
            return None
        kind, fields = ("Lead", LEAD_FIELDS) if lookup.who_id.startswith(LEAD_PREFIX) else ("Contact", PERSON_FIELDS)
        return await self._get(f"/services/data/{API_VERSION}/sobjects/{kind}/{lookup.who_id}", {"fields": fields})

    async def _thread_sender(self, reply_to_id: str | None) -> str | None:
        if not reply_to_id:
            return None
        path = f"/services/data/{API_VERSION}/sobjects/EmailMessage/{reply_to_id}"
        message = await self._get(path, {"fields": "Id,CreatedById,Incoming"})
        if not isinstance(message, dict) or message.get("Incoming") is True:
            return None
        return _id(message.get("CreatedById"))

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        key = path + "?" + "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        return await self.records.get(key, lambda: self.api.get(path, params))


def _consent(person: dict[str, Any]) -> tuple[ConsentFlag, ...]:
    at = _time(person.get("LastModifiedDate"))
    record = f"salesforce-{person.get('Id')}"
    if at is None:
        return ()
    flags = []
    if person.get("HasOptedOutOfEmail") is True:
        flags.append(ConsentFlag(f"{record}-HasOptedOutOfEmail", Channel.EMAIL, True, at))
    if person.get("DoNotCall") is True:
        flags.extend(ConsentFlag(f"{record}-DoNotCall", channel, True, at) for channel in CALL_CHANNELS)
    return tuple(flags)


def _soql(value: str) -> str:
    """A string literal for SOQL: backslashes and quotes escaped, so an address cannot change the query."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _id(value: Any) -> str | None:
    return value if isinstance(value, str) and value.isalnum() else None


def _time(value: Any) -> datetime | None:
    """Salesforce writes `2026-11-02T09:30:00.000+0000`."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
