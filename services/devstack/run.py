"""`make run`: a broker (chosen by KAFKA_IMPL unless KAFKA_BOOTSTRAP_SERVERS is set), topics, three services, the demo.

Prints every alert as it arrives, and how to tail them with kcat or Python, and keeps serving until Ctrl-C, then
stops everything it started.
"""

import asyncio
import base64
import json
import os
import secrets
import shlex
import signal
import sys
import time
from datetime import UTC, datetime

import httpx

from services.devstack.alert_feed import print_alerts
from services.devstack.apache_kafka import ApacheKafka, kafka_version
from services.devstack.broker_address import RUN_DIR, forget_broker, record_broker
from services.devstack.broker_choice import chosen_impl
from services.devstack.demo_keys import DemoKey, banner, prepare_demo_key
from services.devstack.embedded_broker import EmbeddedBroker
from services.devstack.processes import SERVICES, ServiceProcess
from services.devstack.story import mentorship, pursuit
from services.devstack.tail_commands import kcat_command, python_tail_command
from services.devstack.topic_reader import open_reader
from services.runtime.kafka_security import kafka_security_options
from services.runtime.settings import ServiceSettings
from services.runtime.standard_webhooks import decode_secret, signed_headers
from services.runtime.topics import create_topics, erasures_config, topic_names

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


def webhook_secret_line(secret: str, *, made_up: bool) -> str:
    """A secret made up for the run is shown once, like the demo's API key, or no one could sign a webhook of
    their own; one the user set is never printed."""
    if made_up:
        return f"  signed with the secret made up for this run: {secret} (set GENERIC_WEBHOOK_SECRET to choose it)"
    return "  signed with your GENERIC_WEBHOOK_SECRET"


async def post_demo(ingest_url: str, secret: str) -> None:
    """Each story in one signed request, as a CRM sends a backfill of the weeks behind it."""
    key = decode_secret(secret.split(maxsplit=1)[0])
    run_id = secrets.token_hex(3)
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=ingest_url, timeout=10) as client:
        for chapter, events in (("mentorship", mentorship(run_id, now)), ("pursuit", pursuit(run_id, now))):
            body = json.dumps({"events": events}).encode()
            headers = signed_headers(key, f"msg-demo-{run_id}-{chapter}", body, int(time.time()))
            response = await client.post("/v1/webhooks/generic", content=body, headers=headers)
            if response.status_code != 202:
                say(f"  webhook answered {response.status_code}: {response.text}")
            say(f"demo: posted the {chapter} story ({len(events)} events)")


def tail_instructions(kind: str, bootstrap: str, topic: str) -> list[str]:
    lines = [
        f"Tail the alerts ({topic}):",
        "  rapport-guard alerts --follow      (or: make alerts)",
        "  " + shlex.join(kcat_command(kind, bootstrap, topic)),
        "  " + python_tail_command(bootstrap, topic),
    ]
    if kind == "embedded":
        lines.append(
            "  The embedded broker serves kcat only with the -X settings above and an absolute offset (-o 0),"
            " and no kcat consumer groups (-G); KAFKA_IMPL=apache serves every client."
        )
    return lines


async def serve(bootstrap: str, kind: str, env: dict[str, str], demo_key: DemoKey) -> None:
    settings = ServiceSettings(kafka_bootstrap_servers=bootstrap)
    security = kafka_security_options(settings)
    await create_topics(
        bootstrap, topic_names(settings), partitions=6, configs=erasures_config(settings), security=security
    )
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
        consumer = await open_reader(bootstrap, settings.topic_alerts, "end", security=security)
        try:
            printer = asyncio.create_task(print_alerts(consumer, say, stop))
            secret = env.get("GENERIC_WEBHOOK_SECRET") or os.environ["GENERIC_WEBHOOK_SECRET"]
            await post_demo(processes[0].url, secret)
            for line in tail_instructions(kind, bootstrap, settings.topic_alerts):
                say(line)
            say("Serving. Webhooks: POST " + processes[0].url + "/v1/webhooks/generic. Ctrl-C stops everything.")
            say(webhook_secret_line(secret, made_up="GENERIC_WEBHOOK_SECRET" in env))
            for line in banner(demo_key, next(p.url for p in processes if p.name == "scoring")):
                say(line)
            await stop.wait()
            await printer
        finally:
            await consumer.stop()
    finally:
        say("stopping services…")
        for process in reversed(processes):
            await asyncio.to_thread(process.stop)


def start_broker(kind: str) -> EmbeddedBroker | ApacheKafka:
    """The chosen broker, not yet started; the caller stops it, even when Ctrl-C cuts the start short."""
    log = RUN_DIR / "broker.log"
    if kind == "apache":
        say(f"starting Apache Kafka {kafka_version()} (single node, KRaft; log: {log})…")
        return ApacheKafka(log_path=log, progress=say)
    say(f"starting the embedded broker (Tansu, memory storage; log: {log})…")
    return EmbeddedBroker(log_file=log)


def main() -> None:
    env = demo_environment()
    RUN_DIR.mkdir(exist_ok=True)
    demo_key = prepare_demo_key(RUN_DIR)
    env["API_KEYS_FILE"] = str(demo_key.keys_file.resolve())
    broker: EmbeddedBroker | ApacheKafka | None = None
    try:
        started = time.monotonic()
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if bootstrap:
            kind = "external"
        else:
            try:
                kind = chosen_impl(os.environ)
            except (ValueError, RuntimeError) as error:
                sys.exit(f"make run: {error}")
            broker = start_broker(kind)
            broker.start()
            bootstrap = broker.bootstrap
        say(f"broker: {kind} at {bootstrap}")
        if broker is not None:
            say(f"  started in {time.monotonic() - started:.1f} s")
        record_broker(bootstrap)
        asyncio.run(serve(bootstrap, kind, env, demo_key))
    except KeyboardInterrupt:
        say("interrupted.")
    finally:
        forget_broker()
        if isinstance(broker, ApacheKafka):
            broker.destroy()
        elif broker is not None:
            broker.stop()
        say("stopped.")
    sys.exit(0)


if __name__ == "__main__":
    main()
