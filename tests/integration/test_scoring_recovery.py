"""The recovery test case on a real broker: the same take-over as on the in-memory log, through aiokafka."""

from collections.abc import AsyncIterator, Sequence

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.runtime.topics import create_topics
from services.scoring.recovery.kafka_log import AiokafkaLog
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker
from tests.unit.scoring.recovery_case import Cluster, RecoveryCase


class BrokerCluster:
    def __init__(self, bootstrap: str, producer: AIOKafkaProducer) -> None:
        self.bootstrap = bootstrap
        self.producer = producer
        self.log = AiokafkaLog({"bootstrap_servers": [bootstrap]})

    async def create(self, topics: Sequence[str]) -> None:
        await create_topics(self.bootstrap, list(topics), 1)

    async def write(self, topic: str, value: bytes, headers: Sequence[tuple[str, bytes]] = ()) -> None:
        await self.producer.send_and_wait(topic, value, key=b"acme:c-1", partition=0, headers=list(headers))

    async def commit(self, group_id: str, tp: TopicPartition, offset: int) -> None:
        committer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=group_id, enable_auto_commit=False)
        await committer.start()
        try:
            committer.assign([tp])
            await committer.commit({tp: offset})
        finally:
            await committer.stop()


class TestRecoveryOnKafka(RecoveryCase):
    @pytest.fixture
    async def cluster(self, kafka: ApacheTestBroker | EmbeddedTestBroker) -> AsyncIterator[Cluster]:
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", enable_idempotence=False)
        await producer.start()
        cluster = BrokerCluster(kafka.bootstrap, producer)
        try:
            yield cluster
        finally:
            await cluster.log.close()
            await producer.stop()
