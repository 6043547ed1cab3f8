"""The notification service: routing, channels and cool-down wired to the alert stream, plus probes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial

import httpx
from fastapi import FastAPI

from services.notification.channels.registry import build_channels
from services.notification.cooldown_redis import RedisCooldownStore
from services.notification.cooldown_store import CooldownStore, MemoryCooldownStore
from services.notification.metrics import prepare
from services.notification.notifier import Notifier
from services.notification.routing import load_routing
from services.notification.settings import NotificationSettings
from services.notification.stream import NotificationStream, retry_policy
from services.runtime.broker import build_broker
from services.runtime.clock import utc_now
from services.runtime.http_metrics import install_http_metrics
from services.runtime.lifecycle import BrokerConnection
from services.runtime.probes import probes_router
from services.runtime.startup_checks import kafka_refusal


def open_cooldown_store(settings: NotificationSettings) -> CooldownStore:
    retention = timedelta(days=settings.notify_cooldown_retention_days)
    if settings.notify_cooldown_store_url.startswith("memory://"):
        return MemoryCooldownStore(retention)
    return RedisCooldownStore(settings.notify_cooldown_store_url, retention, settings.redis_ssl_cafile)


def create_app(settings: NotificationSettings) -> FastAPI:
    """Raises RoutingFileError when the routing file is unreadable or wrong."""
    routing = load_routing(settings.notify_routing_file)
    client = httpx.AsyncClient(timeout=settings.notify_attempt_timeout_seconds, follow_redirects=False)
    channels = build_channels(routing, client, utc_now, settings.notify_attempt_timeout_seconds)
    prepare({channel.kind for channel in channels.values()})
    store = open_cooldown_store(settings)
    notifier = Notifier(
        routing,
        channels,
        store=store,
        cooldown=timedelta(hours=settings.notify_cooldown_hours),
        retry=retry_policy(settings),
        clock=utc_now,
    )
    broker = build_broker(settings, "notification")
    NotificationStream(broker, settings, utc_now, notifier)
    connection = BrokerConnection(broker, diagnose=partial(kafka_refusal, settings))

    async def readiness() -> str | None:
        return await store.problem() or await connection.problem()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await connection.open()
        yield
        await connection.close()
        await client.aclose()
        await store.close()

    app = FastAPI(title="Rapport Guard notification", version="1", lifespan=lifespan)
    app.include_router(probes_router(readiness))
    install_http_metrics(app, "notification")
    return app
