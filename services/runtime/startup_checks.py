"""Credentials and certificates are checked once before a service serves, so a wrong one stops it at start with
a message naming the setting to fix. A cluster or Redis that merely does not answer yet is no reason to stop:
the service starts and reports it on `/readyz` (see `lifecycle.BrokerConnection`)."""

import asyncio
import ssl
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from aiokafka.conn import create_conn
from aiokafka.errors import KafkaError, SaslAuthenticationFailed, UnsupportedSaslMechanismError
from aiokafka.helpers import create_ssl_context
from redis.exceptions import AuthenticationError, RedisError

from services.runtime.kafka_security import kafka_security_options
from services.runtime.redis_connection import connect_redis, redis_address
from services.runtime.settings import ServiceSettings

_HOSTNAME_MISMATCH = 62
"""OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH: the certificate is trusted but names another host."""
_NOT_TLS = "WRONG_VERSION_NUMBER"
"""OpenSSL's reason when the other end answered a TLS hello with something that is not TLS."""


class AccessRefused(Exception):
    """A broker or Redis answered and refused the configured credentials or certificates."""


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind a connection failure, however deep the client library wrapped it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _untrusted(
    where: str, exc: ssl.SSLCertVerificationError, setting: str, ca_file: Path | None, host_setting: str
) -> AccessRefused:
    reason = exc.verify_message or exc.reason or str(exc)
    if exc.verify_code == _HOSTNAME_MISMATCH:
        return AccessRefused(f"{host_setting}: the certificate of {where} does not name that host ({reason})")
    trusted_by = f"{ca_file}" if ca_file is not None else "the system CAs"
    return AccessRefused(f"{setting}: the certificate of {where} is not trusted by {trusted_by} ({reason})")


def _load_kafka_tls(settings: ServiceSettings) -> None:
    if not settings.kafka_security_protocol.endswith("SSL"):
        return
    try:
        create_ssl_context(cafile=settings.kafka_ssl_cafile)
    except (ssl.SSLError, OSError) as exc:
        raise AccessRefused(f"KAFKA_SSL_CAFILE: not a PEM CA bundle ({exc})") from None
    try:
        create_ssl_context(certfile=settings.kafka_ssl_certfile, keyfile=settings.kafka_ssl_keyfile)
    except (ssl.SSLError, OSError) as exc:
        raise AccessRefused(f"KAFKA_SSL_CERTFILE: cannot load the client certificate and key ({exc})") from None


async def check_kafka_access(settings: ServiceSettings) -> None:
    """Open one connection to the first broker that answers, as every client will; raise `AccessRefused` when it
    refuses the password, the mechanism or a certificate. Takes at most the request timeout per listed broker."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return
    _load_kafka_tls(settings)
    options = kafka_security_options(settings)
    timeout = settings.kafka_request_timeout_ms / 1000
    for server in settings.kafka_bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        where = f"the broker at {server.strip()}"
        try:
            async with asyncio.timeout(timeout):
                connection = await create_conn(
                    host, int(port), request_timeout_ms=settings.kafka_request_timeout_ms, **options
                )
        except SaslAuthenticationFailed:
            raise AccessRefused(
                f"KAFKA_SASL_PASSWORD: authentication failed for user '{settings.kafka_sasl_username}' "
                f"({settings.kafka_sasl_mechanism}) on {server.strip()}"
            ) from None
        except UnsupportedSaslMechanismError:
            raise AccessRefused(
                f"KAFKA_SASL_MECHANISM: {where} does not offer {settings.kafka_sasl_mechanism}"
            ) from None
        except (OSError, TimeoutError, KafkaError) as exc:
            tls = _tls_failure(exc)
            if tls is None:
                continue
            if isinstance(tls, ssl.SSLCertVerificationError):
                raise _untrusted(
                    where, tls, "KAFKA_SSL_CAFILE", settings.kafka_ssl_cafile, "KAFKA_BOOTSTRAP_SERVERS"
                ) from None
            if tls.reason == _NOT_TLS:
                raise AccessRefused(
                    f"KAFKA_SECURITY_PROTOCOL: {where} does not speak TLS on that port ({tls.reason})"
                ) from None
            hint = "" if settings.kafka_ssl_certfile else "; it may require a client certificate"
            raise AccessRefused(f"KAFKA_SSL_CERTFILE: {where} refused the TLS handshake ({tls.reason}){hint}") from None
        connection.close()
        return


async def kafka_refusal(settings: ServiceSettings) -> str | None:
    """Why Kafka refuses the configured credentials or certificates, or None (for `BrokerConnection`'s retries)."""
    try:
        await check_kafka_access(settings)
    except AccessRefused as exc:
        return str(exc)
    return None


async def check_redis_access(setting: str, url: str, ca_file: Path | None, timeout_seconds: float = 5) -> None:
    """One PING with the URL's user and password; raise `AccessRefused` naming `setting` (never its value, which
    holds the password) when Redis refuses them or its certificate."""
    if not url.startswith(("redis://", "rediss://")):
        return
    parts = urlsplit(url)
    where = redis_address(url)
    client = connect_redis(url, timeout_seconds, ca_file)
    try:
        await client.ping()
    except AuthenticationError:
        user = parts.username or "default"
        raise AccessRefused(f"{setting}: {where} refused user '{user}' (wrong password, or no such ACL user)") from None
    except (RedisError, OSError) as exc:
        tls = _tls_failure(exc)
        if isinstance(tls, ssl.SSLCertVerificationError):
            raise _untrusted(where, tls, "REDIS_SSL_CAFILE", ca_file, setting) from None
        if tls is not None:
            raise AccessRefused(f"{setting}: the TLS handshake with {where} failed ({tls.reason})") from None
    finally:
        await client.aclose()


async def _check_all(settings: ServiceSettings, redis_urls: Mapping[str, str]) -> None:
    await check_kafka_access(settings)
    for setting, url in redis_urls.items():
        await check_redis_access(setting, url, settings.redis_ssl_cafile)


def refuse_to_start_without_access(settings: ServiceSettings, redis_urls: Mapping[str, str]) -> None:
    """For a service's `main`: stop the process (exit 2) with the named reason when access is refused."""
    try:
        asyncio.run(_check_all(settings, redis_urls))
    except AccessRefused as exc:
        sys.stderr.write(f"{exc}\n")
        raise SystemExit(2) from None
