"""Replays rows through the scorer's own `Processor` on a `MemoryStore`, as the live scorer would have seen them.

The rows come in event-time order, in batches of `batch_size`, and each batch is processed with `now` = its latest
event time: the moment a live scorer fed in real time would have scored it. So an alert's `emitted_at` is that
event time, and everything the processor decides (placement, levels, alerts, their ids) is exactly what the live
scorer decides for the same events. The store forgets a contact after `expire_after` of *event* time without an
event, as the live store does by wall clock.
"""

import asyncio
import gc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from schemas import Alert, AlertLevel, Direction, Scope
from services.backtest.history import Row
from services.scoring.policy.file import PolicySet
from services.scoring.processing.processor import Processor
from services.scoring.state.memory_store import MemoryStore

DEFAULT_BATCH = 500
"""The live scorer's default `SCORING_BATCH_MAX_RECORDS`."""
EXPIRE_AFTER_SECONDS = 180 * 86400
"""The live scorer's default `STATE_EXPIRE_AFTER_DAYS`."""

Pair = tuple[str, str, str]
"""(tenant, sender_id, contact_id)"""


@dataclass
class Replay:
    alerts: list[Alert] = field(default_factory=list)
    events: int = 0
    scored: int = 0
    duplicates: int = 0
    consent: int = 0
    failed: int = 0
    outbound: Counter[Pair] = field(default_factory=Counter)
    """Outbound touches per pair."""
    touches_at_first_alert: dict[Pair, int] = field(default_factory=dict)
    """Per pair ever flagged: its outbound touches up to and including the one that raised its first alert."""


def replay(
    rows: Sequence[Row],
    policies: PolicySet,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> Replay:
    result = Replay()
    asyncio.run(_replay(rows, policies, batch_size, progress, result))
    return result


async def _replay(
    rows: Sequence[Row],
    policies: PolicySet,
    batch_size: int,
    progress: Callable[[int], None] | None,
    result: Replay,
) -> None:
    """Fills `result` rather than returning it: on Python 3.11, `asyncio.run` ends by asking `signal.getsignal`,
    which builds the repr of its SIGINT handler, and so of the main task and the task's result. With the replay
    as the result, that repr of every alert cost about a second and 100 MiB of peak memory on 100k events."""
    clock = _EventClock()
    processor = Processor(MemoryStore(EXPIRE_AFTER_SECONDS, clock=clock), policies)
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        now = batch[-1].occurred_at
        clock.at = now.timestamp()
        touches = _count_touches(batch, result.outbound)
        outputs, states = await processor.process([row.event() for row in batch], now)
        await processor.save(states)
        result.events += len(batch)
        result.scored += len(outputs.scored)
        result.duplicates += outputs.duplicates
        result.consent += outputs.consent
        result.failed += len(outputs.failed)
        result.alerts += outputs.alerts
        for alert in outputs.alerts:
            if alert.scope is Scope.PAIR and alert.level is not AlertLevel.RESOLVED and alert.sender_id is not None:
                pair = (alert.tenant, alert.sender_id, alert.contact_id)
                if pair not in result.touches_at_first_alert:
                    result.touches_at_first_alert[pair] = touches.get((*pair, alert.event_id), 0)
        if progress is not None:
            progress(len(batch))


def tune_garbage_collection() -> None:
    """For a process whose work is the replay (the command line, the bench): the rows read so far move out of the
    collector's reach, so its full collections stop rescanning a million long-lived tuples. The thresholds stay
    as they are: raised like the scorer's (50 000, 20, 100) the replay ran 30 % faster but cyclic garbage piled up
    to 1.5 GiB on 1M events, over the memory goal."""
    gc.collect()
    gc.freeze()


def _count_touches(batch: Sequence[Row], outbound: Counter[Pair]) -> dict[tuple[str, str, str, str], int]:
    """Counts the batch's outbound touches per pair; the count as of each event, for the alerts it raises."""
    at_event = {}
    for row in batch:
        if row.direction is Direction.OUTBOUND and not row.kind.is_consent:
            outbound[row.pair] += 1
        at_event[(*row.pair, row.event_id)] = outbound[row.pair]
    return at_event


class _EventClock:
    """The store's clock: the latest event time replayed, so expiry follows the history, not the wall clock."""

    at = 0.0

    def __call__(self) -> float:
        return self.at
