"""The services over a secured Apache Kafka: SASL_SSL with SCRAM users and mutual TLS, and the start-up refusals
that name the setting to fix instead of retrying for ever."""

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from services.devstack.ports import free_port
from services.devstack.processes import ServiceProcess
from services.devstack.topic_reader import open_reader
from services.runtime.kafka_security import kafka_security_options
from services.runtime.settings import ServiceSettings
from tests.harness.api_keys import operator_keys_file
from tests.harness.brokers import chosen_impl
from tests.harness.certificates import Pki, make_pki
from tests.harness.secure_kafka import SecureKafka
from tests.harness.stack import Stack, new_secret
from tests.integration.test_walking_skeleton import unanswered_emails

PASSWORD = secrets.token_urlsafe(12)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def secure_kafka(pki: Pki) -> Iterator[SecureKafka]:
    if chosen_impl() != "apache":
        pytest.skip("secured listeners need Apache Kafka (KAFKA_IMPL=apache, java and mvn)")
    broker = SecureKafka(pki, {"svc": PASSWORD})
    broker.start()
    try:
        yield broker
    finally:
        broker.destroy()


def sasl_env(broker: SecureKafka, ca: Path, password: str = PASSWORD) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": broker.sasl_bootstrap,
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SASL_USERNAME": "svc",
        "KAFKA_SASL_PASSWORD": password,
        "KAFKA_SSL_CAFILE": str(ca),
        "KAFKA_REQUEST_TIMEOUT_MS": "5000",
    }


def mtls_env(broker: SecureKafka, pki: Pki) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": broker.mtls_bootstrap,
        "KAFKA_SECURITY_PROTOCOL": "SSL",
        "KAFKA_SSL_CAFILE": str(pki.ca),
        "KAFKA_SSL_CERTFILE": str(pki.client_cert),
        "KAFKA_SSL_KEYFILE": str(pki.client_key),
        "KAFKA_REQUEST_TIMEOUT_MS": "5000",
    }


def create_topics_as_a_process(env: dict[str, str]) -> None:
    created = subprocess.run(
        [sys.executable, "-m", "services.runtime.topics", "--partitions", "3"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stderr


@contextmanager
def services_on(env: dict[str, str], names: tuple[str, ...], log_dir: Path) -> Iterator[Stack]:
    secret = new_secret()
    operator, keys_file = operator_keys_file(log_dir)
    service_env = {
        **env,
        "GENERIC_WEBHOOK_SECRET": secret,
        "IDENTITY_HMAC_KEY": secrets.token_hex(32),
        "API_KEYS_FILE": str(keys_file),
    }
    processes = {name: ServiceProcess(name, free_port(), service_env, log_dir / f"{name}.log") for name in names}
    try:
        for process in processes.values():
            process.start()
        for process in processes.values():
            process.wait_ready(90)
        yield Stack(
            env["KAFKA_BOOTSTRAP_SERVERS"],
            secret,
            service_env["IDENTITY_HMAC_KEY"],
            processes,
            operator,
            ServiceSettings(),
        )
    finally:
        for process in processes.values():
            process.stop()
    assert PASSWORD not in "".join(process.log_path.read_text() for process in processes.values())


async def read_until(env: dict[str, str], topic: str, event_ids: set[str], wait_seconds: float = 60) -> set[str]:
    """The ids of `event_ids` found on `topic`, read through the same secured listener as `make run`'s printer."""
    settings = ServiceSettings.model_validate({key.lower(): value for key, value in env.items()})
    reader = await open_reader(
        settings.kafka_bootstrap_servers, topic, "beginning", security=kafka_security_options(settings)
    )
    found: set[str] = set()
    try:
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline and found < event_ids:
            for batch in (await reader.getmany(timeout_ms=500)).values():
                found |= {json.loads(record.value or b"{}").get("event_id") for record in batch} & event_ids
    finally:
        await reader.stop()
    return found


@pytest.mark.slow
def test_an_event_in_becomes_a_score_out_over_sasl_ssl(secure_kafka: SecureKafka, pki: Pki, tmp_path: Path) -> None:
    env = sasl_env(secure_kafka, pki.ca)
    create_topics_as_a_process(env)
    with services_on(env, ("ingestion", "scoring"), tmp_path) as stack:
        contact = f"c-{secrets.token_hex(4)}"
        response = stack.post_generic({"events": unanswered_emails(contact, 2)})
        assert response.status_code == 202, response.text
        expected = {f"{contact}-0", f"{contact}-1"}
        assert asyncio.run(read_until(env, "outreach.scores", expected)) == expected


@pytest.mark.slow
def test_ingestion_publishes_over_mutual_tls(secure_kafka: SecureKafka, pki: Pki, tmp_path: Path) -> None:
    env = mtls_env(secure_kafka, pki)
    create_topics_as_a_process(env)
    with services_on(env, ("ingestion",), tmp_path) as stack:
        contact = f"c-{secrets.token_hex(4)}"
        response = stack.post_generic({"events": unanswered_emails(contact, 1)})
        assert response.status_code == 202, response.text
        assert asyncio.run(read_until(env, "outreach.events", {f"{contact}-0"})) == {f"{contact}-0"}


def refused_start(env: dict[str, str], log: Path) -> str:
    """Start scoring and return its output once it has exited; it must exit 2, well within a minute."""
    process = ServiceProcess("scoring", free_port(), {**env, "IDENTITY_HMAC_KEY": "k" * 32}, log)
    process.start()
    assert process.process is not None
    assert process.process.wait(60) == 2, process.log_tail()
    return log.read_text()


def test_a_wrong_password_stops_the_service_naming_the_setting(
    secure_kafka: SecureKafka, pki: Pki, tmp_path: Path
) -> None:
    wrong = secrets.token_urlsafe(12)
    output = refused_start(sasl_env(secure_kafka, pki.ca, password=wrong), tmp_path / "scoring.log")
    assert "KAFKA_SASL_PASSWORD: authentication failed for user 'svc' (SCRAM-SHA-512)" in output
    assert wrong not in output


def test_an_untrusted_broker_certificate_stops_the_service_naming_the_setting(
    secure_kafka: SecureKafka, pki: Pki, tmp_path: Path
) -> None:
    output = refused_start(sasl_env(secure_kafka, pki.other_ca), tmp_path / "scoring.log")
    assert f"KAFKA_SSL_CAFILE: the certificate of the broker at {secure_kafka.sasl_bootstrap} is not trusted" in output


def test_mtls_without_a_client_certificate_stops_the_service_naming_the_setting(
    secure_kafka: SecureKafka, pki: Pki, tmp_path: Path
) -> None:
    env = mtls_env(secure_kafka, pki)
    del env["KAFKA_SSL_CERTFILE"], env["KAFKA_SSL_KEYFILE"]
    output = refused_start(env, tmp_path / "scoring.log")
    assert f"KAFKA_SSL_CERTFILE: the broker at {secure_kafka.mtls_bootstrap} refused the TLS handshake" in output
