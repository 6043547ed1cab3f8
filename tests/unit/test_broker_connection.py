"""A Kafka that refuses the credentials after start-up is named on `/readyz`, not retried in silence."""

import asyncio
from typing import cast

from faststream.kafka import KafkaBroker

from services.runtime.lifecycle import BrokerConnection

REFUSAL = "KAFKA_SASL_PASSWORD: authentication failed for user 'svc' (SCRAM-SHA-512) on kafka:9093"


class RefusingBroker:
    """Stands in for FastStream's broker: every start fails the way an unbootstrappable aiokafka client does."""

    def __init__(self) -> None:
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        raise ConnectionError("Unable to bootstrap from [('kafka', 9093, <AddressFamily.AF_UNSPEC: 0>)]")

    async def stop(self) -> None:
        return None


async def problem_after_two_attempts(diagnosis: str | None) -> str | None:
    broker = RefusingBroker()
    diagnosed_twice = asyncio.Event()

    async def diagnose() -> str | None:
        if broker.starts >= 2:
            diagnosed_twice.set()
        return diagnosis

    connection = BrokerConnection(cast(KafkaBroker, broker), retry_seconds=0.01, diagnose=diagnose)
    await connection.open()
    await asyncio.wait_for(diagnosed_twice.wait(), 5)
    problem = await connection.problem()
    await connection.close()
    return problem


async def test_refused_credentials_are_named_on_readiness() -> None:
    assert await problem_after_two_attempts(REFUSAL) == REFUSAL


async def test_a_kafka_that_is_merely_away_stays_a_plain_not_connected() -> None:
    assert await problem_after_two_attempts(None) == "not connected to Kafka yet"
