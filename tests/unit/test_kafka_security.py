"""Kafka and Redis security settings: half a configuration is refused naming the setting, and every client gets
the same security from them."""

import ssl
from pathlib import Path

import pytest
from faststream.security import SASLScram512
from pydantic import SecretStr

from services.runtime.broker import kafka_client_options
from services.runtime.kafka_security import kafka_security
from services.runtime.settings import ServiceSettings
from tests.harness.certificates import Pki, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def refusal(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit):
        ServiceSettings.load()
    return capsys.readouterr().err


def test_sasl_ssl_without_a_username_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refusal(monkeypatch, capsys, KAFKA_SECURITY_PROTOCOL="SASL_SSL", KAFKA_SASL_PASSWORD="pw-never-shown")
    assert "  KAFKA_SASL_USERNAME: required when KAFKA_SECURITY_PROTOCOL is SASL_SSL" in err
    assert "pw-never-shown" not in err


def test_sasl_without_a_password_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refusal(monkeypatch, capsys, KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT", KAFKA_SASL_USERNAME="svc")
    assert "KAFKA_SASL_PASSWORD: required when KAFKA_SECURITY_PROTOCOL is SASL_PLAINTEXT" in err


def test_missing_ca_files_are_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    err = refusal(
        monkeypatch,
        capsys,
        KAFKA_SECURITY_PROTOCOL="SSL",
        KAFKA_SSL_CAFILE=str(tmp_path / "absent-ca.pem"),
        REDIS_SSL_CAFILE=str(tmp_path / "absent-redis-ca.pem"),
    )
    assert "KAFKA_SSL_CAFILE: Path does not point to a file" in err
    assert "REDIS_SSL_CAFILE: Path does not point to a file" in err


def test_an_unknown_protocol_or_mechanism_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refusal(monkeypatch, capsys, KAFKA_SECURITY_PROTOCOL="TLS", KAFKA_SASL_MECHANISM="SCRAM-SHA-1")
    assert "KAFKA_SECURITY_PROTOCOL: Input should be 'PLAINTEXT', 'SSL', 'SASL_PLAINTEXT' or 'SASL_SSL'" in err
    assert "KAFKA_SASL_MECHANISM: Input should be" in err


def test_a_ca_file_without_tls_is_refused_rather_than_ignored(pki: Pki) -> None:
    with pytest.raises(ValueError, match="KAFKA_SSL_CAFILE: only used when KAFKA_SECURITY_PROTOCOL is SSL or SASL_SSL"):
        ServiceSettings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="svc",
                        kafka_sasl_password=SecretStr("pw"), kafka_ssl_cafile=pki.ca)  # fmt: skip


def test_plaintext_clients_get_only_the_bootstrap_servers() -> None:
    settings = ServiceSettings(kafka_bootstrap_servers="a:9092,b:9092")
    assert kafka_client_options(settings) == {"bootstrap_servers": ["a:9092", "b:9092"]}
    assert kafka_security(settings) is None


def test_sasl_ssl_clients_authenticate_and_verify_the_broker_against_the_ca(pki: Pki) -> None:
    settings = ServiceSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="svc",
        kafka_sasl_password=SecretStr("pw"),
        kafka_ssl_cafile=pki.ca,
    )
    options = kafka_client_options(settings)
    context = options.pop("ssl_context")
    assert options == {
        "bootstrap_servers": ["localhost:9092"],
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "svc",
        "sasl_plain_password": "pw",
    }
    assert isinstance(context, ssl.SSLContext)
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert any(cert["subject"] == ((("commonName", "ca"),),) for cert in context.get_ca_certs())
    broker_security = kafka_security(settings)
    assert isinstance(broker_security, SASLScram512)
    assert broker_security.use_ssl
    assert "pw" not in repr(settings)


def test_mtls_clients_present_their_certificate(pki: Pki) -> None:
    settings = ServiceSettings(
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=pki.ca,
        kafka_ssl_certfile=pki.client_cert,
        kafka_ssl_keyfile=pki.client_key,
    )
    options = kafka_client_options(settings)
    assert options["security_protocol"] == "SSL"
    assert "sasl_mechanism" not in options
