"""Who last wrote to or called a contact: the rep a reply answers when the CRM does not name the thread.

A reply belongs to the rep the contact answered. When the CRM's record of the reply does not lead to the message
it answers, the best guess ingestion can make is the most recent outbound touch to that contact it has passed
on (by the touch's own time), within `ENRICHMENT_RECENT_SENDER_TTL_SECONDS`. Kept in memory: a restart or
another replica forgets, and the reply then goes to the contact's owner or stays as the webhook named it.
"""

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime


class RecentSenders:
    def __init__(self, ttl_seconds: float, max_contacts: int, clock: Callable[[], float]) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_contacts = max_contacts
        self.clock = clock
        self._last: OrderedDict[str, tuple[float, datetime, str]] = OrderedDict()

    def record(self, contact_key: str, sender_id: str, at: datetime) -> None:
        """An outbound touch; an older one arriving late does not replace a newer one."""
        known = self._fresh(contact_key)
        if known is not None and known[1] > at:
            return
        self._last[contact_key] = (self.clock(), at, sender_id)
        self._last.move_to_end(contact_key)
        while len(self._last) > self.max_contacts:
            self._last.popitem(last=False)

    def latest(self, contact_key: str, before: datetime) -> str | None:
        """The sender of the most recent outbound touch to the contact no later than `before`."""
        known = self._fresh(contact_key)
        return known[2] if known is not None and known[1] <= before else None

    def _fresh(self, contact_key: str) -> tuple[float, datetime, str] | None:
        known = self._last.get(contact_key)
        if known is None or self.clock() - known[0] >= self.ttl_seconds:
            return None
        return known
