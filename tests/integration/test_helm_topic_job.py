"""The chart's topic Job, run as the kubelet would run it (its command and environment, from `helm template`)
against a real broker: it creates every topic the services use with the chart's partitions, and running it again
on `helm upgrade` succeeds and changes nothing."""

import asyncio
import os
import subprocess
import sys

from aiokafka.admin import AIOKafkaAdminClient

from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker
from tests.harness.helm import manifests, the_container

TOPIC_VALUES = {
    "events": "helm-job.events",
    "eventsDlq": "helm-job.events.dlq",
    "scores": "helm-job.scores",
    "alerts": "helm-job.alerts",
    "notifications": "helm-job.notifications",
    "alertsDlq": "helm-job.alerts.dlq",
}
PARTITIONS = 3


def run_the_job(bootstrap: str) -> subprocess.CompletedProcess[str]:
    """The Job's container: its command (python from this environment) and its env, pointed at the test broker."""
    values = [f"topics.{key}={name}" for key, name in TOPIC_VALUES.items()]
    values += [f"topics.partitions={PARTITIONS}", "topics.replication=1"]
    (job,) = (doc for doc in manifests(*(arg for v in values for arg in ("--set", v))) if doc["kind"] == "Job")
    container = the_container(job)
    env = {entry["name"]: entry["value"] for entry in container["env"]}
    env["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    command = [sys.executable if part == "python" else part for part in container["command"]]
    return subprocess.run(
        command, env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, timeout=90, check=False
    )


async def partitions_by_topic(bootstrap: str) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(TOPIC_VALUES.values()))
    finally:
        await admin.close()
    return {topic["topic"]: len(topic["partitions"]) for topic in described if topic["error_code"] == 0}


def test_the_topic_job_creates_every_topic_and_can_run_again(kafka: ApacheTestBroker | EmbeddedTestBroker) -> None:
    first = run_the_job(kafka.bootstrap)
    assert first.returncode == 0, first.stderr
    expected = dict.fromkeys(TOPIC_VALUES.values(), PARTITIONS)
    assert asyncio.run(partitions_by_topic(kafka.bootstrap)) == expected

    again = run_the_job(kafka.bootstrap)
    assert again.returncode == 0, again.stderr
    assert asyncio.run(partitions_by_topic(kafka.bootstrap)) == expected
