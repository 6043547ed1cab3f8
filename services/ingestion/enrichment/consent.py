"""Consent flags a CRM keeps on a contact, as the contract's `opt_out` / `opt_in` events (docs/ingestion.md).

The event id is derived from the CRM record, the flag, the channel and its state, so every retry and every
look-up that sees the same flag again is a duplicate of the first (within the dedupe window). A change a webhook
reports at a known time adds that time, so opting out, in and out again are three events.
"""

from datetime import datetime

from schemas import Channel, Direction, Kind, OutreachEvent, Source
from services.ingestion.enrichment.facts import ConsentFlag


def consent_event_id(flag: ConsentFlag, changed_at: datetime | None = None) -> str:
    state = "opt_out" if flag.opted_out else "opt_in"
    suffix = f"-{int(changed_at.timestamp() * 1000)}" if changed_at is not None else ""
    return f"consent-{flag.record}-{flag.channel.value}-{state}{suffix}"


def consent_event(  # noqa: PLR0917 - the fields of the event, named at each call site
    flag: ConsentFlag,
    source: Source,
    tenant: str,
    contact_id: str,
    sender_id: str,
    received_at: datetime,
    changed_at: datetime | None = None,
) -> OutreachEvent:
    """The contact's own word on one channel: inbound, by the contact, to the organisation."""
    return OutreachEvent(
        event_id=consent_event_id(flag, changed_at),
        tenant=tenant,
        source=source,
        occurred_at=flag.at,
        received_at=received_at,
        sender_id=sender_id,
        contact_id=contact_id,
        channel=flag.channel,
        direction=Direction.INBOUND,
        kind=Kind.OPT_OUT if flag.opted_out else Kind.OPT_IN,
    )


def email_flag(record: str, opted_out: bool, at: datetime) -> ConsentFlag:
    return ConsentFlag(record, Channel.EMAIL, opted_out, at)
