"""Keeps a service up while Kafka is not: it connects in the background and reports readiness."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from faststream.kafka import KafkaBroker

log = logging.getLogger(__name__)

Diagnosis = Callable[[], Awaitable[str | None]]
"""Says why a failed connection failed when the cause is the configuration (a refused password or certificate)."""


class BrokerConnection:
    """Starts the broker with retries so that a broker outage at boot is a 503, not a crash loop."""

    def __init__(self, broker: KafkaBroker, retry_seconds: float = 1.0, diagnose: Diagnosis | None = None) -> None:
        self.broker = broker
        self.retry_seconds = retry_seconds
        self.diagnose = diagnose
        self.refusal: str | None = None
        self.started = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self._task = asyncio.create_task(self._connect_until_started())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.started.is_set():
            await self.broker.stop()

    async def problem(self) -> str | None:
        """None when the broker answers, else why not (for `/readyz`)."""
        if not self.started.is_set():
            return self.refusal or "not connected to Kafka yet"
        if not await self.broker.ping(timeout=2.0):
            return "Kafka does not answer"
        return None

    async def _connect_until_started(self) -> None:
        while True:
            try:
                await self.broker.start()
            except Exception as exc:  # noqa: BLE001 - any failure to connect means: try again
                log.warning("kafka connect failed, retrying: %s", type(exc).__name__)
                await self.broker.stop()
                await self._note_refusal()
                await asyncio.sleep(self.retry_seconds)
            else:
                self.refusal = None
                self.started.set()
                log.info("kafka connected")
                return

    async def _note_refusal(self) -> None:
        """A Kafka that was away at start may come back refusing the credentials: name the setting once in the log
        and on `/readyz` instead of retrying in silence."""
        if self.diagnose is None:
            return
        refusal = await self.diagnose()
        if refusal is not None and refusal != self.refusal:
            log.error("kafka refused the connection: %s", refusal)
        self.refusal = refusal
