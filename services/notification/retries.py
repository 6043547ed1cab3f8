"""Bounded retries with exponential backoff and jitter, each attempt under a timeout.

The bound matters twice: a receiver that never recovers must end on the dead-letter topic instead of holding
its partition forever, and the whole budget must fit inside Kafka's max.poll.interval (see settings).
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.notification.channels.base import Channel, DeliveryFailed
from services.notification.metrics import DELIVERY_DURATION, RETRIES
from services.notification.wording import Notice

Sleep = Callable[[float], Awaitable[None]]
OnRetry = Callable[[int, str], Awaitable[None]]
"""Called with the failed attempt's number and reason before the pause."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    initial_seconds: float
    max_seconds: float
    attempt_timeout_seconds: float

    def pause(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Before attempt `attempt + 1`: doubling up to the cap, then a random half off ("equal jitter")
        so that many alerts failing together do not come back together."""
        cap = min(self.max_seconds, self.initial_seconds * 2.0 ** (attempt - 1))
        pause = cap / 2 + rng.uniform(0, cap / 2)
        if retry_after is not None:
            pause = max(pause, min(retry_after, self.max_seconds))
        return pause


@dataclass(frozen=True)
class Attempts:
    delivered: bool
    attempts: int
    error: str | None = None


async def deliver_with_retries(
    channel: Channel,
    notice: Notice,
    delivery_id: str,
    policy: RetryPolicy,
    on_retry: OnRetry,
    *,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
) -> Attempts:
    rng = rng or random.Random()
    for attempt in range(1, policy.max_attempts + 1):
        started = time.perf_counter()
        try:
            async with asyncio.timeout(policy.attempt_timeout_seconds):
                await channel.send(notice, delivery_id)
        except TimeoutError:
            failure = DeliveryFailed(f"no answer within {policy.attempt_timeout_seconds:g} s", retryable=True)
        except DeliveryFailed as exc:
            failure = exc
        except Exception as exc:  # noqa: BLE001 - an unforeseen failure is retried, then dead-lettered, never lost
            failure = DeliveryFailed(f"unexpected {type(exc).__name__}", retryable=True)
        else:
            DELIVERY_DURATION.labels(channel.kind).observe(time.perf_counter() - started)
            return Attempts(delivered=True, attempts=attempt)
        DELIVERY_DURATION.labels(channel.kind).observe(time.perf_counter() - started)
        if not failure.retryable or attempt == policy.max_attempts:
            return Attempts(delivered=False, attempts=attempt, error=failure.reason)
        RETRIES.labels(channel.kind).inc()
        await on_retry(attempt, failure.reason)
        await sleep(policy.pause(attempt, rng, failure.retry_after))
    raise AssertionError("unreachable: the loop returns on its last attempt")
