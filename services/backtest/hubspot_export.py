"""HubSpot's exported activities (an export of the calls, emails, meetings or communications index pages, or of
activities with a contact record) mapped onto the same events the HubSpot webhook produces.

Columns are found by HubSpot's property labels as an export writes them, or by the internal property names a
properties-by-name export writes (docs/backtest.md lists both, with the source). A row that is not a touch (a note,
a task) is counted and left out; a row that is a touch but lacks what it needs is malformed and names the column.
"""

import csv
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, tzinfo

from pydantic import ValidationError

from schemas import Channel, Direction, Kind, Outcome, OutreachEvent, Source
from services.backtest.collector import Collector, ExportError, Problem
from services.identity.pseudonyms import email_pseudonym, pseudonym

COLUMNS = {
    "id": ("Record ID", "Activity ID", "hs_object_id"),
    "at": ("Activity date", "hs_timestamp", "Create date"),
    "type": ("Activity type", "Engagement type", "hs_engagement_type"),
    "owner": ("Activity assigned to", "hubspot_owner_id", "Assigned to"),
    "contact": ("Associated Contact", "Associated Contacts", "Associated Contact IDs", "Contact ID"),
    "call_direction": ("Call direction", "hs_call_direction"),
    "call_outcome": ("Call outcome", "hs_call_disposition"),
    "email_direction": ("Email direction", "hs_email_direction"),
    "channel": ("Channel type", "hs_communication_channel_type"),
    "meeting_outcome": ("Meeting outcome", "hs_meeting_outcome"),
}
"""Our field → the column names that carry it, HubSpot's label first. Not `hs_activity_type` ("Call and meeting
type"): its values are the portal's own call and meeting types ("Discovery call"), not the kind of activity."""

_TYPE_BY_COLUMNS = {
    "call": ("call_direction", "call_outcome"),
    "email": ("email_direction",),
    "meeting": ("meeting_outcome",),
    "communication": ("channel",),
}
"""An export of one index page (calls only, meetings only) may have no activity type column: its object's own
columns tell what every row is."""

_TYPES = {
    "call": (Channel.PHONE_WORK, Kind.CALL),
    "calls": (Channel.PHONE_WORK, Kind.CALL),
    "email": (Channel.EMAIL, Kind.MESSAGE),
    "emails": (Channel.EMAIL, Kind.MESSAGE),
    "meeting": (Channel.MEETING, Kind.MEETING),
    "meetings": (Channel.MEETING, Kind.MEETING),
    "communication": (Channel.OTHER, Kind.MESSAGE),
    "sms": (Channel.SMS, Kind.MESSAGE),
    "linkedin message": (Channel.LINKEDIN, Kind.MESSAGE),
    "linkedin_message": (Channel.LINKEDIN, Kind.MESSAGE),
    "whatsapp": (Channel.OTHER, Kind.MESSAGE),
    "whats_app": (Channel.OTHER, Kind.MESSAGE),
}
_NOT_TOUCHES = {"note", "notes", "task", "tasks", "postal mail", "postal_mail"}
_INBOUND_EMAIL = {"incoming_email", "incoming email", "received", "inbound"}
_CALL_OUTCOMES = {
    "connected": Outcome.ANSWERED,
    "no answer": Outcome.NO_ANSWER,
    "busy": Outcome.NO_ANSWER,
    "wrong number": Outcome.NO_ANSWER,
    "left voicemail": Outcome.VOICEMAIL,
    "left live message": Outcome.VOICEMAIL,
}
_CHANNEL_TYPES = {"sms": Channel.SMS, "linkedin_message": Channel.LINKEDIN, "whats_app": Channel.OTHER}
_EMAIL = re.compile(r"[^@\s<>()\";,]+@[^@\s<>()\";,]+\.[^@\s<>()\";,]+")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%Y-%m-%d")


def is_hubspot_header(header: Sequence[str]) -> bool:
    found = _found(header)
    return any(name in header for name in COLUMNS["at"][:2]) and (
        found["type"] is not None or bool(_types_by_columns(found))
    )


def _found(header: Sequence[str]) -> dict[str, str | None]:
    return {field: next((name for name in names if name in header), None) for field, names in COLUMNS.items()}


def _types_by_columns(found: dict[str, str | None]) -> list[str]:
    return [kind for kind, fields in _TYPE_BY_COLUMNS.items() if any(found[field] for field in fields)]


def read_hubspot(lines: Iterable[str], tenant: str, collector: Collector, timezone: tzinfo = UTC) -> None:
    """`timezone`: the zone of dates written without one (HubSpot writes them in the account's zone)."""
    reader = csv.DictReader(lines)
    header = reader.fieldnames or []
    found = _found(header)
    missing = [COLUMNS[field][0] for field in ("at", "contact") if found[field] is None]
    implied = None
    if found["type"] is None:
        kinds = _types_by_columns(found)
        if len(kinds) == 1:
            implied = kinds[0]
            collector.note(f"no activity type column: every row is read as a {implied}, as its columns say")
        else:
            missing.append(
                f"{COLUMNS['type'][0]} (or the columns of one kind of activity only, such as Call direction)"
            )
    if header and missing:
        raise ExportError(f"HubSpot export: missing column(s) {', '.join(missing)}")
    known = {name for names in COLUMNS.values() for name in names}
    collector.note(f"HubSpot columns not used: {', '.join(name for name in header if name not in known) or 'none'}")
    skipped: dict[str, int] = {}
    for record in reader:
        number = reader.line_num

        def cell(field: str, record: dict[str | None, str | None] = record) -> str:
            column = found[field]
            return (record.get(column) or "").strip() if column else ""

        activity = implied or cell("type").lower()
        if activity in _NOT_TOUCHES:
            skipped[activity] = skipped.get(activity, 0) + 1
            continue
        try:
            event = _event(number, activity, cell, tenant, collector, timezone)
        except _Malformed as exc:
            collector.reject([Problem(number, found[exc.field] or COLUMNS[exc.field][0], exc.message)])
            continue
        collector.add(event)
    for activity, count in sorted(skipped.items()):
        collector.note(f"{count} {activity} row(s) are not touches and were left out")


class _Malformed(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _event(  # noqa: PLR0917 - one row's reading, called from one place
    number: int, activity: str, cell: Callable[[str], str], tenant: str, collector: Collector, timezone: tzinfo
) -> OutreachEvent:
    if activity not in _TYPES:
        raise _Malformed(
            "type", f"unknown activity type {activity!r}; expected Call, Email, Meeting or a communication"
        )
    channel, kind = _TYPES[activity]
    direction = Direction.OUTBOUND
    outcome = None
    if kind is Kind.CALL:
        direction = Direction.INBOUND if cell("call_direction").lower() == "inbound" else Direction.OUTBOUND
        outcome = _CALL_OUTCOMES.get(cell("call_outcome").lower())
    elif channel is Channel.EMAIL and cell("email_direction").lower() in _INBOUND_EMAIL:
        direction, kind = Direction.INBOUND, Kind.REPLY
    elif kind is Kind.MEETING:
        direction = Direction.INBOUND if cell("meeting_outcome").lower() == "completed" else Direction.OUTBOUND
    if channel is Channel.OTHER:
        channel = _CHANNEL_TYPES.get(cell("channel").lower(), Channel.OTHER)
    contact_id, original = _contact(cell("contact"), collector.key)
    collector.remember(contact_id, original)
    try:
        return OutreachEvent(
            event_id=f"hubspot-{cell('id')}" if cell("id") else f"hubspot-line-{number}",
            tenant=tenant,
            source=Source.HUBSPOT,
            occurred_at=_instant(cell("at"), timezone),
            received_at=collector.received_at,
            sender_id=_owner(cell("owner"), collector.key),
            contact_id=contact_id,
            channel=channel,
            direction=direction,
            kind=kind,
            outcome=outcome,
        )
    except ValidationError as exc:
        raise _Malformed("at", str(exc.errors()[0]["msg"])) from None


def _contact(value: str, key: bytes) -> tuple[str, str]:
    """The first associated contact: a record ID as the webhook names it, else its e-mail address pseudonymised."""
    first = value.split(";", maxsplit=1)[0].strip()
    if not first:
        raise _Malformed("contact", "no associated contact: a touch needs the contact's record ID or e-mail address")
    if first.isdigit():
        return sys.intern(first), first
    address = _EMAIL.search(first)
    if address is None:
        raise _Malformed("contact", "needs the contact's record ID or e-mail address, not only a name")
    return sys.intern(email_pseudonym(key, address.group())), address.group()


def _owner(value: str, key: bytes) -> str:
    """HubSpot's owner id as the webhook names senders; an owner named by address or name is pseudonymised."""
    if not value:
        return "unattributed"
    if value.isdigit():
        return sys.intern(value)
    address = _EMAIL.search(value)
    if address is not None:
        return sys.intern(email_pseudonym(key, address.group()))
    return sys.intern(pseudonym(key, "owner", " ".join(value.lower().split())))


def _instant(value: str, timezone: tzinfo) -> datetime:
    if not value:
        raise _Malformed("at", "empty: every activity needs its date")
    if value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
        for pattern in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(value, pattern)  # naive: in the export's zone, set below
                break
            except ValueError:
                continue
    if parsed is None:
        raise _Malformed(
            "at", f"not a date HubSpot writes, like '2026-03-02 14:30' or '03/02/2026 02:30 PM': {value!r}"
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone)
