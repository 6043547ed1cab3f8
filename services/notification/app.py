"""The notification service: the alert stream plus probes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.notification.settings import NotificationSettings
from services.notification.stream import NotificationStream
from services.runtime.broker import build_broker
from services.runtime.clock import utc_now
from services.runtime.http_metrics import install_http_metrics
from services.runtime.lifecycle import BrokerConnection
from services.runtime.probes import probes_router


def create_app(settings: NotificationSettings) -> FastAPI:
    broker = build_broker(settings, "notification")
    NotificationStream(broker, settings, utc_now)
    connection = BrokerConnection(broker)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await connection.open()
        yield
        await connection.close()

    app = FastAPI(title="Rapport Guard notification", version="1", lifespan=lifespan)
    app.include_router(probes_router(connection.problem))
    install_http_metrics(app, "notification")
    return app
