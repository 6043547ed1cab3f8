"""One test case for both cool-down stores (memory and a real redis-server); what a restart keeps differs."""

import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from schemas import AlertLevel
from services.devstack.embedded_broker import free_port, wait_for_port
from services.notification.cooldown import PairNotices
from services.notification.cooldown_redis import KEY_PREFIX, RedisCooldownStore
from services.notification.cooldown_store import CooldownStore, CooldownStoreUnavailable, MemoryCooldownStore
from tests.harness.alerts import T0

RETENTION = timedelta(days=30)
NOTICES = PairNotices(window_started_at=T0, peak=AlertLevel.NUISANCE, open=True, delivered=("a-1",), held=("a-2",))


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (make system-deps installs it)")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 15, server)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[CooldownStore]:
    opened: CooldownStore = (
        MemoryCooldownStore(RETENTION)
        if request.param == "memory"
        else RedisCooldownStore(request.getfixturevalue("redis_url"), RETENTION)
    )
    yield opened
    await opened.close()


async def test_what_was_told_about_a_pair_is_read_back(store: CooldownStore) -> None:
    assert await store.load("acme:c-1:sender:rep-1") is None
    await store.save("acme:c-1:sender:rep-1", NOTICES, T0)
    assert await store.load("acme:c-1:sender:rep-1") == NOTICES
    assert await store.load("acme:c-1:team") is None
    assert await store.problem() is None


async def test_redis_keeps_the_history_across_a_restart_and_lets_it_expire(redis_url: str) -> None:
    before = RedisCooldownStore(redis_url, RETENTION)
    await before.save("acme:c-2:team", NOTICES, T0)
    ttl = await before.redis.ttl(KEY_PREFIX + "acme:c-2:team")
    await before.close()
    after = RedisCooldownStore(redis_url, RETENTION)
    try:
        assert await after.load("acme:c-2:team") == NOTICES
        assert 0 < ttl <= RETENTION.total_seconds()
    finally:
        await after.close()


async def test_an_unreachable_redis_is_reported_not_mistaken_for_no_history() -> None:
    store = RedisCooldownStore(f"redis://127.0.0.1:{free_port()}/0", RETENTION)
    try:
        with pytest.raises(CooldownStoreUnavailable):
            await store.load("acme:c-1:team")
        assert (await store.problem() or "").startswith("cool-down store unavailable")
    finally:
        await store.close()


async def test_an_erased_contact_leaves_no_entry_and_a_lookalike_keeps_its_own(store: CooldownStore) -> None:
    for key in ("acme:c*1:team", "acme:c*1:sender:rep-1", "acme:c-1:team", "acme:c*10:team"):
        await store.save(key, NOTICES, T0)
    await store.forget_contact("acme:c*1")
    kept = [await store.load(key) is not None for key in ("acme:c*1:team", "acme:c*1:sender:rep-1")]
    assert kept == [False, False]
    assert await store.load("acme:c-1:team") == NOTICES, "a glob character in an id matches only itself"
    assert await store.load("acme:c*10:team") == NOTICES
