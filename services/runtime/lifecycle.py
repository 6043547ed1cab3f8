"""Keeps a service up while Kafka is not: it connects in the background and reports readiness."""

import asyncio
import logging

from faststream.kafka import KafkaBroker

log = logging.getLogger(__name__)


class BrokerConnection:
    """Starts the broker with retries so that a broker outage at boot is a 503, not a crash loop."""

    def __init__(self, broker: KafkaBroker, retry_seconds: float = 1.0) -> None:
        self.broker = broker
        self.retry_seconds = retry_seconds
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
            return "not connected to Kafka yet"
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
                await asyncio.sleep(self.retry_seconds)
            else:
                self.started.set()
                log.info("kafka connected")
                return
