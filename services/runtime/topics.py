"""Creates the project's topics (for `make run`, the test harness and the compose topic-init step)."""

import argparse
import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from services.runtime.kafka_security import kafka_security_options
from services.runtime.settings import ServiceSettings
from services.runtime.startup_checks import refuse_to_start_without_access


def topic_names(settings: ServiceSettings) -> list[str]:
    return [
        settings.topic_events,
        settings.topic_events_dlq,
        settings.topic_scores,
        settings.topic_alerts,
        settings.topic_notifications,
        settings.topic_alerts_dlq,
    ]


def events_retention(settings: ServiceSettings, days: float) -> dict[str, dict[str, str]]:
    """`outreach.events` is the scorer's memory: a restarted memory store is rebuilt from it, so it must reach back
    over the longest history the policy weighs (relationship age for rapport, up to a year by default)."""
    return {settings.topic_events: {"retention.ms": str(int(days * 86_400_000))}}


async def create_topics(
    bootstrap: str,
    names: list[str],
    partitions: int,
    replication: int = 1,
    configs: Mapping[str, Mapping[str, str]] | None = None,
    *,
    security: Mapping[str, Any] | None = None,
) -> None:
    """Create the topics that do not exist yet; existing ones are left as they are. `security` holds the
    aiokafka options of `kafka_security_options` for a secured cluster."""
    configs = configs or {}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap.split(","), request_timeout_ms=15_000, **(security or {}))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in names if name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(
                            name,
                            num_partitions=partitions,
                            replication_factor=replication,
                            topic_configs=dict(configs.get(name, {})),
                        )
                        for name in missing
                    ]
                )
    finally:
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Create Rapport Guard's Kafka topics.")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--replication", type=int, default=1)
    parser.add_argument("--events-retention-days", type=float, default=400)
    args = parser.parse_args()
    settings = ServiceSettings.load()
    refuse_to_start_without_access(settings, {})
    asyncio.run(
        create_topics(
            settings.kafka_bootstrap_servers,
            topic_names(settings),
            args.partitions,
            args.replication,
            events_retention(settings, args.events_retention_days),
            security=kafka_security_options(settings),
        )
    )


if __name__ == "__main__":
    main()
