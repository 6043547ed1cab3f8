"""What the webhook endpoints answer, item by item."""

from collections.abc import Mapping
from enum import StrEnum
from typing import TypedDict

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


class ItemFields(TypedDict):
    """An `ItemResult` before validation: a batch's results are validated in one call, not one model at a time."""

    index: int
    event_id: str | None
    status: ItemStatus
    reason: str | None


class BatchResult(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    ignored: int = 0
    results: list[ItemResult]

    @classmethod
    def of(cls, results: list[ItemFields], counts: Mapping[ItemStatus, int]) -> "BatchResult":
        """`counts` is how many `results` have each status (the caller counts them once, for its metrics too)."""
        return cls.model_validate(
            {
                "accepted": counts.get(ItemStatus.ACCEPTED, 0),
                "duplicate": counts.get(ItemStatus.DUPLICATE, 0),
                "rejected": counts.get(ItemStatus.REJECTED, 0),
                "ignored": counts.get(ItemStatus.IGNORED, 0),
                "results": results,
            }
        )


class Problem(BaseModel):
    """An error body that tells the integrator what to fix."""

    error: str
    detail: str
