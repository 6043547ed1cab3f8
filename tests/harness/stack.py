"""The three services as real processes against a test broker, with secrets made for the run."""

import asyncio
import base64
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from services.devstack.ports import free_port
from services.devstack.processes import SERVICES, ServiceProcess
from services.devstack.topic_reader import open_reader
from services.runtime.settings import ServiceSettings
from services.runtime.standard_webhooks import decode_secret, signed_headers
from services.runtime.topics import create_topics, erasures_config, topic_names
from tests.harness.api_keys import CallerKey, operator_keys_file


@dataclass
class Stack:
    bootstrap: str
    secret: str
    identity_key: str
    processes: dict[str, ServiceProcess]
    operator: CallerKey
    """A key that may do everything for every tenant, listed in the stack's API_KEYS_FILE."""
    settings: ServiceSettings
    """The topic names the stack's processes use."""

    @property
    def auth(self) -> dict[str, str]:
        """Headers that authenticate a call to scoring's API as the operator."""
        return self.operator.headers

    def url(self, service: str) -> str:
        return self.processes[service].url

    def post_generic(self, payload: Any, *, key: bytes | None = None, timestamp: int | None = None) -> httpx.Response:
        body = json.dumps(payload).encode()
        headers = signed_headers(
            key or decode_secret(self.secret),
            f"msg-{secrets.token_hex(8)}",
            body,
            timestamp if timestamp is not None else int(time.time()),
        )
        return httpx.post(f"{self.url('ingestion')}/v1/webhooks/generic", content=body, headers=headers, timeout=15)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def own_topics(name: str) -> dict[str, str]:
    """Topics and consumer groups no other stack on the shared test broker uses. A scorer in the same group as the
    session stack's would split the partitions with it, and its API would not hold half the contacts posted."""
    topics = {
        f"TOPIC_{field.removeprefix('topic_').upper()}": f"{name}.{str(info.default).removeprefix('outreach.')}"
        for field, info in ServiceSettings.model_fields.items()
        if field.startswith("topic_")
    }
    return topics | {"SCORING_GROUP_ID": f"{name}-scoring", "NOTIFICATION_GROUP_ID": f"{name}-notification"}


@contextmanager
def running_stack(
    bootstrap: str, log_dir: Path, names: tuple[str, ...] = tuple(SERVICES), **env: str
) -> Iterator[Stack]:
    settings = ServiceSettings.model_validate(
        {key.lower(): value for key, value in env.items() if key.startswith("TOPIC_")}
    )
    asyncio.run(create_topics(bootstrap, topic_names(settings), partitions=3, configs=erasures_config(settings)))
    secret = new_secret()
    identity_key = secrets.token_hex(32)
    operator, keys_file = operator_keys_file(log_dir)
    base_env = {
        "API_KEYS_FILE": str(keys_file),
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "GENERIC_WEBHOOK_SECRET": secret,
        "IDENTITY_HMAC_KEY": identity_key,
        "LOG_LEVEL": "INFO",
        **env,
    }
    processes = {name: ServiceProcess(name, free_port(), base_env, log_dir / f"{name}.log") for name in names}
    try:
        for process in processes.values():
            process.start()
        for process in processes.values():
            process.wait_ready()
        yield Stack(bootstrap, secret, identity_key, processes, operator, settings)
    finally:
        for process in processes.values():
            process.stop()


async def read_topic(
    bootstrap: str, topic: str, until: Any, wait_seconds: float = 60
) -> list[tuple[bytes | None, bytes, dict[str, bytes]]]:
    """Read a topic from the beginning with a plain aiokafka consumer until `until(records)` is true."""
    consumer = await open_reader(bootstrap, topic, "beginning")
    try:
        records: list[tuple[bytes | None, bytes, dict[str, bytes]]] = []
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline and not until(records):
            batches = await consumer.getmany(timeout_ms=500)
            for batch in batches.values():
                records.extend((r.key, r.value or b"", dict(r.headers)) for r in batch)
        return records
    finally:
        await consumer.stop()
