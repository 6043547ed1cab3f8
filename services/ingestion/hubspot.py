"""HubSpot webhooks: the v3 signature, and the thin event payloads mapped to touches.

HubSpot's payloads carry ids and one changed property, never the whole record. Only two kinds name both a
touch and its contact, so only those become events (docs/ingestion.md has the full table):

- an engagement (call, e-mail, meeting, communication) associated with a contact (`object.associationChange`,
  either direction): an outbound touch on the engagement's channel;
- a contact's `hs_sales_email_last_replied` changing (`contact.propertyChange` or `object.propertyChange` on
  objectTypeId 0-1): an inbound e-mail reply.

Everything else is acknowledged as `ignored`: HubSpot retries and eventually disables endpoints that fail.
"""

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from schemas import Channel, Direction, Kind, OutreachEvent, Source
from services.ingestion.enrichment.consent import consent_event, consent_event_id, email_flag
from services.ingestion.enrichment.lookups import HubSpotLookup
from services.ingestion.intake import BodyError, check_count, touch_or_reject
from services.ingestion.items import Item
from services.runtime.standard_webhooks import SignatureError

TOLERANCE_MS = 300_000
SIGNATURE_HEADER = "x-hubspot-signature-v3"
TIMESTAMP_HEADER = "x-hubspot-request-timestamp"
CONTACT_TYPE = "0-1"
REPLY_PROPERTY = "hs_sales_email_last_replied"
OPT_OUT_PROPERTY = "hs_email_optout"
"""The contact unsubscribed from all e-mail ("true"), or was subscribed again ("false")."""
MAX_MILLIS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
UNATTRIBUTED_SENDER = "unattributed"
"""Sender id when HubSpot does not say which user acted (`sourceId` is not `userId:<id>`)."""

# HubSpot asks verifiers to decode these escapes in the URI before signing.
_URI_ESCAPES = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


@dataclass(frozen=True)
class Engagement:
    name: str
    channel: Channel
    kind: Kind


ENGAGEMENTS = {
    "0-48": Engagement("CALL", Channel.PHONE_WORK, Kind.CALL),
    "0-49": Engagement("EMAIL", Channel.EMAIL, Kind.MESSAGE),
    "0-47": Engagement("MEETING_EVENT", Channel.MEETING, Kind.MEETING),
    "0-18": Engagement("COMMUNICATION", Channel.OTHER, Kind.MESSAGE),
}
_BY_NAME = {engagement.name: type_id for type_id, engagement in ENGAGEMENTS.items()} | {"CONTACT": CONTACT_TYPE}


def decode_uri(uri: str) -> str:
    for escape, char in _URI_ESCAPES.items():
        uri = uri.replace(escape, char).replace(escape.lower(), char)
    return uri


def signature(secret: bytes, method: str, uri: str, body: bytes, timestamp: str) -> str:
    signed = method.encode() + decode_uri(uri).encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()


def verify(
    secrets: Sequence[bytes], headers: Mapping[str, str], body: bytes, *, method: str, uri: str, now: datetime
) -> None:
    """Raise SignatureError unless one client secret signed exactly this request within the last 5 minutes."""
    offered = headers.get(SIGNATURE_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    if not offered or not timestamp:
        raise SignatureError(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header")
    if not timestamp.isdigit():
        raise SignatureError(f"{TIMESTAMP_HEADER} must be unix milliseconds")
    if abs(now.timestamp() * 1000 - int(timestamp)) > TOLERANCE_MS:
        raise SignatureError(f"{TIMESTAMP_HEADER} is more than 5 minutes away from the server's clock")
    for secret in secrets:
        if hmac.compare_digest(signature(secret, method, uri, body, timestamp), offered):
            return
    raise SignatureError(
        f"{SIGNATURE_HEADER} does not match: check HUBSPOT_CLIENT_SECRET and that PUBLIC_BASE_URL is the URL "
        f"HubSpot calls (the signature covers it, and we checked {uri})"
    )


class HubSpotEvent(BaseModel):
    """One element of HubSpot's array; field names as HubSpot sends them."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    event_id: int = Field(alias="eventId")
    subscription_id: int = Field(alias="subscriptionId")
    portal_id: int = Field(alias="portalId")
    occurred_at: int = Field(alias="occurredAt", ge=0, le=MAX_MILLIS, description="unix milliseconds")
    subscription_type: str = Field(alias="subscriptionType", max_length=100)
    attempt_number: int = Field(default=0, alias="attemptNumber")
    object_id: int | None = Field(default=None, alias="objectId")
    object_type_id: str | None = Field(default=None, alias="objectTypeId", max_length=20)
    property_name: str | None = Field(default=None, alias="propertyName", max_length=200)
    property_value: str | None = Field(default=None, alias="propertyValue")
    source_id: str | None = Field(default=None, alias="sourceId", max_length=200)
    association_type: str | None = Field(default=None, alias="associationType", max_length=100)
    from_object_id: int | None = Field(default=None, alias="fromObjectId")
    to_object_id: int | None = Field(default=None, alias="toObjectId")
    from_object_type_id: str | None = Field(default=None, alias="fromObjectTypeId", max_length=20)
    to_object_type_id: str | None = Field(default=None, alias="toObjectTypeId", max_length=20)
    association_removed: bool = Field(default=False, alias="associationRemoved")

    @property
    def delivery_id(self) -> str:
        return f"{self.subscription_id}-{self.event_id}"


def split_events(payload: Any, max_items: int) -> list[Any]:
    if not isinstance(payload, list):
        raise BodyError("HubSpot sends a JSON array of events")
    return check_count(payload, max_items)


def to_item(index: int, event: HubSpotEvent, identity_key: bytes, received_at: datetime) -> Item:
    del identity_key  # HubSpot names people by record id only
    if event.subscription_type.endswith(".associationChange"):
        return _association(index, event, received_at)
    if event.subscription_type.endswith(".propertyChange") and event.property_name == REPLY_PROPERTY:
        return _reply(index, event, received_at)
    if event.subscription_type.endswith(".propertyChange") and event.property_name == OPT_OUT_PROPERTY:
        return _email_consent(index, event, received_at)
    return Item.ignore(index, event.delivery_id, f"{event.subscription_type} is not a touch of a contact")


def _association(index: int, event: HubSpotEvent, received_at: datetime) -> Item:
    from_type, to_type = _association_types(event)
    pair = {from_type: event.from_object_id, to_type: event.to_object_id}
    engagement_type = next((type_id for type_id in (from_type, to_type) if type_id in ENGAGEMENTS), None)
    if engagement_type is None or CONTACT_TYPE not in pair:
        return Item.ignore(index, event.delivery_id, "association is not between an engagement and a contact")
    if event.association_removed:
        return Item.ignore(index, event.delivery_id, "association removed")
    engagement_id, contact = pair[engagement_type], pair[CONTACT_TYPE]
    if engagement_id is None or contact is None:
        return Item.reject(index, event.delivery_id, "fromObjectId and toObjectId are required for associations")
    engagement = ENGAGEMENTS[engagement_type]
    # One id per (engagement, contact): both directions of the association and every retry collapse into one.
    shape = (engagement.channel, Direction.OUTBOUND, engagement.kind)
    at = _from_millis(event.occurred_at)
    item = _touch(index, event, f"assoc-{engagement_id}-{contact}", contact, at, shape, received_at)
    item.lookup = HubSpotLookup(str(contact), engagement_type, str(engagement_id))
    return item


def _association_types(event: HubSpotEvent) -> tuple[str | None, str | None]:
    if event.from_object_type_id and event.to_object_type_id:
        return event.from_object_type_id, event.to_object_type_id
    names = (event.association_type or "").split("_TO_")
    if len(names) != 2:
        return None, None
    return _BY_NAME.get(names[0]), _BY_NAME.get(names[1])


def _reply(index: int, event: HubSpotEvent, received_at: datetime) -> Item:
    if event.subscription_type.startswith("object.") and event.object_type_id != CONTACT_TYPE:
        return Item.ignore(index, event.delivery_id, f"{REPLY_PROPERTY} changed on a non-contact object")
    if event.object_id is None:
        return Item.reject(index, event.delivery_id, "objectId is required for property changes")
    if not event.property_value:
        return Item.ignore(index, event.delivery_id, f"{REPLY_PROPERTY} was cleared")
    replied_at = _property_time(event.property_value) or _from_millis(event.occurred_at)
    event_id = f"reply-{event.object_id}-{int(replied_at.timestamp() * 1000)}"
    shape = (Channel.EMAIL, Direction.INBOUND, Kind.REPLY)
    item = _touch(index, event, event_id, event.object_id, replied_at, shape, received_at)
    item.lookup = HubSpotLookup(str(event.object_id))
    return item


def _email_consent(index: int, event: HubSpotEvent, received_at: datetime) -> Item:
    """A change of `hs_email_optout`: HubSpot says when, and whether it was set or cleared."""
    if event.subscription_type.startswith("object.") and event.object_type_id != CONTACT_TYPE:
        return Item.ignore(index, event.delivery_id, f"{OPT_OUT_PROPERTY} changed on a non-contact object")
    if event.object_id is None or event.property_value not in {"true", "false"}:
        return Item.reject(index, event.delivery_id, f"objectId and a true/false {OPT_OUT_PROPERTY} are required")
    at = _from_millis(event.occurred_at)
    flag = email_flag(f"hubspot-contact-{event.object_id}-{OPT_OUT_PROPERTY}", event.property_value == "true", at)
    event_id = consent_event_id(flag, at)
    return touch_or_reject(
        index,
        event_id,
        lambda: consent_event(
            flag, Source.HUBSPOT, str(event.portal_id), str(event.object_id), _sender(event.source_id), received_at, at
        ),
    )


def _touch(  # noqa: PLR0917 - one call per touch kind, all arguments named at the call sites
    index: int,
    event: HubSpotEvent,
    event_id: str,
    contact: int,
    at: datetime,
    shape: tuple[Channel, Direction, Kind],
    received_at: datetime,
) -> Item:
    channel, direction, kind = shape
    return touch_or_reject(
        index,
        event_id,
        lambda: OutreachEvent(
            event_id=event_id,
            tenant=str(event.portal_id),
            source=Source.HUBSPOT,
            occurred_at=at,
            received_at=received_at,
            sender_id=_sender(event.source_id),
            contact_id=str(contact),
            channel=channel,
            direction=direction,
            kind=kind,
        ),
    )


def _sender(source_id: str | None) -> str:
    if source_id and source_id.startswith("userId:") and source_id[7:].isdigit():
        return source_id[7:]
    return UNATTRIBUTED_SENDER


def _from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)


def _property_time(value: str) -> datetime | None:
    """HubSpot datetime properties are unix milliseconds (or ISO 8601 in newer payloads)."""
    if value.isdigit():
        return _from_millis(int(value)) if len(value) <= 15 and int(value) <= MAX_MILLIS else None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
