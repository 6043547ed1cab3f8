"""Certificates made for a test run, and a single Apache Kafka node with secured listeners beside its plain one.

The broker keeps `PLAINTEXT` for itself (inter-broker, controller) and adds `SASL_SSL` (SCRAM users created when the
log directory is formatted) and `MTLS` (TLS with `ssl.client.auth=required`), both signed by the run's CA.
"""

import base64
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from services.devstack.embedded_broker import free_port
from tests.harness.apache_kafka import ApacheKafka

KEYSTORE_PASSWORD = "test-keystore"
EC_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1")
"""Elliptic-curve keys: made in milliseconds where RSA keys take seconds on a busy machine."""


def _openssl(*args: str) -> None:
    subprocess.run([shutil.which("openssl") or "openssl", *args], check=True, capture_output=True, timeout=60)


@dataclass(frozen=True)
class Pki:
    """PEM files under one folder: a CA, a server certificate for 127.0.0.1/localhost, a client certificate, and
    an unrelated CA that a test can name to be refused."""

    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def other_ca(self) -> Path:
        return self.folder / "other-ca.pem"

    @property
    def server_cert(self) -> Path:
        return self.folder / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.folder / "server.key"

    @property
    def server_keystore(self) -> Path:
        return self.folder / "server.p12"

    @property
    def client_cert(self) -> Path:
        return self.folder / "client.pem"

    @property
    def client_key(self) -> Path:
        return self.folder / "client.key"


def _self_signed_ca(folder: Path, name: str) -> None:
    _openssl(
        "req", "-x509", *EC_KEY, "-nodes", "-days", "2", "-subj", f"/CN={name}",
        "-keyout", str(folder / f"{name}.key"), "-out", str(folder / f"{name}.pem"),
    )  # fmt: skip


def _signed(folder: Path, name: str, subject: str, extensions: str) -> None:
    key, csr, ext = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.ext"
    ext.write_text(extensions)
    _openssl("req", *EC_KEY, "-nodes", "-subj", subject, "-keyout", str(key), "-out", str(csr))
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(folder / "ca.pem"), "-CAkey", str(folder / "ca.key"),
        "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(folder / f"{name}.pem"),
    )  # fmt: skip


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    _self_signed_ca(folder, "ca")
    _self_signed_ca(folder, "other-ca")
    _signed(
        folder,
        "server",
        "/CN=localhost",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    _signed(folder, "client", "/CN=svc-client", "extendedKeyUsage=clientAuth\n")
    pki = Pki(folder)
    _openssl(
        "pkcs12", "-export", "-in", str(pki.server_cert), "-inkey", str(pki.server_key), "-certfile", str(pki.ca),
        "-name", "broker", "-passout", f"pass:{KEYSTORE_PASSWORD}", "-out", str(pki.server_keystore),
    )  # fmt: skip
    return pki


class SecureKafka(ApacheKafka):
    """`sasl_bootstrap` takes SCRAM-SHA-512/256 users over TLS; `mtls_bootstrap` takes clients with a certificate
    signed by the run's CA; `bootstrap` stays plain for the test's own checks."""

    def __init__(self, pki: Pki, users: dict[str, str]) -> None:
        self.pki = pki
        self.users = users
        self.sasl_port = free_port()
        self.mtls_port = free_port()
        super().__init__()

    @property
    def sasl_bootstrap(self) -> str:
        return f"127.0.0.1:{self.sasl_port}"

    @property
    def mtls_bootstrap(self) -> str:
        return f"127.0.0.1:{self.mtls_port}"

    def _write_config(self) -> None:
        super()._write_config()
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        secured = {
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port},"
            f"SASL_SSL://127.0.0.1:{self.sasl_port},MTLS://127.0.0.1:{self.mtls_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port},SASL_SSL://127.0.0.1:{self.sasl_port},"
            f"MTLS://127.0.0.1:{self.mtls_port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,MTLS:SSL",
            "sasl.enabled.mechanisms": "SCRAM-SHA-512,SCRAM-SHA-256",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": scram,
            "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config": scram,
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": str(self.pki.server_keystore),
            "ssl.keystore.password": KEYSTORE_PASSWORD,
            "ssl.key.password": KEYSTORE_PASSWORD,
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.pki.ca),
            "listener.name.mtls.ssl.client.auth": "required",
        }
        # A later line of a properties file wins over an earlier one with the same key.
        with self.config.open("a") as config:
            config.write("".join(f"{key}={value}\n" for key, value in secured.items()))

    def _format(self) -> None:
        """Format with the SCRAM users in the initial metadata (KRaft has no ZooKeeper to add them to later)."""
        cluster_id = "A" + base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")[1:]
        scram = [
            arg
            for name, password in self.users.items()
            for mechanism in ("SCRAM-SHA-512", "SCRAM-SHA-256")
            for arg in ("--add-scram", f"{mechanism}=[name={name},password={password}]")
        ]
        subprocess.run(
            self._java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(self.config), *scram),
            check=True,
            capture_output=True,
            timeout=120,
        )
