"""One outreach event with plain defaults, for tests of any service: name only what the test is about."""

from datetime import datetime, timedelta

from schemas import Channel, Direction, Kind, Outcome, OutreachEvent, Source


def event(
    n: int | str,
    at: datetime,
    *,
    sender: str = "rep-1",
    contact: str = "c-1",
    tenant: str = "acme",
    channel: Channel | None = Channel.EMAIL,
    direction: Direction = Direction.OUTBOUND,
    kind: Kind | None = None,
    outcome: Outcome | None = None,
    category: str | None = None,
    timezone: str | None = None,
) -> OutreachEvent:
    if kind is None:
        phone = "phone" in (channel or "")
        kind = Kind.REPLY if direction is Direction.INBOUND else Kind.CALL if phone else Kind.MESSAGE
    return OutreachEvent(
        event_id=f"e-{n}",
        tenant=tenant,
        source=Source.GENERIC,
        occurred_at=at,
        received_at=at + timedelta(minutes=1),
        sender_id=sender,
        contact_id=contact,
        contact_timezone=timezone,
        channel=channel,
        direction=direction,
        kind=kind,
        outcome=outcome,
        category=category,
    )
