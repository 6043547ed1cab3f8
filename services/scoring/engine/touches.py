"""One remembered touch, and what it means to the rules: engagement by the contact, or outreach that counts.

Times are whole seconds since the Unix epoch: the rules do integer arithmetic, and state stays small.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache

from schemas import Channel, Direction, Kind, Outcome, OutreachEvent
from services.scoring.engine.consent import ConsentMark
from services.scoring.policy.model import Policy


class Engagement(StrEnum):
    """The ways a contact shows interest; each earns rapport and ends an unanswered streak."""

    REPLY = "reply"
    CONTACT_INITIATED = "contact_initiated"
    ANSWERED_CALL = "answered_call"
    MEETING = "meeting"


@dataclass(slots=True)
class Touch:
    """Build one with `Touch.of`, which works out what the touch means; the codec passes that in from a cache.
    Treated as immutable (not frozen only because frozen dataclasses are slow to build, and states hold many)."""

    at: int
    key: int
    channel: Channel
    direction: Direction
    kind: Kind
    outcome: Outcome | None
    exempt: bool
    engagement: Engagement | None
    counts: bool
    """Outreach the contact did not ask for and did receive: what every frequency rule counts."""

    @classmethod
    def of(
        cls,
        at: int,
        key: int,
        channel: Channel,
        direction: Direction,
        kind: Kind,
        *,
        outcome: Outcome | None = None,
        exempt: bool = False,
    ) -> "Touch":
        return cls(at, key, *describe(channel, direction, kind, outcome, exempt))

    @property
    def order(self) -> tuple[int, int]:
        """Event time first; the key breaks ties the same way on every replica and every replay."""
        return (self.at, self.key)


Described = tuple[Channel, Direction, Kind, Outcome | None, bool, Engagement | None, bool]


@cache
def describe(channel: Channel, direction: Direction, kind: Kind, outcome: Outcome | None, exempt: bool) -> Described:
    """The touch's own fields followed by what they mean (engagement, counts)."""
    engagement, counts = _meaning(channel, direction, kind, outcome, exempt)
    return (channel, direction, kind, outcome, exempt, engagement, counts)


@cache
def _meaning(
    channel: Channel, direction: Direction, kind: Kind, outcome: Outcome | None, exempt: bool
) -> tuple[Engagement | None, bool]:
    engagement = _engagement(channel, direction, kind, outcome)
    counts = direction is Direction.OUTBOUND and not exempt and outcome is not Outcome.BOUNCED and engagement is None
    return engagement, counts


def _engagement(channel: Channel, direction: Direction, kind: Kind, outcome: Outcome | None) -> Engagement | None:
    if direction is Direction.INBOUND:
        if kind is Kind.MEETING or channel is Channel.MEETING:
            return Engagement.MEETING
        return Engagement.REPLY if kind is Kind.REPLY else Engagement.CONTACT_INITIATED
    if outcome is Outcome.ANSWERED:
        if kind is Kind.CALL:
            return Engagement.ANSWERED_CALL
        if kind is Kind.MEETING:
            return Engagement.MEETING
    return None


def event_key(source: str, event_id: str) -> int:
    """64 bits of the idempotency key `(source, event_id)`; the tenant is already in the contact key."""
    return int.from_bytes(hashlib.blake2b(f"{source}:{event_id}".encode(), digest_size=8).digest(), "big")


def seconds(at: datetime) -> int:
    return int(at.timestamp())


def instant(at: int) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def touch_from_event(event: OutreachEvent, policy: Policy) -> Touch:
    if event.channel is None:
        raise ValueError(f"a {event.kind.value} event is consent, not a touch")
    return Touch.of(
        at=seconds(event.occurred_at),
        key=event_key(event.source, event.event_id),
        channel=event.channel,
        direction=event.direction,
        kind=event.kind,
        outcome=event.outcome,
        exempt=event.category is not None and event.category.lower() in policy.exempt_categories,
    )


def mark_from_event(event: OutreachEvent) -> ConsentMark:
    if not event.kind.is_consent:
        raise ValueError(f"a {event.kind.value} event is a touch, not consent")
    key = event_key(event.source, event.event_id)
    return ConsentMark(seconds(event.occurred_at), key, event.channel, event.kind is Kind.OPT_OUT)
