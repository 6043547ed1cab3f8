"""The scoring service: the Kafka stream plus its HTTP face, over one state store and one policy."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from services.runtime.broker import build_broker
from services.runtime.clock import utc_now
from services.runtime.http_metrics import install_http_metrics
from services.runtime.lifecycle import BrokerConnection
from services.runtime.probes import probes_router
from services.runtime.startup_checks import kafka_refusal
from services.scoring.http.api import scoring_router
from services.scoring.policy.file import load_policy
from services.scoring.processing.processor import Processor
from services.scoring.recovery.factory import open_recovery
from services.scoring.settings import ScoringSettings
from services.scoring.state.factory import open_store
from services.scoring.state.store import StoreUnavailable
from services.scoring.stream.consumer import ScoringStream


def create_app(settings: ScoringSettings) -> FastAPI:
    policies = load_policy(settings.policy_file)
    store = open_store(settings)
    broker = build_broker(settings, "scoring")
    processor = Processor(store, policies)
    recovery = open_recovery(settings, processor, utc_now)
    stream = ScoringStream(broker, settings, processor, utc_now, recovery)
    connection = BrokerConnection(broker, diagnose=partial(kafka_refusal, settings))

    async def readiness() -> str | None:
        try:
            await store.ping()
        except StoreUnavailable as exc:
            return f"state store unavailable: {exc}"
        return recovery.problem() or stream.store_problem or await connection.problem()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await connection.open()
        yield
        await connection.close()
        await store.close()

    app = FastAPI(
        title="Rapport Guard scoring",
        version="1",
        summary="Rapport and frequency policy over outreach events; the pre-send check.",
        lifespan=lifespan,
    )
    app.include_router(probes_router(readiness))
    app.include_router(scoring_router(store, policies, settings.identity_key(), utc_now, recovery.exclusive))
    install_http_metrics(app, "scoring")
    return app
