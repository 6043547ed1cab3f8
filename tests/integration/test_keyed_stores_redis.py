"""The keyed store case on a real redis-server, and what only Redis promises: the documented key names and
expiries, scoring state written by the previous release still read, and a stopped server reported by every
store with its readiness message, then used again once it is back, with nothing lost."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta

import pytest

from services.ingestion import dedupe as ingestion_dedupe
from services.ingestion.dedupe import DedupeStore, dedupe_key
from services.notification import cooldown_store
from services.notification.cooldown_store import CooldownStore
from services.runtime.keyed_store import KeyedStore
from services.runtime.keyed_store_factory import open_keyed_store
from services.runtime.redis_keyed_store import RedisKeyedStore
from services.runtime.store_unavailable import StoreUnavailable
from services.scoring.state import contact_store
from services.scoring.state.codec import encode
from services.scoring.state.contact_store import ContactStore
from services.scoring.state.history import ContactState
from tests.harness.redis_server import RedisServer, redis_available, running_redis
from tests.unit.keyed_store_case import NOTICES, KeyedStoreCase, contact

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server is not installed")

DAY = 86400


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with running_redis(durable=False) as server:
        yield server


class TestRedisKeyedStore(KeyedStoreCase):
    @pytest.fixture
    async def keyed(self, redis_server: RedisServer) -> AsyncIterator[KeyedStore]:
        store = RedisKeyedStore(redis_server.url, "test store", 2)
        await store.client.flushdb()
        yield store
        await store.close()

    async def let_time_pass(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Stores:
    """The three stores as their services open them: one keyed store each, by URL."""

    def __init__(self, url: str) -> None:
        def keyed(name: str) -> KeyedStore:
            return open_keyed_store(url, name, timeout_seconds=1)

        self.contacts = ContactStore(keyed(contact_store.STORE_NAME), 180 * DAY)
        self.cooldowns = CooldownStore(keyed(cooldown_store.STORE_NAME), timedelta(days=30))
        self.dedupe = DedupeStore(keyed(ingestion_dedupe.STORE_NAME), 96 * 3600)

    async def close(self) -> None:
        for store in (self.contacts, self.cooldowns, self.dedupe):
            await store.close()


async def test_every_store_keeps_its_keys_under_the_documented_names_with_their_expiry(
    redis_server: RedisServer,
) -> None:
    raw = RedisKeyedStore(redis_server.url, "test store", 2).client
    await raw.flushdb()
    stores = Stores(redis_server.url)
    due = contact()
    due.team_due_at = 1_790_900_000
    event = dedupe_key("generic", "acme", "e-1")
    try:
        await stores.contacts.save_many({"acme:c-1": due})
        await stores.cooldowns.save("acme:c-1:team", NOTICES)
        await stores.dedupe.mark([event])
        values = {
            "rg:contact:acme:c-1": 180 * DAY,
            "rg:notification:cooldown:acme:c-1:team": 30 * DAY,
            f"rg:ingestion:dedupe:{event}": 96 * 3600,
        }
        names = {key.decode() if isinstance(key, bytes) else key for key in await raw.keys("*")}
        assert names == {*values, "rg:due"}
        for name, lifetime in values.items():
            assert lifetime - 60 < await raw.ttl(name) <= lifetime, name
    finally:
        await stores.close()
        await raw.aclose()


async def test_scoring_state_written_by_the_previous_release_is_read_swept_and_erased(
    redis_server: RedisServer,
) -> None:
    raw = RedisKeyedStore(redis_server.url, "test store", 2).client
    await raw.flushdb()
    await raw.set("rg:contact:acme:before", encode(contact()), ex=180 * DAY)
    await raw.zadd("rg:due", {"acme:before": 1_790_000_000})
    stores = Stores(redis_server.url)
    try:
        assert (await stores.contacts.load_many(["acme:before"]))["acme:before"] == contact()
        assert await stores.contacts.due(1_790_000_000, 10) == ["acme:before"]
        assert await stores.contacts.delete("acme:before") is True
        assert await raw.keys("*") == []
    finally:
        await stores.close()
        await raw.aclose()


async def test_a_stopped_server_is_reported_by_every_store_and_a_restarted_one_is_used_again() -> None:
    server = RedisServer()
    server.start()
    stores = Stores(server.url)
    event = dedupe_key("generic", "acme", "e-1")
    try:
        await stores.contacts.save_many({"acme:c-1": contact()})
        await stores.cooldowns.save("acme:c-1:team", NOTICES)
        await stores.dedupe.mark([event])
        server.stop()

        calls: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("state store", lambda: stores.contacts.load_many(["acme:c-1"])),
            ("state store", lambda: stores.contacts.save_many({"acme:c-2": contact()})),
            ("state store", lambda: stores.contacts.due(1_790_000_000, 10)),
            ("state store", lambda: stores.contacts.delete("acme:c-1")),
            ("state store", stores.contacts.ping),
            ("cool-down store", lambda: stores.cooldowns.load("acme:c-1:team")),
            ("cool-down store", lambda: stores.cooldowns.save("acme:c-1:team", NOTICES)),
            ("cool-down store", lambda: stores.cooldowns.forget_contact("acme:c-1")),
            ("cool-down store", stores.cooldowns.ping),
            ("dedupe store", stores.dedupe.ping),
        ]
        for name, call in calls:
            with pytest.raises(StoreUnavailable) as caught:
                await call()
            assert caught.value.readiness.startswith(f"{name} unavailable: Redis at 127.0.0.1:{server.port} (")
        assert await stores.dedupe.seen([event]) == set(), "the dedupe never refuses a webhook: nothing seen"
        await stores.dedupe.mark([dedupe_key("generic", "acme", "e-2")])

        server.start()
        assert (await stores.contacts.load_many(["acme:c-1", "acme:c-2"])) == {
            "acme:c-1": contact(),
            "acme:c-2": ContactState(),
        }, "nothing lost across the restart, and nothing half-saved while it was down"
        assert await stores.cooldowns.load("acme:c-1:team") == NOTICES
        assert await stores.dedupe.seen([event]) == {event}
    finally:
        await stores.close()
        server.destroy()
