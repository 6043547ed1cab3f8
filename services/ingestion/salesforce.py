"""Salesforce Outbound Messages: SOAP `notifications` of Task, Event and EmailMessage records.

Outbound Messages carry no signature, so the organisation id is checked against `SALESFORCE_ORGANIZATION_ID`
(deployments add TLS, Salesforce's IP ranges or a client certificate in front). XML is parsed with defusedxml
and DTDs are refused: no entity expansion, no external entities.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from schemas import Channel, Direction, Kind, Outcome, OutreachEvent, Source
from services.identity.pseudonyms import email_pseudonym
from services.ingestion.enrichment.lookups import SalesforceLookup
from services.ingestion.intake import BodyError, touch_or_reject
from services.ingestion.items import Item

EMAIL_DRAFT_STATUS = "5"
OUTBOUND = Direction.OUTBOUND
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


@dataclass(frozen=True)
class Notification:
    notification_id: str
    sobject_type: str
    fields: dict[str, str]


@dataclass(frozen=True)
class OutboundMessage:
    organization_id: str
    notifications: list[Notification]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Element, name: str) -> Element | None:
    return next((child for child in element if _local(child.tag) == name), None)


def parse(body: bytes, max_items: int) -> OutboundMessage:
    """The message, or BodyError saying what is wrong with it."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException) as exc:
        raise BodyError(f"not a SOAP envelope Salesforce would send: {type(exc).__name__}") from None
    body_element = _child(root, "Body") if _local(root.tag) == "Envelope" else None
    notifications = _child(body_element, "notifications") if body_element is not None else None
    if notifications is None:
        raise BodyError("expected soapenv:Envelope/soapenv:Body/notifications")
    organization = _child(notifications, "OrganizationId")
    if organization is None or not (organization.text or "").strip():
        raise BodyError("notifications has no OrganizationId")
    parsed = [_notification(element) for element in notifications if _local(element.tag) == "Notification"]
    if not parsed:
        raise BodyError("notifications holds no Notification")
    if len(parsed) > max_items:
        raise BodyError(f"at most {max_items} notifications per message, got {len(parsed)}")
    return OutboundMessage((organization.text or "").strip(), parsed)


def _notification(element: Element) -> Notification:
    notification_id = _child(element, "Id")
    sobject = _child(element, "sObject")
    if notification_id is None or sobject is None:
        raise BodyError("each Notification needs an Id and an sObject")
    sobject_type = sobject.get(_XSI_TYPE, "").rsplit(":", 1)[-1]
    fields = {_local(child.tag): (child.text or "").strip() for child in sobject if (child.text or "").strip()}
    return Notification((notification_id.text or "").strip(), sobject_type, fields)


def same_organization(configured: str, offered: str) -> bool:
    """Salesforce ids come in a 15-character and an 18-character form; the first 15 characters are the id."""
    return len(offered) in (15, 18) and configured[:15] == offered[:15]


@dataclass(frozen=True)
class Context:
    """What every notification of one message shares."""

    organization_id: str
    identity_key: bytes
    received_at: datetime


@dataclass(frozen=True)
class Record:
    index: int
    record_id: str
    fields: dict[str, str]
    context: Context

    def touch(self, shape: tuple[Channel, Kind, Direction], at: datetime, sender: str, contact: str) -> Item:
        channel, kind, direction = shape
        return touch_or_reject(
            self.index,
            self.record_id,
            lambda: OutreachEvent(
                event_id=self.record_id,
                tenant=self.context.organization_id,
                source=Source.SALESFORCE,
                occurred_at=at,
                received_at=self.context.received_at,
                sender_id=sender,
                contact_id=contact,
                channel=channel,
                direction=direction,
                kind=kind,
                outcome=self._outcome(kind, at),
            ),
        )

    def _outcome(self, kind: Kind, at: datetime) -> Outcome | None:
        if kind is Kind.CALL:
            return _call_outcome(self.fields.get("CallDisposition", ""))
        if kind is Kind.MEETING:
            ended = _first_time(self.fields, "EndDateTime") or at
            return Outcome.ANSWERED if ended <= self.context.received_at else None
        return None


def to_item(index: int, note: Notification, context: Context) -> Item:
    record_id = note.fields.get("Id")
    if not record_id:
        return Item.reject(index, note.notification_id, f"{note.sobject_type or 'sObject'} has no Id field")
    record = Record(index, record_id, note.fields, context)
    if note.sobject_type == "Task":
        return _task(record)
    if note.sobject_type == "Event":
        at = _first_time(record.fields, "StartDateTime", "ActivityDateTime", "CreatedDate", "ActivityDate")
        return _activity(record, (Channel.MEETING, Kind.MEETING, Direction.OUTBOUND), at)
    if note.sobject_type == "EmailMessage":
        return _email(record)
    return Item.ignore(index, record_id, f"sObject type {note.sobject_type or '(none)'} is not an activity")


def _task(record: Record) -> Item:
    fields = record.fields
    subtype = fields.get("TaskSubtype") or fields.get("Type") or ""
    if "Status" in fields and fields["Status"] != "Completed" and fields.get("IsClosed") != "true":
        return Item.ignore(record.index, record.record_id, f"task status {fields['Status']!r} is not a touch yet")
    if subtype == "Call":
        inbound = fields.get("CallType") == "Inbound"
        shape = (Channel.PHONE_WORK, Kind.CALL, Direction.INBOUND if inbound else Direction.OUTBOUND)
    elif subtype in ("Email", "ListEmail"):
        shape = (Channel.EMAIL, Kind.MESSAGE, Direction.OUTBOUND)
    elif subtype == "LinkedIn":
        shape = (Channel.LINKEDIN, Kind.MESSAGE, Direction.OUTBOUND)
    else:
        return Item.ignore(record.index, record.record_id, f"task subtype {subtype or '(none)'} is not a touch")
    at = _first_time(fields, "CompletedDateTime", "CreatedDate", "LastModifiedDate", "ActivityDate")
    return _activity(record, shape, at)


def _activity(record: Record, shape: tuple[Channel, Kind, Direction], at: datetime | None) -> Item:
    contact = record.fields.get("WhoId")
    sender = record.fields.get("OwnerId") or record.fields.get("CreatedById")
    if not contact:
        return Item.ignore(record.index, record.record_id, "no WhoId: the activity names no contact or lead")
    if not sender:
        return Item.reject(record.index, record.record_id, "no OwnerId: add OwnerId to the outbound message's fields")
    if at is None:
        return Item.reject(record.index, record.record_id, "no time: add CreatedDate to the outbound message's fields")
    item = record.touch(shape, at, sender, contact)
    fields = record.fields
    call = shape[0] is Channel.PHONE_WORK
    item.lookup = SalesforceLookup(
        contact,
        call=call,
        call_text=f"{fields.get('Subject', '')} {fields.get('Description', '')}" if call else "",
        what_id=fields.get("WhatId"),
        answered_by=sender if shape[2] is Direction.INBOUND else None,
    )
    return item


def _email(record: Record) -> Item:
    """An EmailMessage names people by address only, so both sides become pseudonyms (unless a user id is given)."""
    fields, key = record.fields, record.context.identity_key
    if fields.get("Status") == EMAIL_DRAFT_STATUS:
        return Item.ignore(record.index, record.record_id, "draft e-mail")
    inbound = fields.get("Incoming") == "true"
    first_recipient = fields.get("ToAddress", "").replace(",", ";").split(";")[0].strip()
    from_address = fields.get("FromAddress", "")
    contact_address, user_address = (from_address, first_recipient) if inbound else (first_recipient, from_address)
    if not contact_address:
        return Item.reject(record.index, record.record_id, "EmailMessage needs FromAddress and ToAddress")
    at = _first_time(fields, "MessageDate", "CreatedDate")
    if at is None:
        return Item.reject(record.index, record.record_id, "no time: add MessageDate to the outbound message's fields")
    user = fields.get("CreatedById") or (email_pseudonym(key, user_address) if user_address else None)
    if user is None:
        return Item.reject(record.index, record.record_id, "EmailMessage needs CreatedById or the user's address")
    shape = (Channel.EMAIL, Kind.REPLY, Direction.INBOUND) if inbound else (Channel.EMAIL, Kind.MESSAGE, OUTBOUND)
    item = record.touch(shape, at, user, email_pseudonym(key, contact_address))
    item.lookup = SalesforceLookup(
        None,
        what_id=fields.get("RelatedToId"),
        contact_address=contact_address,
        reply_to_id=fields.get("ReplyToEmailMessageId") if inbound else None,
    )
    return item


def _call_outcome(disposition: str) -> Outcome | None:
    """CallDisposition is free text that each org picks; map the common words, leave the rest unknown."""
    words = disposition.lower()
    if "voicemail" in words or "left message" in words:
        return Outcome.VOICEMAIL
    if "no answer" in words or "not answered" in words or "busy" in words:
        return Outcome.NO_ANSWER
    if "connected" in words or "answered" in words or "reached" in words:
        return Outcome.ANSWERED
    return None


def _first_time(fields: dict[str, str], *names: str) -> datetime | None:
    for name in names:
        value = fields.get(name)
        if value:
            parsed = _time(value)
            if parsed is not None:
                return parsed
    return None


def _time(value: str) -> datetime | None:
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
