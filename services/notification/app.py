"""The notification service: routing, channels and cool-down wired to the alert stream, plus probes."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial

import httpx
from fastapi import FastAPI

from services.notification.channels.registry import build_channels
from services.notification.cooldown_store import STORE_NAME, CooldownStore
from services.notification.metrics import prepare
from services.notification.notifier import Notifier
from services.notification.routing import load_routing
from services.notification.settings import NotificationSettings
from services.notification.stream import NotificationStream, retry_policy
from services.runtime.broker import build_broker
from services.runtime.clock import utc_now
from services.runtime.erasure_feed import ErasureFeed
from services.runtime.erasures import ErasedContacts
from services.runtime.http_metrics import install_http_metrics
from services.runtime.keyed_store_factory import open_keyed_store
from services.runtime.lifecycle import BrokerConnection
from services.runtime.probes import probes_router
from services.runtime.startup_checks import kafka_refusal
from services.runtime.store_unavailable import StoreUnavailable


def open_cooldown_store(settings: NotificationSettings) -> CooldownStore:
    keyed = open_keyed_store(
        settings.notify_cooldown_store_url, STORE_NAME, timeout_seconds=5, ca_file=settings.redis_ssl_cafile
    )
    return CooldownStore(keyed, timedelta(days=settings.notify_cooldown_retention_days))


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
    erased = ErasedContacts()
    NotificationStream(broker, settings, utc_now, notifier, erased)
    connection = BrokerConnection(broker, diagnose=partial(kafka_refusal, settings))
    feed = ErasureFeed(settings, erased, lambda erasure: store.forget_contact(erasure.contact_key))

    async def connect_once_erasures_are_known() -> None:
        """No alert is read before every erasure is known, so nobody is told about an erased contact."""
        await feed.loaded.wait()
        await connection.open()

    async def readiness() -> str | None:
        try:
            await store.ping()
        except StoreUnavailable as exc:
            return exc.readiness
        if not feed.loaded.is_set():
            return "erasures not read yet (outreach.erasures is read in full before any alert)"
        return await connection.problem()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await feed.open()
        connecting = asyncio.create_task(connect_once_erasures_are_known())
        yield
        connecting.cancel()
        await asyncio.gather(connecting, return_exceptions=True)
        await feed.close()
        await connection.close()
        await client.aclose()
        await store.close()

    app = FastAPI(title="Rapport Guard notification", version="1", lifespan=lifespan)
    app.include_router(probes_router(readiness))
    install_http_metrics(app, "notification")
    return app
