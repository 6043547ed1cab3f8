"""The scoring service: the Kafka stream plus its HTTP face, over one state store and one policy."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from services.runtime.broker import build_broker, kafka_client_options
from services.runtime.clock import utc_now
from services.runtime.http_metrics import install_http_metrics
from services.runtime.lifecycle import BrokerConnection
from services.runtime.probes import probes_router
from services.runtime.startup_checks import kafka_refusal
from services.scoring.http.api import scoring_router
from services.scoring.policy.file import load_policy
from services.scoring.processing.processor import Processor
from services.scoring.recovery.replay_guard import ReplayGuard
from services.scoring.recovery.restore import MemoryStateRestorer
from services.scoring.recovery.takeover import PartitionTakeover
from services.scoring.settings import ScoringSettings
from services.scoring.state.factory import open_store
from services.scoring.state.store import StoreUnavailable
from services.scoring.stream.consumer import ScoringStream


def create_app(settings: ScoringSettings) -> FastAPI:
    policies = load_policy(settings.policy_file)
    store = open_store(settings)
    broker = build_broker(settings, "scoring")
    state_lock = asyncio.Lock()
    processor = Processor(store, policies)
    guard = ReplayGuard(
        {settings.topic_scores: "score_id", settings.topic_alerts: "ce_id"}, settings.scoring_clock_skew_seconds
    )
    memory = settings.state_store_url.startswith("memory://")
    takeover = PartitionTakeover(
        kafka_client_options(settings),
        settings.scoring_group_id,
        state_lock,
        guard,
        MemoryStateRestorer(processor, utc_now) if memory else None,
    )
    stream = ScoringStream(
        broker,
        settings,
        processor,
        utc_now,
        state_lock=state_lock,
        takeover=takeover,
    )
    connection = BrokerConnection(broker, diagnose=partial(kafka_refusal, settings))

    async def readiness() -> str | None:
        try:
            await store.ping()
        except StoreUnavailable as exc:
            return f"state store unavailable: {exc}"
        if not takeover.ready.is_set():
            return "partitions not taken over yet (waiting for them, rebuilding the memory store, or reading outputs)"
        return stream.store_problem or await connection.problem()

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
    app.include_router(scoring_router(store, policies, settings.identity_key(), utc_now, state_lock))
    install_http_metrics(app, "scoring")
    return app
