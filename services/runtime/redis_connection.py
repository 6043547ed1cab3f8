"""The one place that opens a Redis client, so that every Redis the services use is reached the same way.

A `rediss://user:password@host:port/db` URL gives TLS and an ACL user; `REDIS_SSL_CAFILE` (passed as `ca_file`) names
the CA that signed the server's certificate when it is not one the system trusts.
"""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis


def connect_redis(url: str, timeout_seconds: float, ca_file: Path | None = None) -> "Redis":
    """A client that fails fast: callers turn a slow or absent Redis into their own unavailability, not a hang."""
    tls: dict[str, Any] = {"ssl_ca_certs": str(ca_file)} if ca_file is not None and url.startswith("rediss://") else {}
    return Redis.from_url(
        url,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        retry_on_timeout=False,
        **tls,
    )


def redis_address(url: str) -> str:
    """`Redis at host:port`, for messages: the URL itself may hold a password and is never shown."""
    parts = urlsplit(url)
    return f"Redis at {parts.hostname}:{parts.port or 6379}"
