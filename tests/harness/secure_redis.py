"""Debian's redis-server reachable only over TLS, with an ACL user and a password on the default user."""

from tests.harness.certificates import Pki
from tests.harness.redis_server import RedisServer


class SecureRedis(RedisServer):
    """`url(password)` is the `rediss://` URL of the ACL user `svc`; clients verify the server against `pki.ca`."""

    def __init__(self, pki: Pki, password: str) -> None:
        # The plain port is closed (`--port 0`); the TLS port takes the number the plain one would have had.
        super().__init__(durable=False)
        self.extra_args = [
            "--port", "0",
            "--tls-port", str(self.port),
            "--tls-cert-file", str(pki.server_cert),
            "--tls-key-file", str(pki.server_key),
            "--tls-ca-cert-file", str(pki.ca),
            "--tls-auth-clients", "no",
            "--requirepass", f"default-{password}",
            "--user", "svc", "on", f">{password}", "~*", "&*", "+@all",
        ]  # fmt: skip

    def user_url(self, password: str, user: str = "svc") -> str:
        return f"rediss://{user}:{password}@127.0.0.1:{self.port}/0"
