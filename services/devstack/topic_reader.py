"""A plain aiokafka reader of a whole topic, without a consumer group (demo printer and tests)."""

import asyncio
import time
from collections.abc import Mapping
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer


async def open_reader(
    bootstrap: str,
    topic: str,
    start: Literal["beginning", "end"],
    wait_seconds: float = 30,
    security: Mapping[str, Any] | None = None,
) -> AIOKafkaConsumer:
    """Read every partition of `topic` from its beginning or from its end as of now; `security` holds the
    aiokafka options of `kafka_security_options` for a secured cluster."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if start == "beginning" else "latest",
        **(security or {}),
    )
    await consumer.start()
    deadline = time.monotonic() + wait_seconds
    while not consumer.assignment():
        if time.monotonic() > deadline:
            await consumer.stop()
            raise TimeoutError(f"no partitions of {topic} assigned after {wait_seconds} s")
        await asyncio.sleep(0.05)
    for partition in consumer.assignment():
        await consumer.position(partition)
    return consumer
