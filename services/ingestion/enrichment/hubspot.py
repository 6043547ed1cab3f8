"""HubSpot's CRM v3 API: the engagement, the contact and the owner behind a thin webhook event.

Calls: `GET /crm/v3/objects/{calls|emails|meetings|communications}/{id}`, `GET /crm/v3/objects/contacts/{id}`,
`GET /crm/v3/owners/{id}`, each with `Authorization: Bearer <private app token>`, each cached per record.
"""

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from schemas import Channel, Direction, Kind, Outcome
from services.ingestion.enrichment.cache import LookupCache
from services.ingestion.enrichment.crm_api import CrmApi
from services.ingestion.enrichment.facts import ConsentFlag, Facts
from services.ingestion.enrichment.lookups import HubSpotLookup
from services.ingestion.enrichment.phones import LabelledNumber, number_timezone, phone_channel

ENGAGEMENT_PATHS = {"0-48": "calls", "0-49": "emails", "0-47": "meetings", "0-18": "communications"}
ENGAGEMENT_PROPERTIES = (
    "hubspot_owner_id,hs_timestamp,hs_call_direction,hs_call_to_number,hs_call_from_number,hs_call_disposition,"
    "hs_email_direction,hs_meeting_source,hs_meeting_outcome,hs_communication_channel_type"
)
CONTACT_PROPERTIES = "phone,mobilephone,hs_timezone,hs_email_optout,hubspot_owner_id"
CONTACT_BOOKED_SOURCE = "MEETINGS_PUBLIC"
"""`hs_meeting_source` of a meeting the contact booked through a rep's scheduling page."""
CALL_DISPOSITIONS = {
    "f240bbac-87c9-4f6e-bf70-924b57d47db7": Outcome.ANSWERED,  # Connected
    "73a0d17f-1163-4015-bdd5-ec830791da20": Outcome.NO_ANSWER,  # No answer
    "9d9162e7-6cf3-4944-bf63-4dff82258764": Outcome.NO_ANSWER,  # Busy
    "b2cf5968-551e-4856-9783-52b3da59a7d0": Outcome.VOICEMAIL,  # Left voicemail
    "a4c4c377-d246-4b32-a13b-75a56a4cd0ff": Outcome.VOICEMAIL,  # Left live message
}
"""HubSpot's default call outcomes (ids of the `hs_call_disposition` options); custom outcomes stay unknown."""
MEETING_HELD = "COMPLETED"
COMMUNICATION_CHANNELS = {"SMS": Channel.SMS, "LINKEDIN_MESSAGE": Channel.LINKEDIN}


class HubSpotEnricher:
    def __init__(self, api: CrmApi, records: LookupCache[str, Any]) -> None:
        self.api = api
        self.records = records

    async def look_up(self, lookup: object) -> Facts | None:
        if not isinstance(lookup, HubSpotLookup):
            return None
        contact = await self._record("contacts", lookup.contact_id, CONTACT_PROPERTIES) or {}
        contact_facts = await self._contact_facts(lookup.contact_id, contact)
        if lookup.engagement_type is None or lookup.engagement_id is None:
            return contact_facts
        path = ENGAGEMENT_PATHS[lookup.engagement_type]
        engagement = await self._record(path, lookup.engagement_id, ENGAGEMENT_PROPERTIES) or {}
        return await self._engagement_facts(path, _properties(engagement), contact, contact_facts)

    async def _record(self, path: str, record_id: str, properties: str) -> Any:
        url = f"/crm/v3/objects/{path}/{record_id}"
        return await self.records.get(url, lambda: self.api.get(url, {"properties": properties}))

    async def _user(self, owner_id: str | None) -> str | None:
        """HubSpot engagements name an owner; webhooks and everything else name the owner's user id."""
        if not owner_id or not owner_id.isdigit():
            return None
        url = f"/crm/v3/owners/{owner_id}"
        owner = await self.records.get(url, lambda: self.api.get(url, {"idProperty": "id"}))
        user = owner.get("userId") if isinstance(owner, dict) else None
        return str(user) if isinstance(user, int | str) and str(user).isdigit() else None

    async def _contact_facts(self, contact_id: str, contact: Any) -> Facts:
        properties = _properties(contact)
        numbers = [properties.get("phone"), properties.get("mobilephone")]
        consent: tuple[ConsentFlag, ...] = ()
        updated = _time(contact.get("updatedAt")) if isinstance(contact, dict) else None
        if properties.get("hs_email_optout") == "true" and updated is not None:
            record = f"hubspot-contact-{contact_id}-hs_email_optout"
            consent = (ConsentFlag(record, Channel.EMAIL, True, updated),)
        return Facts(
            owner_sender=await self._user(properties.get("hubspot_owner_id")),
            contact_timezone=hubspot_timezone(properties.get("hs_timezone"))
            or number_timezone(n for n in numbers if n),
            consent=consent,
        )

    async def _engagement_facts(
        self, path: str, engagement: dict[str, str], contact: Any, contact_facts: Facts
    ) -> Facts:
        user = await self._user(engagement.get("hubspot_owner_id"))
        facts: dict[str, Any] = {"sender_id": user}
        if path == "calls":
            inbound = engagement.get("hs_call_direction") == "INBOUND"
            dialled = engagement.get("hs_call_from_number" if inbound else "hs_call_to_number")
            properties = _properties(contact)
            labelled = [
                LabelledNumber(number, channel)
                for number, channel in (
                    (properties.get("phone"), Channel.PHONE_WORK),
                    (properties.get("mobilephone"), Channel.PHONE_MOBILE),
                )
                if number
            ]
            facts["channel"] = phone_channel(dialled, labelled)
            facts["outcome"] = CALL_DISPOSITIONS.get(engagement.get("hs_call_disposition", ""))
            if inbound:
                facts |= {"direction": Direction.INBOUND, "sender_id": None, "answered_sender": user}
        elif path == "emails" and engagement.get("hs_email_direction") == "INCOMING_EMAIL":
            facts |= {"direction": Direction.INBOUND, "kind": Kind.REPLY, "sender_id": None, "answered_sender": user}
        elif path == "meetings":
            booked = engagement.get("hs_meeting_source") == CONTACT_BOOKED_SOURCE
            facts["category"] = "contact_booked" if booked else None
            facts["outcome"] = Outcome.ANSWERED if engagement.get("hs_meeting_outcome") == MEETING_HELD else None
        elif path == "communications":
            facts["channel"] = COMMUNICATION_CHANNELS.get(engagement.get("hs_communication_channel_type", ""))
        return replace(contact_facts, **facts)


def hubspot_timezone(value: str | None) -> str | None:
    """HubSpot writes `hs_timezone` as e.g. `europe_slash_berlin`; the IANA name is `Europe/Berlin`."""
    if not value:
        return None
    name = "/".join("_".join(word.capitalize() for word in part.split("_")) for part in value.split("_slash_"))
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def _properties(record: Any) -> dict[str, str]:
    properties = record.get("properties") if isinstance(record, dict) else None
    if not isinstance(properties, dict):
        return {}
    return {name: str(value) for name, value in properties.items() if isinstance(value, str | int) and value != ""}


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
