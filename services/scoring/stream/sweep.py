"""Runs the wall-clock sweep every `SCORING_SWEEP_SECONDS` and publishes its falls to `outreach.alerts`.

Under the same lock as the stream, so a sweep and a batch never interleave on one contact; only once the
partitions are taken over (a memory store rebuilt first). Alerts go out before the states are saved: a crash in
between repeats the sweep with the same ids, never loses it.
"""

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from services.scoring import metrics
from services.scoring.processing.sweep import Sweeper
from services.scoring.settings import ScoringSettings
from services.scoring.stream.outputs import Sender, alert_output

log = logging.getLogger("rapport_guard.scoring")


class SweepLoop:
    def __init__(
        self,
        sender: Sender,
        settings: ScoringSettings,
        sweeper: Sweeper,
        state_lock: AbstractAsyncContextManager[None],
        *,
        clock: Callable[[], datetime],
        ready: Callable[[], bool],
    ) -> None:
        self.settings = settings
        self.sweeper = sweeper
        self.state_lock = state_lock
        self.clock = clock
        self.ready = ready
        self.sender = sender
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.settings.scoring_sweep_seconds > 0:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.scoring_sweep_seconds)
            if not self.ready():
                continue
            try:
                more = True
                while more:  # a backlog is worked off in batches, each under the lock for a short while
                    more = await self.sweep_once() >= self.sweeper.batch
            except Exception as exc:  # noqa: BLE001 - the store or Kafka away: the next round tries again
                log.warning("sweep failed, it will run again: %s", type(exc).__name__)

    async def sweep_once(self) -> int:
        """One batch of due contacts; how many were due."""
        async with self.state_lock:
            swept = await self.sweeper.sweep(self.clock())
            await self.sender.send_all([alert_output(self.settings.topic_alerts, alert) for alert in swept.alerts])
            await self.sweeper.store.save_many(swept.states)
        for alert in swept.alerts:
            metrics.ALERTS.labels(level=alert.level.value, scope=alert.scope.value).inc()
        return len(swept.states)
