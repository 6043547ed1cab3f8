"""`rapport-guard alerts [--follow]`: the alerts on the broker `make run` started, one line each, as it prints them.

The broker is `--bootstrap`, else `KAFKA_BOOTSTRAP_SERVERS`, else the address `make run` recorded in `.run/broker`.
"""

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from typing import Any

from services.devstack.alert_feed import print_alerts
from services.devstack.broker_address import find_broker
from services.devstack.topic_reader import open_reader
from services.runtime.kafka_security import kafka_security_options
from services.runtime.settings import ServiceSettings


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subparsers.add_parser(
        "alerts",
        help="print the alerts on the alerts topic, one line each",
        description="Print every alert on the alerts topic, one line each, then stop (or keep going with --follow).",
    )
    parser.add_argument("--follow", "-f", action="store_true", help="keep printing new alerts until Ctrl-C")
    parser.add_argument("--bootstrap", help="host:port of the broker (default: the one `make run` started)")
    parser.set_defaults(run=run)


def say(line: str) -> None:
    print(line, flush=True)


def run(args: argparse.Namespace) -> int:
    bootstrap = args.bootstrap or find_broker(os.environ)
    if bootstrap is None:
        sys.stderr.write(
            "rapport-guard alerts: no broker to read from; start `make run` in this directory, "
            "or set KAFKA_BOOTSTRAP_SERVERS or --bootstrap\n"
        )
        return 2
    settings = ServiceSettings.load()
    asyncio.run(tail(bootstrap, settings.topic_alerts, follow=args.follow, security=kafka_security_options(settings)))
    return 0


async def tail(bootstrap: str, topic: str, *, follow: bool, security: Mapping[str, Any] | None = None) -> int:
    """`security`: the KAFKA_SECURITY_* settings as aiokafka options, for a secured cluster."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    consumer = await open_reader(bootstrap, topic, "beginning", security=security)
    try:
        return await print_alerts(consumer, say, stop, follow=follow)
    finally:
        await consumer.stop()
