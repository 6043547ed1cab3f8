"""Reference copy of `opt_out_in_force` as it was before the engine was made faster (frozen: do not optimise)."""

import bisect
from collections.abc import Sequence

from schemas import Channel
from services.scoring.engine.consent import ConsentMark


def opt_out_in_force(marks: Sequence[ConsentMark], channel: Channel, at: int) -> ConsentMark | None:
    """The opt-out in force on `channel` at `at`, or None when the contact has not opted out of it then."""
    end = bisect.bisect_right(marks, (at, 2**64), key=_order)
    for index in range(end - 1, -1, -1):
        mark = marks[index]
        if mark.channel is None or mark.channel is channel:
            return mark if mark.opt_out else None
    return None


def _order(mark: ConsentMark) -> tuple[int, int]:
    return (mark.at, mark.key)
