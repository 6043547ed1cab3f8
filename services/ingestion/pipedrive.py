"""Pipedrive webhooks v2: HTTP Basic auth, and done activities (calls, e-mails, meetings) mapped to touches.

Pipedrive sends one change per request. `meta.id` identifies the delivery; the activity id identifies the touch,
so a retried delivery and a later edit of the same activity are both duplicates of the first.
"""

import base64
import binascii
import hmac
from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from schemas import Channel, Direction, Kind, Outcome, OutreachEvent, Source
from services.identity.pseudonyms import email_pseudonym
from services.ingestion.enrichment.consent import consent_event, consent_event_id, email_flag
from services.ingestion.enrichment.lookups import MARKETING_UNSUBSCRIBED, PipedriveLookup
from services.ingestion.intake import BodyError, describe, touch_or_reject
from services.ingestion.items import Item

ACTIVITY_TYPES = {
    "call": (Channel.PHONE_WORK, Kind.CALL),
    "email": (Channel.EMAIL, Kind.MESSAGE),
    "meeting": (Channel.MEETING, Kind.MEETING),
    "lunch": (Channel.MEETING, Kind.MEETING),
}
TOUCH_ACTIONS = {"create", "change", "added", "updated"}


class CredentialsError(Exception):
    """The request does not carry the configured Basic auth user and password."""


def check_basic_auth(authorization: str | None, user: str, password: str) -> None:
    """Compare in constant time, user and password together, so that neither leaks through timing."""
    if not authorization or not authorization.lower().startswith("basic "):
        raise CredentialsError("missing HTTP Basic Authorization header: set http_auth_user/password on the webhook")
    try:
        offered = base64.b64decode(authorization[6:].strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CredentialsError("Authorization header is not valid Basic credentials") from None
    expected = f"{user}:{password}".encode()
    if not hmac.compare_digest(offered, expected):
        raise CredentialsError("user or password does not match PIPEDRIVE_WEBHOOK_USER/PASSWORD")


class Meta(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | int
    action: str = Field(max_length=40)
    entity: str = Field(max_length=40)
    company_id: int | str
    user_id: int | None = None
    timestamp: str | int | None = None
    version: str | None = Field(default=None, max_length=10)


class Webhook(BaseModel):
    """The v2 envelope: `{meta, data, previous}`."""

    model_config = ConfigDict(extra="ignore")

    meta: Meta
    data: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None


class Participant(BaseModel):
    model_config = ConfigDict(extra="ignore")

    person_id: int | None = None
    primary: bool = Field(default=False, validation_alias=AliasChoices("primary", "primary_flag"))


class Attendee(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str | None = Field(default=None, max_length=320, validation_alias=AliasChoices("email", "email_address"))
    person_id: int | None = None
    is_organizer: bool = False


class Activity(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    type: str = Field(max_length=100)
    done: bool = False
    owner_id: int | None = None
    user_id: int | None = None
    person_id: int | None = None
    participants: list[Participant] | None = None
    attendees: list[Attendee] | None = None
    due_date: date | None = None
    due_time: str | None = Field(default=None, max_length=20)
    marked_as_done_time: str | None = Field(default=None, max_length=40)
    update_time: str | None = Field(default=None, max_length=40)
    add_time: str | None = Field(default=None, max_length=40)
    subject: str | None = Field(default=None, max_length=1000)
    note: str | None = Field(default=None, max_length=10_000)


class Person(BaseModel):
    """The fields of a person change that matter here: who owns them, and when they last wrote to us."""

    model_config = ConfigDict(extra="ignore")

    id: int
    owner_id: int | None = None
    last_incoming_mail_time: str | None = Field(default=None, max_length=40)
    marketing_status: str | None = Field(default=None, max_length=40)
    update_time: str | None = Field(default=None, max_length=40)


def parse(payload: Any) -> Webhook:
    try:
        webhook = Webhook.model_validate(payload)
    except ValidationError as exc:
        raise BodyError(f"not a Pipedrive webhook v2 body: {describe(exc)}") from None
    if webhook.meta.version is not None and not webhook.meta.version.startswith("2"):
        raise BodyError(f"webhooks version {webhook.meta.version} is not supported: create the webhook as v2")
    return webhook


def to_item(webhook: Webhook, identity_key: bytes, received_at: datetime) -> Item:
    meta, delivery_id = webhook.meta, str(webhook.meta.id)
    if meta.entity == "person" and meta.action in TOUCH_ACTIONS and webhook.data is not None:
        return _person(webhook, received_at)
    if meta.entity != "activity" or meta.action not in TOUCH_ACTIONS or webhook.data is None:
        return Item.ignore(0, delivery_id, f"{meta.action}.{meta.entity} is not a touch")
    try:
        activity = Activity.model_validate(webhook.data)
    except ValidationError as exc:
        return Item.reject(0, delivery_id, describe(exc))
    return _activity(activity, meta, identity_key, received_at)


def _activity(activity: Activity, meta: Meta, identity_key: bytes, received_at: datetime) -> Item:
    event_id = f"activity-{activity.id}"
    shape = ACTIVITY_TYPES.get(activity.type)
    if shape is None:
        return Item.ignore(0, event_id, f"activity type {activity.type!r} is not a touch")
    if not activity.done:
        return Item.ignore(0, event_id, "planned activity: it becomes a touch when marked done")
    contact = _contact(activity, identity_key)
    if contact is None:
        return Item.ignore(0, event_id, "activity names no person or attendee")
    sender = activity.owner_id or activity.user_id or meta.user_id
    if sender is None:
        return Item.reject(0, event_id, "activity has no owner_id")
    occurred_at = _occurred_at(activity, meta)
    if occurred_at is None:
        return Item.reject(0, event_id, "activity has no time (marked_as_done_time, due_date or add_time)")
    channel, kind = shape
    item = touch_or_reject(
        0,
        event_id,
        lambda: OutreachEvent(
            event_id=event_id,
            tenant=str(meta.company_id),
            source=Source.PIPEDRIVE,
            occurred_at=occurred_at,
            received_at=received_at,
            sender_id=str(sender),
            contact_id=contact,
            channel=channel,
            direction=Direction.OUTBOUND,
            kind=kind,
            outcome=Outcome.ANSWERED if kind is Kind.MEETING else None,
        ),
    )
    if activity.person_id is not None or not contact.startswith(("em_", "ph_")):
        call = channel is Channel.PHONE_WORK
        text = f"{activity.subject or ''} {activity.note or ''}" if call else ""
        item.lookup = PipedriveLookup(contact, call=call, call_text=text)
    return item


def _person(webhook: Webhook, received_at: datetime) -> Item:
    """A person whose `last_incoming_mail_time` moved has written to us: an inbound e-mail reply at that time.

    Pipedrive's mail sync sets the field; the reply goes to the rep the person answered (docs/ingestion.md).
    """
    delivery_id, meta = str(webhook.meta.id), webhook.meta
    try:
        person = Person.model_validate(webhook.data)
    except ValidationError as exc:
        return Item.reject(0, delivery_id, describe(exc))
    previous = webhook.previous or {}
    if "marketing_status" in previous and previous["marketing_status"] != person.marketing_status:
        return _marketing_consent(webhook, person, received_at)
    before = previous.get("last_incoming_mail_time")
    replied_at = pipedrive_time(person.last_incoming_mail_time)
    if (
        replied_at is None
        or "last_incoming_mail_time" not in (webhook.previous or {})
        or before == (person.last_incoming_mail_time)
    ):
        return Item.ignore(0, delivery_id, "person change without a new incoming e-mail is not a touch")
    sender = person.owner_id or meta.user_id
    if sender is None:
        return Item.reject(0, delivery_id, "person has no owner_id")
    event_id = f"reply-{person.id}-{int(replied_at.timestamp())}"
    item = touch_or_reject(
        0,
        event_id,
        lambda: OutreachEvent(
            event_id=event_id,
            tenant=str(meta.company_id),
            source=Source.PIPEDRIVE,
            occurred_at=replied_at,
            received_at=received_at,
            sender_id=str(sender),
            contact_id=str(person.id),
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            kind=Kind.REPLY,
        ),
    )
    item.lookup = PipedriveLookup(str(person.id))
    return item


def _marketing_consent(webhook: Webhook, person: Person, received_at: datetime) -> Item:
    """`marketing_status` turned `unsubscribed` (an e-mail opt-out), or away from it (an opt-in).

    Other moves (no_consent → subscribed, archived) are not the contact's word on being contacted: ignored.
    """
    meta, delivery_id = webhook.meta, str(webhook.meta.id)
    was_unsubscribed = (webhook.previous or {}).get("marketing_status") == MARKETING_UNSUBSCRIBED
    if person.marketing_status != MARKETING_UNSUBSCRIBED and not was_unsubscribed:
        return Item.ignore(0, delivery_id, "marketing status change that is neither an opt-out nor an opt-in")
    changed_at = pipedrive_time(person.update_time) or pipedrive_time(
        meta.timestamp if isinstance(meta.timestamp, str) else None
    )
    if changed_at is None:
        return Item.reject(0, delivery_id, "person has no update_time")
    flag = email_flag(
        f"pipedrive-person-{person.id}-marketing_status", person.marketing_status == MARKETING_UNSUBSCRIBED, changed_at
    )
    event_id = consent_event_id(flag, changed_at)
    sender = str(person.owner_id or meta.user_id or "unattributed")
    return touch_or_reject(
        0,
        event_id,
        lambda: consent_event(
            flag, Source.PIPEDRIVE, str(meta.company_id), str(person.id), sender, received_at, changed_at
        ),
    )


def _contact(activity: Activity, key: bytes) -> str | None:
    """The person's record id; else the primary participant's; else an attendee's address, pseudonymised."""
    if activity.person_id is not None:
        return str(activity.person_id)
    participants = sorted(activity.participants or [], key=lambda p: not p.primary)
    person = next((p.person_id for p in participants if p.person_id is not None), None)
    if person is not None:
        return str(person)
    guests = [a for a in activity.attendees or [] if not a.is_organizer]
    with_person = next((a.person_id for a in guests if a.person_id is not None), None)
    if with_person is not None:
        return str(with_person)
    address = next((a.email for a in guests if a.email), None)
    return email_pseudonym(key, address) if address else None


def _occurred_at(activity: Activity, meta: Meta) -> datetime | None:
    done_at = pipedrive_time(activity.marked_as_done_time)
    if done_at is not None:
        return done_at
    if activity.due_date is not None:
        return datetime.combine(activity.due_date, _clock(activity.due_time), UTC)
    added_at = pipedrive_time(activity.add_time) or pipedrive_time(activity.update_time)
    if added_at is not None:
        return added_at
    if isinstance(meta.timestamp, int):
        return datetime.fromtimestamp(meta.timestamp, UTC) if 0 <= meta.timestamp < 253_402_300_800 else None
    return pipedrive_time(meta.timestamp)


def pipedrive_time(value: object) -> datetime | None:
    """Pipedrive writes UTC times, with or without an offset ('2024-09-27 14:25:27' (v1) or '...T14:25:27Z' (v2))."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _clock(value: str | None) -> time:
    try:
        return time.fromisoformat(value) if value else time()
    except ValueError:
        return time()
