"""The wall clock, injected wherever a rule or a record needs "now"."""

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
