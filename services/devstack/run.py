"""`make run`: broker (embedded unless KAFKA_BOOTSTRAP_SERVERS is set), topics, three services, the demo.

Prints every alert as it arrives and keeps serving until Ctrl-C, then stops everything it started.
"""

import asyncio
import base64
import json
import os
import secrets
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer

from schemas import Alert
from services.devstack.embedded_broker import EmbeddedBroker
from services.devstack.processes import SERVICES, ServiceProcess
from services.devstack.story import mentorship, pursuit
from services.devstack.topic_reader import open_reader
from services.notification.wording import summary
from services.runtime.settings import ServiceSettings
from services.runtime.standard_webhooks import decode_secret, signed_headers
from services.runtime.topics import create_topics, erasures_config, topic_names

RUN_DIR = Path(".run")
DEFAULT_PORTS = {"ingestion": 8080, "scoring": 8081, "notification": 8082}


def say(line: str) -> None:
    print(line, flush=True)


def demo_environment() -> dict[str, str]:
    """Secrets the demo needs; whatever the environment sets wins, the rest is made up for this run."""
    env = {}
    if not os.environ.get("GENERIC_WEBHOOK_SECRET"):
        env["GENERIC_WEBHOOK_SECRET"] = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    if not os.environ.get("IDENTITY_HMAC_KEY"):
        env["IDENTITY_HMAC_KEY"] = secrets.token_hex(32)
    return env


async def post_demo(ingest_url: str, secret: str) -> None:
    key = decode_secret(secret.split(maxsplit=1)[0])
    run_id = secrets.token_hex(3)
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=ingest_url, timeout=10) as client:
        for chapter, events in (("mentorship", mentorship(run_id, now)), ("pursuit", pursuit(run_id, now))):
            for event in events:
                body = json.dumps(event).encode()
                headers = signed_headers(key, f"msg-{event['event_id']}", body, int(time.time()))
                response = await client.post("/v1/webhooks/generic", content=body, headers=headers)
                if response.status_code != 202:
                    say(f"  webhook answered {response.status_code}: {response.text}")
            say(f"demo: posted the {chapter} story ({len(events)} events)")


async def print_alerts(consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
    while not stop.is_set():
        batches = await consumer.getmany(timeout_ms=500)
        for records in batches.values():
            for record in records:
                alert = Alert.model_validate_json(record.value or b"")
                say(f"ALERT [{alert.level.upper()}] {summary(alert)}")


async def serve(bootstrap: str, env: dict[str, str]) -> None:
    settings = ServiceSettings(kafka_bootstrap_servers=bootstrap)
    await create_topics(bootstrap, topic_names(settings), partitions=6, configs=erasures_config(settings))
    processes = []
    for name in SERVICES:
        port_setting = SERVICES[name][1]
        port = int(os.environ.get(port_setting, DEFAULT_PORTS[name]))
        processes.append(
            ServiceProcess(name, port, {**env, "KAFKA_BOOTSTRAP_SERVERS": bootstrap}, RUN_DIR / f"{name}.log")
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        for process in processes:
            process.start()
        for process in processes:
            await asyncio.to_thread(process.wait_ready)
            say(f"{process.name:<13} ready on {process.url}  (log: {process.log_path})")
        consumer = await open_reader(bootstrap, settings.topic_alerts, "end")
        try:
            printer = asyncio.create_task(print_alerts(consumer, stop))
            secret = env.get("GENERIC_WEBHOOK_SECRET") or os.environ["GENERIC_WEBHOOK_SECRET"]
            await post_demo(processes[0].url, secret)
            say("Serving. Webhooks: POST " + processes[0].url + "/v1/webhooks/generic. Ctrl-C stops everything.")
            await stop.wait()
            await printer
        finally:
            await consumer.stop()
    finally:
        say("stopping services…")
        for process in reversed(processes):
            await asyncio.to_thread(process.stop)


def main() -> None:
    env = demo_environment()
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    broker = None
    RUN_DIR.mkdir(exist_ok=True)
    if not bootstrap:
        broker = EmbeddedBroker(log_file=RUN_DIR / "broker.log")
        broker.start()
        bootstrap = broker.bootstrap
        say(f"embedded Kafka-protocol broker (Tansu, memory storage) on {bootstrap}")
    else:
        say(f"using Kafka at {bootstrap}")
    try:
        asyncio.run(serve(bootstrap, env))
    finally:
        if broker is not None:
            broker.stop()
        say("stopped.")
    sys.exit(0)


if __name__ == "__main__":
    main()
