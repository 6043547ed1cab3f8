"""A single Apache Kafka node with secured listeners beside its plain one.

The broker keeps `PLAINTEXT` for itself (inter-broker, controller) and adds `SASL_SSL` (SCRAM users created when the
log directory is formatted) and `MTLS` (TLS with `ssl.client.auth=required`), both signed by the run's CA.
"""

import base64
import secrets
import subprocess

from services.devstack.apache_kafka import ApacheKafka
from services.devstack.ports import free_port
from tests.harness.certificates import KEYSTORE_PASSWORD, Pki


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
