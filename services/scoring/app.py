"""The scoring service: the Kafka stream plus its HTTP face, over one state store and one policy."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from schemas import Erasure
from services.runtime.api_keys import ApiKeysFileError
from services.runtime.api_keys_file import ApiKeysFile, reload_on_sighup
from services.runtime.broker import build_broker
from services.runtime.clock import utc_now
from services.runtime.erasure_feed import ErasureFeed
from services.runtime.erasures import ErasedContacts
from services.runtime.http_auth import ApiAuth
from services.runtime.http_metrics import install_http_metrics
from services.runtime.lifecycle import BrokerConnection
from services.runtime.probes import probes_router
from services.runtime.rate_limit import TokenBuckets
from services.runtime.startup_checks import kafka_refusal
from services.runtime.store_unavailable import StoreUnavailable
from services.scoring.http.api import mount, scoring_router
from services.scoring.policy.file import load_policy
from services.scoring.processing.erasure import ContactEraser
from services.scoring.processing.processor import Processor
from services.scoring.processing.sweep import Sweeper
from services.scoring.recovery.factory import open_recovery
from services.scoring.settings import ScoringSettings
from services.scoring.state.factory import open_store
from services.scoring.stream.consumer import ScoringStream
from services.scoring.stream.erasures import erasure_publisher
from services.scoring.stream.outputs import MAX_BATCH_BYTES, ProducerSender
from services.scoring.stream.sweep import SweepLoop


def api_keys(settings: ScoringSettings) -> ApiKeysFile:
    """The keys file is required: a scoring API open to anyone on the network could read and erase any tenant."""
    if settings.api_keys_file is None:
        raise ApiKeysFileError(
            "API_KEYS_FILE: not set; the scoring API needs a keys file (see docs/operations.md, API keys)"
        )
    return ApiKeysFile(settings.api_keys_file)


def create_app(settings: ScoringSettings) -> FastAPI:
    policies = load_policy(settings.policy_file)
    keys = api_keys(settings)
    auth = ApiAuth(keys.current, TokenBuckets(settings.check_rate_limit_per_second, settings.check_rate_limit_burst))
    store = open_store(settings)
    broker = build_broker(settings, "scoring", MAX_BATCH_BYTES)
    erased = ErasedContacts()
    processor = Processor(store, policies, erased)
    recovery = open_recovery(settings, processor, utc_now)
    sender = ProducerSender(broker, "scoring")
    stream = ScoringStream(broker, settings, processor, utc_now, recovery, sender=sender)
    connection = BrokerConnection(broker, diagnose=partial(kafka_refusal, settings))
    memory = settings.state_store_url.startswith("memory://")
    eraser = ContactEraser(
        store, erased, utc_now, erasure_publisher(broker, settings), recovery.scores_contact if memory else None
    )

    async def forget(erasure: Erasure) -> None:
        async with recovery.exclusive:
            await eraser.forget(erasure)

    feed = ErasureFeed(settings, erased, forget)
    sweep = SweepLoop(
        sender,
        settings,
        Sweeper(store, policies, scores_here=recovery.scores_contact),
        recovery.exclusive,
        clock=utc_now,
        ready=lambda: recovery.problem() is None and connection.started.is_set(),
    )

    async def connect_once_erasures_are_known() -> None:
        """Nothing is scored or restored before every erasure is known, so no erased contact comes back."""
        await feed.loaded.wait()
        await connection.open()

    async def readiness() -> str | None:
        try:
            await store.ping()
        except StoreUnavailable as exc:
            return exc.readiness
        if not feed.loaded.is_set():
            return "erasures not read yet (outreach.erasures is read in full before any event)"
        return recovery.problem() or stream.store_problem or await connection.problem()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await feed.open()
        connecting = asyncio.create_task(connect_once_erasures_are_known())
        forget_sighup = reload_on_sighup(keys)
        sweep.start()
        yield
        forget_sighup()
        await sweep.stop()
        connecting.cancel()
        await asyncio.gather(connecting, return_exceptions=True)
        await feed.close()
        await connection.close()
        await store.close()

    app = FastAPI(
        title="Rapport Guard scoring",
        version="1",
        summary="Rapport and frequency policy over outreach events; the pre-send check.",
        lifespan=lifespan,
    )
    app.include_router(probes_router(readiness))
    router = scoring_router(
        store, policies, settings.identity_key(), utc_now, recovery.exclusive, auth=auth, eraser=eraser
    )
    mount(app, router)
    install_http_metrics(app, "scoring")
    return app
