"""What the webhook endpoints answer, item by item."""

from enum import StrEnum

from pydantic import BaseModel


class ItemStatus(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    IGNORED = "ignored"
    """Not a touch (a deal update, a planned task): acknowledged so that the CRM does not retry or ban us."""


class ItemResult(BaseModel):
    index: int
    event_id: str | None = None
    status: ItemStatus
    reason: str | None = None


class BatchResult(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    ignored: int = 0
    results: list[ItemResult]

    @classmethod
    def of(cls, results: list[ItemResult]) -> "BatchResult":
        def count(status: ItemStatus) -> int:
            return sum(1 for result in results if result.status is status)

        return cls(
            accepted=count(ItemStatus.ACCEPTED),
            duplicate=count(ItemStatus.DUPLICATE),
            rejected=count(ItemStatus.REJECTED),
            ignored=count(ItemStatus.IGNORED),
            results=results,
        )


class Problem(BaseModel):
    """An error body that tells the integrator what to fix."""

    error: str
    detail: str
