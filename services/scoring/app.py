"""The scoring service: the Kafka stream plus its HTTP face."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.runtime.broker import build_broker
from services.runtime.clock import utc_now
from services.runtime.http_metrics import install_http_metrics
from services.runtime.lifecycle import BrokerConnection
from services.runtime.probes import probes_router
from services.scoring.policy_file import load_policy
from services.scoring.processor import Processor
from services.scoring.settings import ScoringSettings
from services.scoring.store_memory import MemoryStore
from services.scoring.stream import ScoringStream


def create_app(settings: ScoringSettings) -> FastAPI:
    policy = load_policy(settings.policy_file)
    store = MemoryStore()
    broker = build_broker(settings, "scoring")
    stream = ScoringStream(broker, settings, Processor(store, policy), utc_now)
    connection = BrokerConnection(broker)

    async def readiness() -> str | None:
        return stream.store_problem or await connection.problem()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await connection.open()
        yield
        await connection.close()
        await store.close()

    app = FastAPI(title="Rapport Guard scoring", version="1", lifespan=lifespan)
    app.include_router(probes_router(readiness))
    install_http_metrics(app, "scoring")
    return app
