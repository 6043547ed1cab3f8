"""Erasure across process boundaries: recorded on outreach.erasures, honoured after a restart, on both stores."""

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from schemas import Erasure
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker
from tests.harness.redis_server import RedisServer, running_redis
from tests.harness.stack import own_topics, read_topic, running_stack
from tests.integration.test_scoring_restart import touches_kept
from tests.integration.test_scoring_scenarios import NOW, post, tenant, touch


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.mark.slow
@pytest.mark.parametrize("store", ["memory", "redis"])
def test_an_erased_contact_stays_erased_through_late_events_and_a_restart(
    store: str, kafka: ApacheTestBroker | EmbeddedTestBroker, redis_server: RedisServer, tmp_path: Path
) -> None:
    name = tenant()
    topics = own_topics(name)
    state_store = "memory://" if store == "memory" else f"{redis_server.url}/{1 + len(name) % 14}"
    env = topics | {"STATE_STORE_URL": state_store}
    with running_stack(kafka.bootstrap, tmp_path, names=("ingestion", "scoring"), **env) as stack:
        scoring = stack.processes["scoring"]
        pair = f"{scoring.url}/v1/pairs/{name}/rep-1"
        post(stack, [touch(f"e{n}", name, NOW - timedelta(days=9 - 3 * n), "rep-1", "c") for n in range(3)])
        post(stack, [touch("other", name, NOW - timedelta(days=1), "rep-1", "kept")])
        assert touches_kept(f"{pair}/c", stack.auth, 3) == 3
        assert touches_kept(f"{pair}/kept", stack.auth, 1) == 1

        assert httpx.delete(f"{scoring.url}/v1/contacts/{name}/c", headers=stack.auth, timeout=30).status_code == 204
        assert httpx.get(f"{pair}/c", headers=stack.auth, timeout=10).status_code == 404
        assert httpx.delete(f"{scoring.url}/v1/contacts/{name}/c", headers=stack.auth, timeout=30).status_code == 404
        records = asyncio.run(read_topic(kafka.bootstrap, topics["TOPIC_ERASURES"], lambda found: found, 15))
        [(key, value, _)] = records
        assert key == f"{name}:c".encode()
        assert (Erasure.model_validate_json(value).contact_id, Erasure.model_validate_json(value).tenant) == ("c", name)

        post(stack, [touch("late", name, NOW - timedelta(days=2), "rep-1", "c")])
        post(stack, [touch("other-2", name, NOW - timedelta(hours=3), "rep-1", "kept")])
        assert touches_kept(f"{pair}/kept", stack.auth, 2) == 2, "events after the late one were scored"
        assert httpx.get(f"{pair}/c", headers=stack.auth, timeout=10).status_code == 404, (
            "the late event did not bring it back"
        )

        time.sleep(1)  # let the last batch's offsets be committed
        scoring.kill()
        scoring.start()
        scoring.wait_ready()
        assert touches_kept(f"{pair}/kept", stack.auth, 2) == 2, "the restart rebuilt or kept the other contact"
        assert httpx.get(f"{pair}/c", headers=stack.auth, timeout=10).status_code == 404, (
            "the restart did not bring it back"
        )
        assert httpx.delete(f"{scoring.url}/v1/contacts/{name}/c", headers=stack.auth, timeout=30).status_code == 404
