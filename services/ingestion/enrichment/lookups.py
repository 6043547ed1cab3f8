"""What each adapter asks the CRM's API about one item; plain data, so adapters need no HTTP client to say it."""

from dataclasses import dataclass

MARKETING_UNSUBSCRIBED = "unsubscribed"
"""Pipedrive's `marketing_status` of a person who opted out of e-mail."""


@dataclass(frozen=True)
class HubSpotLookup:
    """What to ask about one item: the contact, and the engagement when the event is about one."""

    contact_id: str
    engagement_type: str | None = None
    engagement_id: str | None = None


@dataclass(frozen=True)
class SalesforceLookup:
    who_id: str | None
    call: bool = False
    call_text: str = ""
    """Subject and Description of a call Task: click-to-dial writes the dialled number there."""
    what_id: str | None = None
    contact_address: str | None = None
    """An EmailMessage's contact address, to find its Contact; held in memory only, never published."""
    reply_to_id: str | None = None
    answered_by: str | None = None
    """For an inbound call Task: its owner, the rep who took it."""


@dataclass(frozen=True)
class PipedriveLookup:
    person_id: str
    call: bool = False
    call_text: str = ""
    """Subject and note of a call activity: where Pipedrive's dialler and click-to-call write the number."""
