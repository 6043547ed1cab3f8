"""Bounded retries: backoff doubles with jitter up to a cap, timeouts count as failures, 4xx stops at once."""

import asyncio
import random

from services.notification.channels.base import DeliveryFailed
from services.notification.retries import RetryPolicy, deliver_with_retries
from services.notification.wording import Notice
from tests.harness.alerts import make_alert
from tests.unit.notification.fakes import ScriptedChannel, retryable

POLICY = RetryPolicy(max_attempts=4, initial_seconds=1.0, max_seconds=5.0, attempt_timeout_seconds=0.5)


class Pauses:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


async def no_report(attempt: int, error: str) -> None:
    return None


def test_backoff_doubles_up_to_the_cap_and_jitters_within_half_of_it() -> None:
    rng = random.Random(7)
    for attempt, cap in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)]:
        pauses = [POLICY.pause(attempt, rng) for _ in range(200)]
        assert all(cap / 2 <= pause <= cap for pause in pauses)
        assert max(pauses) - min(pauses) > cap / 4


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    rng = random.Random(1)
    assert POLICY.pause(1, rng, retry_after=3) == 3
    assert POLICY.pause(1, rng, retry_after=60) == 5.0


async def test_a_receiver_that_recovers_gets_the_alert_with_the_same_id_every_time() -> None:
    channel = ScriptedChannel("crm", failures=retryable(2))
    reported: list[tuple[int, str]] = []

    async def report(attempt: int, error: str) -> None:
        reported.append((attempt, error))

    pauses = Pauses()
    result = await deliver_with_retries(channel, Notice(make_alert()), "msg_1", POLICY, report, sleep=pauses)
    assert (result.delivered, result.attempts) == (True, 3)
    assert channel.attempts == ["msg_1"] * 3
    assert reported == [(1, "receiver answered HTTP 500"), (2, "receiver answered HTTP 500")]
    assert len(pauses.seconds) == 2


async def test_a_receiver_that_never_recovers_is_given_up_after_the_last_attempt() -> None:
    channel = ScriptedChannel("crm", failures=retryable(10))
    pauses = Pauses()
    result = await deliver_with_retries(channel, Notice(make_alert()), "m", POLICY, no_report, sleep=pauses)
    assert (result.delivered, result.attempts, result.error) == (False, 4, "receiver answered HTTP 500")
    assert len(pauses.seconds) == 3


async def test_a_refusal_that_retrying_cannot_fix_is_not_retried() -> None:
    channel = ScriptedChannel("crm", failures=[DeliveryFailed("receiver answered HTTP 410", retryable=False)])
    result = await deliver_with_retries(channel, Notice(make_alert()), "m", POLICY, no_report, sleep=Pauses())
    assert (result.delivered, result.attempts, result.error) == (False, 1, "receiver answered HTTP 410")


class Hanging:
    name = "slow"
    kind = "slack"

    def __init__(self, hang_times: int) -> None:
        self.hang_times = hang_times
        self.calls = 0

    async def send(self, notice: Notice, delivery_id: str) -> None:
        self.calls += 1
        if self.calls <= self.hang_times:
            await asyncio.Event().wait()


async def test_a_receiver_that_hangs_is_cut_off_by_the_attempt_timeout_and_retried() -> None:
    quick = RetryPolicy(max_attempts=3, initial_seconds=0.01, max_seconds=0.01, attempt_timeout_seconds=0.05)
    channel = Hanging(hang_times=1)
    errors: list[str] = []

    async def report(attempt: int, error: str) -> None:
        errors.append(error)

    result = await deliver_with_retries(channel, Notice(make_alert()), "m", quick, report)
    assert (result.delivered, result.attempts) == (True, 2)
    assert errors == ["no answer within 0.05 s"]


async def test_an_unexpected_exception_is_retried_then_reported_by_type() -> None:
    class Broken:
        name = "broken"
        kind = "email"

        async def send(self, notice: Notice, delivery_id: str) -> None:
            raise KeyError("x")

    result = await deliver_with_retries(Broken(), Notice(make_alert()), "m", POLICY, no_report, sleep=Pauses())
    assert (result.delivered, result.attempts, result.error) == (False, 4, "unexpected KeyError")


async def test_a_single_attempt_policy_never_pauses() -> None:
    policy = RetryPolicy(max_attempts=1, initial_seconds=1, max_seconds=1, attempt_timeout_seconds=1)
    pauses = Pauses()
    result = await deliver_with_retries(
        ScriptedChannel("c", failures=retryable(1)), Notice(make_alert()), "m", policy, no_report, sleep=pauses
    )
    assert (result.delivered, result.attempts, pauses.seconds) == (False, 1, [])
