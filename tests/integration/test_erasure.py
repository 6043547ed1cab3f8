"""Erasure across process boundaries: recorded on outreach.erasures, honoured after a restart, on both stores."""

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from schemas import Erasure
from services.devstack.ports import free_port
from services.devstack.processes import ServiceProcess
from services.runtime.partitioning import partition_for
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


def scorer_of(urls: list[str], pair: str, auth: dict[str, str], touches: int, wait_seconds: float = 60) -> str:
    """The replica (of two on the memory store) that holds the pair with all its touches."""
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        for url in urls:
            answer = httpx.get(f"{url}{pair}", headers=auth, timeout=10)
            if answer.status_code == 200 and answer.json()["touches"] == touches:
                return url
        time.sleep(0.2)
    raise AssertionError(f"no replica holds {pair} with {touches} touches")


def gone(url: str, auth: dict[str, str], wait_seconds: float = 30) -> bool:
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if httpx.get(url, headers=auth, timeout=10).status_code == 404:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_an_erase_sent_to_the_replica_that_does_not_score_the_contact_holds_through_a_rebalance(
    kafka: ApacheTestBroker | EmbeddedTestBroker, tmp_path: Path
) -> None:
    """Two scorers on the memory store each hold half the contacts: whichever the erase reaches, it is done, and
    the survivor of a rebalance, rebuilding the partition from outreach.events, does not bring the contact back."""
    name = tenant()
    env = own_topics(name) | {"STATE_STORE_URL": "memory://"}
    partition = partition_for(f"{name}:c".encode(), 3)
    kept = next(f"k{n}" for n in range(100) if partition_for(f"{name}:k{n}".encode(), 3) == partition)
    with running_stack(kafka.bootstrap, tmp_path, names=("ingestion", "scoring"), **env) as stack:
        first = stack.processes["scoring"]
        second = ServiceProcess("scoring", free_port(), first.env, tmp_path / "scoring-2.log")
        second.start()
        try:
            second.wait_ready()
            post(stack, [touch(f"e{n}", name, NOW - timedelta(days=9 - 3 * n), "rep-1", "c") for n in range(3)])
            post(stack, [touch("k", name, NOW - timedelta(days=1), "rep-1", kept)])
            owner_url = scorer_of([first.url, second.url], f"/v1/pairs/{name}/rep-1/c", stack.auth, 3)
            owner, other = (first, second) if owner_url == first.url else (second, first)
            assert scorer_of([owner.url], f"/v1/pairs/{name}/rep-1/{kept}", stack.auth, 1) == owner.url

            erase = f"{other.url}/v1/contacts/{name}/c"
            answer = httpx.delete(erase, headers=stack.auth, timeout=30)
            assert answer.status_code == 202, answer.text
            assert gone(f"{owner.url}/v1/pairs/{name}/rep-1/c", stack.auth), "the owner dropped it on the record"
            assert httpx.delete(erase, headers=stack.auth, timeout=30).status_code == 404, "erased twice: 404"
            owner_erase = f"{owner.url}/v1/contacts/{name}/c"
            assert httpx.delete(owner_erase, headers=stack.auth, timeout=30).status_code == 404

            time.sleep(1)  # let the last batch's offsets be committed
            owner.stop()  # the other replica takes the partition over and rebuilds it from outreach.events
            survivor = f"{other.url}/v1/pairs/{name}/rep-1"
            assert touches_kept(f"{survivor}/{kept}", stack.auth, 1) == 1, "the partition was rebuilt"
            assert httpx.get(f"{survivor}/c", headers=stack.auth, timeout=10).status_code == 404, (
                "the rebalance did not bring it back"
            )
        finally:
            second.stop()
