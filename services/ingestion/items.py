"""One item of a webhook body after an adapter read it: an event to publish, or why there is none.

Adapters are pure: they turn bytes into `Item`s and never publish, so every mapping can be tested on a fixture.
"""

from dataclasses import dataclass

from schemas import OutreachEvent
from services.ingestion.results import ItemResult, ItemStatus


@dataclass(slots=True)
class Item:
    """Not frozen: a frozen dataclass costs three times as much to make, once per event, and nothing changes these."""

    index: int
    event_id: str | None
    event: OutreachEvent | None = None
    rejected: str | None = None
    ignored: str | None = None
    lookup: object | None = None
    """What the CRM's API should be asked about this touch (an adapter's own dataclass); None: nothing."""
    note: str | None = None
    """Said with an accepted item, e.g. that it was published without enrichment."""

    @classmethod
    def touch(cls, index: int, event: OutreachEvent) -> "Item":
        return cls(index, event.event_id, event=event)

    @classmethod
    def reject(cls, index: int, event_id: str | None, reason: str) -> "Item":
        return cls(index, event_id, rejected=reason)

    @classmethod
    def ignore(cls, index: int, event_id: str | None, reason: str) -> "Item":
        return cls(index, event_id, ignored=reason)

    def result(self, status: ItemStatus | None = None) -> ItemResult:
        """The answer for this item; `status` overrides it once dedupe has looked at the event."""
        reason: str | None
        if self.rejected is not None:
            status, reason = ItemStatus.REJECTED, self.rejected
        elif self.ignored is not None:
            status, reason = ItemStatus.IGNORED, self.ignored
        else:
            status = status or ItemStatus.ACCEPTED
            reason = self.note if status is ItemStatus.ACCEPTED else None
        return {"index": self.index, "event_id": self.event_id, "status": status, "reason": reason}
