"""Every Redis store over TLS as an ACL user of a real redis-server, and the start-up refusals that name the
setting to fix without printing the password."""

import re
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from schemas import AlertLevel
from services.devstack.ports import free_port
from services.devstack.processes import ServiceProcess
from services.ingestion.dedupe import STORE_NAME as DEDUPE_STORE
from services.ingestion.dedupe import DedupeStore
from services.notification.cooldown import PairNotices
from services.notification.cooldown_store import STORE_NAME as COOLDOWN_STORE
from services.notification.cooldown_store import CooldownStore
from services.runtime.keyed_store_factory import open_keyed_store
from services.runtime.startup_checks import AccessRefused, check_redis_access
from services.scoring.state.redis_store import RedisStore
from tests.harness.alerts import T0
from tests.harness.certificates import Pki, make_pki
from tests.harness.redis_server import redis_available
from tests.harness.secure_redis import SecureRedis
from tests.unit.keyed_store_case import contact

PASSWORD = secrets.token_urlsafe(12)
NOTICES = PairNotices(window_started_at=T0, peak=AlertLevel.NUISANCE, open=True, delivered=("a-1",), held=())

pytestmark = pytest.mark.skipif(not redis_available(), reason="redis-server is not installed")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def secure_redis(pki: Pki) -> Iterator[SecureRedis]:
    server = SecureRedis(pki, PASSWORD)
    server.start()
    try:
        yield server
    finally:
        server.destroy()


async def test_the_scoring_state_store_works_over_tls_as_the_acl_user(secure_redis: SecureRedis, pki: Pki) -> None:
    store = RedisStore(secure_redis.user_url(PASSWORD), expire_after=3600, ca_file=pki.ca)
    try:
        await store.save_many({"acme:c-1": contact()})
        assert (await store.load_many(["acme:c-1"]))["acme:c-1"] == contact()
        assert await store.client.acl_whoami() == "svc"
    finally:
        await store.close()


async def test_the_ingestion_dedupe_store_works_over_tls_as_the_acl_user(secure_redis: SecureRedis, pki: Pki) -> None:
    keyed = open_keyed_store(secure_redis.user_url(PASSWORD), DEDUPE_STORE, timeout_seconds=1, ca_file=pki.ca)
    dedupe = DedupeStore(keyed, ttl_seconds=60)
    try:
        await dedupe.mark(["dedupe:seen"])
        assert await dedupe.seen(["dedupe:seen", "dedupe:new"]) == {"dedupe:seen"}
        await dedupe.ping()
    finally:
        await dedupe.close()


async def test_the_notification_cooldown_store_works_over_tls_as_the_acl_user(
    secure_redis: SecureRedis, pki: Pki
) -> None:
    keyed = open_keyed_store(secure_redis.user_url(PASSWORD), COOLDOWN_STORE, timeout_seconds=5, ca_file=pki.ca)
    store = CooldownStore(keyed, timedelta(days=1))
    try:
        await store.save("acme:rep-1:c-1", NOTICES)
        assert await store.load("acme:rep-1:c-1") == NOTICES
    finally:
        await store.close()


def test_a_wrong_redis_password_stops_the_service_naming_the_setting(
    secure_redis: SecureRedis, pki: Pki, tmp_path: Path
) -> None:
    wrong = secrets.token_urlsafe(12)
    process = ServiceProcess(
        "scoring",
        free_port(),
        {
            "STATE_STORE_URL": secure_redis.user_url(wrong),
            "REDIS_SSL_CAFILE": str(pki.ca),
            "IDENTITY_HMAC_KEY": "k" * 32,
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        },
        tmp_path / "scoring.log",
    )
    process.start()
    assert process.process is not None
    assert process.process.wait(60) == 2, process.log_tail()
    output = process.log_path.read_text()
    assert f"STATE_STORE_URL: Redis at 127.0.0.1:{secure_redis.port} refused user 'svc'" in output
    assert wrong not in output


async def test_an_untrusted_redis_certificate_is_refused_naming_the_setting(
    secure_redis: SecureRedis, pki: Pki
) -> None:
    expected = f"REDIS_SSL_CAFILE: the certificate of Redis at 127.0.0.1:{secure_redis.port} is not trusted by"
    with pytest.raises(AccessRefused, match=re.escape(expected)):
        await check_redis_access("DEDUPE_STORE_URL", secure_redis.user_url(PASSWORD), pki.other_ca)
