"""Certificates made for a test run with openssl: a CA, a server certificate for 127.0.0.1 and localhost, a client
certificate, and an unrelated CA that a test names to be refused."""

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

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
