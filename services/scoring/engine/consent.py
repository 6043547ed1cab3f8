"""The contact's own word on being contacted: opt-outs and opt-ins, per channel or for every channel. Pure.

Marks are kept in event-time order, so a late opt-out lands where it belongs and the answer does not depend on
arrival order. On a channel, the latest mark at or before an instant that covers it (its own channel, or every
channel) decides: an opt-out there means the contact had asked not to be contacted on that channel.
"""

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from schemas import Channel


@dataclass(frozen=True, slots=True)
class ConsentMark:
    at: int
    key: int
    """The event's idempotency key: a redelivered opt-out is known."""
    channel: Channel | None
    """None: every channel."""
    opt_out: bool

    @property
    def order(self) -> tuple[int, int]:
        return (self.at, self.key)

    def covers(self, channel: Channel) -> bool:
        return self.channel is None or self.channel is channel


def opt_out_in_force(marks: Sequence[ConsentMark], channel: Channel, at: int) -> ConsentMark | None:
    """The opt-out in force on `channel` at `at`, or None when the contact has not opted out of it then."""
    end = bisect.bisect_right(marks, (at, 2**64), key=_order)
    for index in range(end - 1, -1, -1):
        mark = marks[index]
        if mark.covers(channel):
            return mark if mark.opt_out else None
    return None


def _order(mark: ConsentMark) -> tuple[int, int]:
    return mark.order
