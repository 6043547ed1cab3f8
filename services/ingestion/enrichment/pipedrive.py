"""Pipedrive's API: the person behind an activity (phones with their labels, owner, marketing status).

Call: `GET /api/v2/persons/{id}?include_fields=marketing_status` with the `x-api-token` header (the token stays
out of URLs and so out of every access log), cached per person. v1 bodies (`phone`, `owner_id` as an object) are
read too, as older accounts answer them.
"""

from typing import Any

from schemas import Channel
from services.ingestion.enrichment.cache import LookupCache
from services.ingestion.enrichment.crm_api import CrmApi
from services.ingestion.enrichment.facts import ConsentFlag, Facts
from services.ingestion.enrichment.lookups import MARKETING_UNSUBSCRIBED, PipedriveLookup
from services.ingestion.enrichment.phones import LabelledNumber, number_timezone, numbers_in, phone_channel
from services.ingestion.pipedrive import pipedrive_time

PHONE_LABELS = {"work": Channel.PHONE_WORK, "mobile": Channel.PHONE_MOBILE, "home": Channel.PHONE_MOBILE}
"""A home number reaches the person off work as a cell phone does; `other` is left to the numbering plan."""


class PipedriveEnricher:
    def __init__(self, api: CrmApi, records: LookupCache[str, Any]) -> None:
        self.api = api
        self.records = records

    async def look_up(self, lookup: object) -> Facts | None:
        if not isinstance(lookup, PipedriveLookup):
            return None
        path = f"/api/v2/persons/{lookup.person_id}"
        body = await self.records.get(path, lambda: self.api.get(path, {"include_fields": "marketing_status"}))
        person = body.get("data") if isinstance(body, dict) else None
        if not isinstance(person, dict):
            return Facts()
        labelled = _phones(person)
        dialled = next(iter(numbers_in(lookup.call_text)), None)
        if dialled is None and len(labelled) == 1:
            dialled = labelled[0].number
        return Facts(
            channel=phone_channel(dialled, labelled) if lookup.call else None,
            owner_sender=_owner(person.get("owner_id")),
            contact_timezone=number_timezone(n.number for n in labelled),
            consent=_consent(lookup.person_id, person),
        )


def _phones(person: dict[str, Any]) -> list[LabelledNumber]:
    phones = person.get("phones", person.get("phone"))
    found = []
    for phone in phones if isinstance(phones, list) else []:
        if isinstance(phone, dict) and isinstance(phone.get("value"), str) and phone["value"]:
            channel = PHONE_LABELS.get(str(phone.get("label", "")).lower())
            if channel is not None:
                found.append(LabelledNumber(phone["value"], channel))
    return found


def _owner(value: Any) -> str | None:
    owner = value.get("id") if isinstance(value, dict) else value
    return str(owner) if isinstance(owner, int) and not isinstance(owner, bool) else None


def _consent(person_id: str, person: dict[str, Any]) -> tuple[ConsentFlag, ...]:
    if person.get("marketing_status") != MARKETING_UNSUBSCRIBED:
        return ()
    at = pipedrive_time(person.get("update_time"))
    if at is None:
        return ()
    return (ConsentFlag(f"pipedrive-person-{person_id}-marketing_status", Channel.EMAIL, True, at),)
