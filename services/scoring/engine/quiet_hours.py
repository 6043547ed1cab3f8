"""The contact's night, in the contact's own time zone: when a call or a text is not welcome."""

from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from services.scoring.policy.model import QuietHours


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(at: int, timezone: str) -> datetime:
    return datetime.fromtimestamp(at, zone(timezone))


def quiet_release(at: int, timezone: str, quiet: QuietHours) -> int | None:
    """The first instant after `at` when the quiet period that holds `at` is over; None when `at` is not quiet."""
    local = datetime.fromtimestamp(at, zone(timezone))
    minute = local.hour * 60 + local.minute
    if quiet.start <= quiet.end:
        if not quiet.start <= minute < quiet.end:
            return None
    elif not (minute >= quiet.start or minute < quiet.end):
        return None
    end = local.replace(hour=quiet.end // 60, minute=quiet.end % 60, second=0, microsecond=0)
    if end.timestamp() <= at:
        end = datetime.combine(local.date() + timedelta(days=1), end.timetz())
    return int(end.timestamp())
