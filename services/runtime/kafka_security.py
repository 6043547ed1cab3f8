"""How every Kafka client of the services authenticates and encrypts: built once here from the settings.

FastStream's broker takes a `BaseSecurity`; bare aiokafka clients (admin, readers, the recovery consumers) take the
options FastStream itself derives from that same object, so the two cannot drift apart.
"""

import ssl
from typing import Any

from aiokafka.helpers import create_ssl_context
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from services.runtime.settings import ServiceSettings

_SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


def kafka_ssl_context(settings: ServiceSettings) -> ssl.SSLContext:
    """Verifies the brokers against `KAFKA_SSL_CAFILE` (or the system CAs) and presents the client certificate
    when one is set. Raises `ssl.SSLError` or `OSError` when a file is not a usable PEM."""
    context: ssl.SSLContext = create_ssl_context(
        cafile=settings.kafka_ssl_cafile,
        certfile=settings.kafka_ssl_certfile,
        keyfile=settings.kafka_ssl_keyfile,
    )
    return context


def kafka_security(settings: ServiceSettings) -> BaseSecurity | None:
    """The FastStream security for the configured protocol; None for PLAINTEXT."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = kafka_ssl_context(settings) if protocol.endswith("SSL") else None
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    password = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
    return _SASL[settings.kafka_sasl_mechanism](
        settings.kafka_sasl_username or "", password, ssl_context=context, use_ssl=protocol == "SASL_SSL"
    )


def kafka_security_options(settings: ServiceSettings) -> dict[str, Any]:
    """The aiokafka keyword arguments for the same security (`security_protocol`, `ssl_context`, `sasl_*`)."""
    options = parse_security(kafka_security(settings))
    return {key: value for key, value in options.items() if value is not None}
