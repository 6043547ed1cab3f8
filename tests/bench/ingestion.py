"""Ingestion throughput against a bare endpoint on the same stack, same broker, same run: printed as a ratio.

Both servers are FastAPI + uvicorn processes publishing through FastStream to the same Apache Kafka broker (from
tests/harness/brokers.py). The bare endpoint only publishes the raw body and waits for the acknowledgement; the
ingestion service verifies the Standard Webhooks signature, validates, pseudonymises, deduplicates, rate-limits
and publishes one message per event. Same signed batch bodies, same client, rounds alternated. Target ≥ 50 %.

    python -m tests.bench.ingestion            (make bench)
"""

import argparse
import asyncio
import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.devstack.children import spawn
from services.devstack.ports import free_port
from services.devstack.processes import ServiceProcess
from services.ingestion.main import tune_garbage_collector
from services.runtime.broker import build_broker
from services.runtime.lifecycle import BrokerConnection
from services.runtime.probes import probes_router
from services.runtime.settings import ServiceSettings
from services.runtime.standard_webhooks import signed_headers
from services.runtime.topics import create_topics, topic_names
from tests.harness.brokers import new_broker

RAW_TOPIC = "bench.raw"
BATCH_SIZES = {100: 150, 10: 400}
"""Events per request → requests per round: HubSpot's maximum batch, and a small one where HTTP dominates."""
ROUNDS = 2
CONCURRENCY = 8
TARGET = 0.5


def bare_app(settings: ServiceSettings) -> FastAPI:
    """The baseline: the same server stack doing nothing but publishing the raw body and awaiting the ack."""
    broker = build_broker(settings, "bench-bare")
    connection = BrokerConnection(broker)
    publisher = broker.publisher(RAW_TOPIC)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await connection.open()
        yield
        await connection.close()

    app = FastAPI(lifespan=lifespan)
    app.include_router(probes_router(connection.problem))

    @app.post("/v1/webhooks/raw", status_code=202)
    async def raw(request: Request) -> JSONResponse:
        await publisher.publish(await request.body())
        return JSONResponse({"accepted": 1}, status_code=202)

    return app


def serve_bare(port: int) -> None:
    """Tuned like the ingestion service (same garbage-collector settings), so the ratio compares the work only."""
    app = bare_app(ServiceSettings())
    tune_garbage_collector()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def batches(key: bytes, round_tag: str, count: int, size: int) -> list[tuple[bytes, dict[str, str]]]:
    """Signed bodies of `size` touches; half the contacts known only by address, so pseudonyms are made."""
    start = datetime.now(UTC) - timedelta(days=10)
    prepared = []
    for request in range(count):
        events = [
            {
                "event_id": f"bench-{round_tag}-{request}-{n}",
                "tenant": f"bench-{n % 4}",
                "occurred_at": (start + timedelta(minutes=n)).isoformat(),
                "sender": {"id": f"rep-{n % 10}"},
                "contact": {"email": f"person{n}@example.org"} if n % 2 else {"id": f"contact-{n}"},
                "channel": "email",
                "direction": "outbound",
                "kind": "message",
            }
            for n in range(size)
        ]
        body = json.dumps({"events": events}).encode()
        prepared.append((body, signed_headers(key, f"msg-{round_tag}-{request}", body, int(time.time()))))
    return prepared


async def drive(url: str, requests: list[tuple[bytes, dict[str, str]]], size: int) -> float:
    """Events per second through `url`, CONCURRENCY requests in flight; every answer must be a 202."""
    queue = list(reversed(requests))
    async with httpx.AsyncClient(timeout=30) as client:

        async def worker() -> None:
            while queue:
                body, headers = queue.pop()
                response = await client.post(url, content=body, headers=headers)
                if response.status_code != 202:
                    raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return len(requests) * size / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    broker = new_broker()
    broker.start()
    logs = Path(tempfile.mkdtemp(prefix="rg-bench-"))
    key = secrets.token_bytes(32)
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "GENERIC_WEBHOOK_SECRET": "whsec_" + base64.b64encode(key).decode(),
        "IDENTITY_HMAC_KEY": secrets.token_hex(32),
        "TENANT_RATE_LIMIT_PER_SECOND": "1000000",
        "TENANT_RATE_LIMIT_BURST": "1000000",
        "LOG_LEVEL": "WARNING",
    }
    ingestion = ServiceProcess("ingestion", free_port(), env, logs / "ingestion.log")
    bare_port = free_port()
    bare: subprocess.Popen[bytes] | None = None
    try:
        asyncio.run(create_topics(broker.bootstrap, [*topic_names(ServiceSettings()), RAW_TOPIC], partitions=3))
        ingestion.start()
        bare_log = open(logs / "bare.log", "ab")  # noqa: SIM115 - the child writes to it for its whole life
        bare = spawn(
            [sys.executable, "-m", "tests.bench.ingestion", "--serve-bare", str(bare_port)],
            env={**os.environ, **env},
            stdout=bare_log,
            stderr=subprocess.STDOUT,
        )
        ingestion.wait_ready()
        ServiceProcess("bare", bare_port, {}, logs / "bare.log", bare).wait_ready()
        targets = {
            "bare": f"http://127.0.0.1:{bare_port}/v1/webhooks/raw",
            "ingestion": f"{ingestion.url}/v1/webhooks/generic",
        }
        for name, url in targets.items():  # warm up connections and caches
            asyncio.run(drive(url, batches(key, f"warm-{name}", 20, 100), 100))
        for size, count in BATCH_SIZES.items():
            rates: dict[str, list[float]] = {name: [] for name in targets}
            for round_number in range(ROUNDS):
                for name, url in targets.items():
                    requests = batches(key, f"{name}-{size}-{round_number}", count, size)
                    rates[name].append(asyncio.run(drive(url, requests, size)))
            report(size, rates)
    except BaseException:
        print(f"bench failed; service logs kept in {logs}", file=sys.stderr)
        raise
    else:
        shutil.rmtree(logs, ignore_errors=True)
    finally:
        ingestion.stop()
        if bare is not None:
            bare.terminate()
            bare.wait(15)
        broker.destroy()


def report(size: int, rates: dict[str, list[float]]) -> None:
    mean = {name: sum(values) / len(values) for name, values in rates.items()}
    ratio = mean["ingestion"] / mean["bare"]
    print(f"ingestion bench: {size} events per request, {CONCURRENCY} in flight, {ROUNDS} alternated rounds")
    for name, label in (("bare", "bare endpoint (publish raw body)"), ("ingestion", "ingestion /v1/webhooks/generic")):
        rounds = [round(rate) for rate in rates[name]]
        print(f"  {label:36} {mean[name]:10.0f} events/s  rounds {rounds}")
    verdict = "met" if ratio >= TARGET else "NOT met"
    print(f"  ratio ingestion / bare: {ratio:.0%} (target >= {TARGET:.0%}: {verdict})")


if __name__ == "__main__":
    main()
