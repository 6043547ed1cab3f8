"""Deduplication in a real redis-server, shared by two ingestion replicas and outliving a restart."""

import json
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from services.devstack.ports import free_port, wait_for_port
from services.ingestion.dedupe import DEDUPE, dedupe_key
from services.runtime.standard_webhooks import decode_secret
from tests.fixtures.crm import CrmSender, load
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker
from tests.harness.stack import running_stack

REDIS_SERVER = shutil.which("redis-server") or "redis-server"
pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 15, process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def event(tag: str) -> bytes:
    return json.dumps(load("generic/touches.json")["events"][1] | {"event_id": f"redis-{tag}"}).encode()


def test_a_retry_to_another_replica_or_after_a_restart_is_a_duplicate(
    kafka: ApacheTestBroker | EmbeddedTestBroker, tmp_path: Path, redis_url: str
) -> None:
    tag = secrets.token_hex(4)
    for replica in ("a", "b", "c"):
        (tmp_path / replica).mkdir()
    with running_stack(kafka.bootstrap, tmp_path / "a", names=("ingestion",), DEDUPE_STORE_URL=redis_url) as first:
        crm = CrmSender(first.url("ingestion"), decode_secret(first.secret))
        assert crm.generic(event(tag)).json()["accepted"] == 1
        with running_stack(kafka.bootstrap, tmp_path / "b", names=("ingestion",), DEDUPE_STORE_URL=redis_url) as second:
            other_replica = CrmSender(second.url("ingestion"), decode_secret(second.secret))
            assert other_replica.generic(event(tag)).json()["duplicate"] == 1
    with running_stack(kafka.bootstrap, tmp_path / "c", names=("ingestion",), DEDUPE_STORE_URL=redis_url) as again:
        restarted = CrmSender(again.url("ingestion"), decode_secret(again.secret))
        assert restarted.generic(event(tag)).json()["duplicate"] == 1

    ttl = redis.Redis.from_url(redis_url).ttl(DEDUPE.prefix + dedupe_key("generic", "acme", f"redis-{tag}"))
    assert 95 * 3600 < ttl <= 96 * 3600


def test_redis_down_does_not_refuse_webhooks(kafka: ApacheTestBroker | EmbeddedTestBroker, tmp_path: Path) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    with running_stack(kafka.bootstrap, tmp_path, names=("ingestion",), DEDUPE_STORE_URL=nowhere) as stack:
        crm = CrmSender(stack.url("ingestion"), decode_secret(stack.secret))
        response = crm.generic(event(secrets.token_hex(4)))
        assert (response.status_code, response.json()["accepted"]) == (202, 1)
