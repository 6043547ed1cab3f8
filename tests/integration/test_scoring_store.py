"""The store test case on a real redis-server: the same behaviour as the in-process store."""

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from services.scoring.state.redis_store import RedisStore
from services.scoring.state.store import StateStore, StoreUnavailable
from tests.harness.redis_server import RedisServer, running_redis
from tests.unit.scoring.store_case import EXPIRE_AFTER, StoreCase, contact


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


class TestRedisStore(StoreCase):
    @pytest.fixture
    async def store(self, redis_server: RedisServer) -> AsyncIterator[StateStore]:
        store = RedisStore(redis_server.url, EXPIRE_AFTER)
        await store.client.flushdb()
        yield store
        await store.close()

    async def let_time_pass(self, store: StateStore, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def write_raw(self, store: StateStore, contact_key: str, blob: bytes) -> None:
        assert isinstance(store, RedisStore)
        await store.client.set(RedisStore.key(contact_key), blob)


async def test_every_write_sets_the_inactivity_expiry(redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url, expire_after=180 * 86400)
    try:
        await store.save_many({"acme:c-1": contact()})
        ttl = await store.client.ttl(RedisStore.key("acme:c-1"))
        assert 180 * 86400 - 60 < ttl <= 180 * 86400
    finally:
        await store.close()


async def test_a_stopped_server_is_reported_as_unavailable_and_a_restarted_one_is_used_again() -> None:
    server = RedisServer()
    server.start()
    store = RedisStore(server.url, expire_after=3600, timeout_seconds=1)
    try:
        await store.save_many({"acme:c-1": contact()})
        server.stop()
        with pytest.raises(StoreUnavailable):
            await store.load_many(["acme:c-1"])
        with pytest.raises(StoreUnavailable):
            await store.ping()
        server.start()
        assert (await store.load_many(["acme:c-1"]))["acme:c-1"] == contact(), "nothing lost across the restart"
    finally:
        await store.close()
        server.destroy()
